import calendar
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.contracts import Position
from shared.invoicing.rating import (
    Charge,
    add_months,
    charges_for,
    charges_for_customer,
)
from shared.periods import Period
from shared.tax import TaxCategory
from tests.unit.fakes import repeatable

many = settings(repeatable, max_examples=300)


def make(**fields: Any) -> Position:
    values: dict[str, Any] = {
        "position_id": "K0000001-01",
        "customer_id": "C0000001",
        "contract_id": "K0000001",
        "product_id": "HOST-M",
        "description": "Webhosting M",
        "quantity": 1,
        "unit_net": Decimal("9.99"),
        "start": date(2024, 1, 1),
    }
    return Position(**(values | fields))


def only(position: Position, period: Period) -> Charge:
    charges = charges_for(position, period)
    assert len(charges) == 1, charges
    return charges[0]


def half_up_cents(amount: Fraction) -> Decimal:
    """Commercial rounding by hand, away from zero at exactly half a cent."""
    rounded = floor(abs(amount) * 100 + Fraction(1, 2))
    return Decimal(rounded if amount >= 0 else -rounded) / 100


def months_between(first: date, last: date) -> list[Period]:
    periods, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        periods.append(Period(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def billed(positions: list[Position], first: date, last: date) -> list[tuple[Period, Charge]]:
    """Every charge of the runs from the month of ``first`` to the month of ``last``."""
    return [
        (period, charge)
        for period in months_between(first, last)
        for position in positions
        for charge in charges_for(position, period)
    ]


def days_of(charges: list[Charge]) -> Counter[date]:
    counts: Counter[date] = Counter()
    for charge in charges:
        for offset in range(charge.service_days):
            counts[charge.service_start + timedelta(days=offset)] += 1
    return counts


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# Example cases of a German hoster, cent amounts worked out by hand.


def test_a_default_position_bills_the_calendar_month_in_advance() -> None:
    position = make(start=date(2024, 1, 1))

    charge = only(position, Period(2026, 2))

    assert (position.billing_period, position.timing, position.billing_anchor) == (
        "monthly",
        "advance",
        "fixed",
    )
    assert (charge.service_start, charge.service_end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (charge.fraction, charge.net) == (Decimal(1), Decimal("9.99"))


def test_a_start_in_mid_month_bills_the_rest_of_the_month() -> None:
    position = make(start=date(2026, 3, 15))

    march = only(position, Period(2026, 3))
    april = only(position, Period(2026, 4))

    # 15..31 March are 17 of 31 days: 9.99 * 17 / 31 = 169.83 / 31 = 5.4783... -> 5.48
    assert (march.service_start, march.service_end) == (date(2026, 3, 15), date(2026, 3, 31))
    assert (march.service_days, march.cycle_days, march.net) == (17, 31, Decimal("5.48"))
    assert april.net == Decimal("9.99")
    assert charges_for(position, Period(2026, 2)) == []


def test_a_cancellation_bills_up_to_the_last_day_of_service() -> None:
    position = make(unit_net=Decimal("19.99"), end=date(2026, 2, 10))

    february = only(position, Period(2026, 2))

    # 1..10 February are 10 of 28 days: 19.99 * 10 / 28 = 199.90 / 28 = 7.1392... -> 7.14
    assert (february.service_end, february.net) == (date(2026, 2, 10), Decimal("7.14"))
    assert charges_for(position, Period(2026, 3)) == []


def test_a_yearly_domain_is_billed_a_year_ahead_on_its_anniversary() -> None:
    domain = make(
        product_id="DOM-DE",
        kind="domain",
        unit_net=Decimal("9.90"),
        billing_period="yearly",
        billing_anchor="start",
        start=date(2025, 3, 15),
    )

    charge = only(domain, Period(2026, 3))

    assert (charge.service_start, charge.service_end) == (date(2026, 3, 15), date(2027, 3, 14))
    assert (charge.cycle_days, charge.net) == (365, Decimal("9.90"))
    assert charges_for(domain, Period(2026, 2)) == []
    assert charges_for(domain, Period(2026, 4)) == []


def test_a_domain_registered_on_a_leap_day_renews_on_the_last_day_of_february() -> None:
    domain = make(
        kind="domain",
        unit_net=Decimal("14.90"),
        billing_period="yearly",
        billing_anchor="start",
        start=date(2024, 2, 29),
    )

    renewals = [only(domain, Period(year, 2)) for year in (2025, 2027, 2028)]

    assert [(c.service_start, c.service_end) for c in renewals] == [
        (date(2025, 2, 28), date(2026, 2, 27)),
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2028, 2, 29), date(2029, 2, 27)),
    ]
    assert [c.cycle_days for c in renewals] == [365, 366, 365]
    assert {c.net for c in renewals} == {Decimal("14.90")}


def test_cycles_anchored_on_the_31st_clamp_to_shorter_months() -> None:
    position = make(billing_anchor="start", start=date(2026, 1, 31))

    cycles = [
        (c.service_start, c.service_end)
        for m in (1, 2, 3, 4)
        for c in charges_for(position, Period(2026, m))
    ]

    assert cycles == [
        (date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 3, 30)),
        (date(2026, 3, 31), date(2026, 4, 29)),
        (date(2026, 4, 30), date(2026, 5, 30)),
    ]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_a_fixed_billing_day_after_the_start_day_bills_the_stub_and_the_next_cycle() -> None:
    server = make(unit_net=Decimal("12.50"), billing_day=15, start=date(2026, 3, 10))

    stub, first = charges_for(server, Period(2026, 3))

    # cycle 15 Feb..14 Mar has 28 days, 10..14 March are 5: 12.50 * 5 / 28 = 2.2321... -> 2.23
    assert (stub.service_start, stub.service_end, stub.cycle_days) == (
        date(2026, 3, 10),
        date(2026, 3, 14),
        28,
    )
    assert stub.net == Decimal("2.23")
    assert (first.service_start, first.service_end, first.net) == (
        date(2026, 3, 15),
        date(2026, 4, 14),
        Decimal("12.50"),
    )
    assert charges_for(server, Period(2026, 2)) == []


def test_a_fixed_billing_day_before_the_start_day_prorates_the_first_cycle() -> None:
    server = make(unit_net=Decimal("12.50"), billing_day=15, start=date(2026, 3, 20))

    march = only(server, Period(2026, 3))

    # cycle 15 Mar..14 Apr has 31 days, 20 Mar..14 Apr are 26: 12.50 * 26 / 31 = 10.4838... -> 10.48
    assert (march.service_start, march.service_end) == (date(2026, 3, 20), date(2026, 4, 14))
    assert (march.service_days, march.cycle_days, march.net) == (26, 31, Decimal("10.48"))
    assert only(server, Period(2026, 4)).service_start == date(2026, 4, 15)


def test_a_quarterly_magazine_at_the_reduced_rate_prorates_its_first_quarter() -> None:
    magazine = make(
        kind="addon",
        unit_net=Decimal("18.00"),
        tax_category=TaxCategory.REDUCED,
        billing_period="quarterly",
        start=date(2026, 2, 10),
    )

    first = only(magazine, Period(2026, 2))
    second = only(magazine, Period(2026, 5))

    # quarter 1 Feb..30 Apr has 89 days, 10 Feb..30 Apr are 80: 18 * 80 / 89 = 16.179... -> 16.18
    assert (first.service_start, first.service_end) == (date(2026, 2, 10), date(2026, 4, 30))
    assert (first.service_days, first.cycle_days, first.net) == (80, 89, Decimal("16.18"))
    assert first.tax_category is TaxCategory.REDUCED
    assert (second.service_start, second.service_end, second.net) == (
        date(2026, 5, 1),
        date(2026, 7, 31),
        Decimal("18.00"),
    )
    assert [charges_for(magazine, Period(2026, m)) for m in (3, 4, 6, 7)] == [[], [], [], []]


def test_traffic_in_arrears_is_billed_when_the_month_is_over() -> None:
    traffic = make(
        product_id="TRAFFIC-TB",
        kind="fee",
        quantity=3,
        unit_net=Decimal("4.90"),
        timing="arrears",
        start=date(2026, 3, 10),
        end=date(2026, 5, 20),
    )

    march, april, may = (only(traffic, Period(2026, m)) for m in (3, 4, 5))

    # 3 TB at 4.90 = 14.70 a month; 10..31 March are 22 of 31 days: 323.40 / 31 = 10.432... -> 10.43
    assert (march.service_start, march.service_end, march.net) == (
        date(2026, 3, 10),
        date(2026, 3, 31),
        Decimal("10.43"),
    )
    assert april.net == Decimal("14.70")
    # 1..20 May are 20 of 31 days: 14.70 * 20 / 31 = 294 / 31 = 9.4838... -> 9.48
    assert (may.service_end, may.net) == (date(2026, 5, 20), Decimal("9.48"))
    assert charges_for(traffic, Period(2026, 6)) == []


def test_an_upgrade_bills_the_old_package_until_the_day_before_and_the_new_one_from_the_day() -> (
    None
):
    small = make(position_id="K0000001-01", unit_net=Decimal("4.99"), end=date(2026, 5, 19))
    medium = make(position_id="K0000001-02", unit_net=Decimal("9.99"), start=date(2026, 5, 20))

    lines = charges_for_customer([medium, small], Period(2026, 5))

    # 1..19 May: 4.99 * 19 / 31 = 94.81 / 31 = 3.0583... -> 3.06
    # 20..31 May: 9.99 * 12 / 31 = 119.88 / 31 = 3.8670... -> 3.87
    assert [(c.position_id, c.service_days, c.net) for c in lines] == [
        ("K0000001-01", 19, Decimal("3.06")),
        ("K0000001-02", 12, Decimal("3.87")),
    ]


def test_an_outage_credit_is_a_negative_charge_once() -> None:
    credit = make(
        product_id="CREDIT-OUTAGE",
        description="Gutschrift Ausfall 02.06.2026",
        kind="credit",
        unit_net=Decimal("-5.00"),
        billing_period="once",
        start=date(2026, 6, 3),
    )

    charge = only(credit, Period(2026, 6))

    assert (charge.service_start, charge.service_end) == (date(2026, 6, 3), date(2026, 6, 3))
    assert (charge.kind, charge.fraction, charge.net) == ("credit", Decimal(1), Decimal("-5.00"))
    assert charges_for(credit, Period(2026, 5)) == []
    assert charges_for(credit, Period(2026, 7)) == []


def test_a_setup_fee_is_billed_once_in_the_month_of_the_start() -> None:
    setup = make(
        kind="fee", unit_net=Decimal("49.00"), billing_period="once", start=date(2026, 7, 31)
    )

    assert only(setup, Period(2026, 7)).net == Decimal("49.00")
    assert charges_for(setup, Period(2026, 8)) == []


def test_half_a_cent_is_rounded_up() -> None:
    position = make(unit_net=Decimal("0.0500"), start=date(2026, 4, 16))

    charge = only(position, Period(2026, 4))

    # 16..30 April are 15 of 30 days: 0.05 / 2 = 0.025 -> 0.03 (half-even would give 0.02)
    assert (charge.fraction, charge.net) == (Decimal("0.5"), Decimal("0.03"))


@pytest.mark.parametrize("billing_period", ["monthly", "quarterly", "yearly", "once"])
def test_a_position_that_never_took_effect_bills_nothing(billing_period: str) -> None:
    position = make(billing_period=billing_period, start=date(2026, 3, 15), end=date(2026, 3, 14))

    assert billed([position], date(2026, 1, 1), date(2027, 12, 31)) == []


def test_charges_for_a_customer_are_sorted_by_position_and_service_start() -> None:
    positions = [
        make(position_id="K1-03", billing_day=15, start=date(2026, 3, 10)),
        make(position_id="K1-01", start=date(2026, 1, 1)),
        make(position_id="K1-02", kind="fee", billing_period="once", start=date(2026, 3, 2)),
    ]

    lines = charges_for_customer(reversed(positions), Period(2026, 3))

    assert [(c.position_id, c.service_start) for c in lines] == [
        ("K1-01", date(2026, 3, 1)),
        ("K1-02", date(2026, 3, 2)),
        ("K1-03", date(2026, 3, 10)),
        ("K1-03", date(2026, 3, 15)),
    ]


def test_a_record_written_with_the_old_billing_field_still_reads() -> None:
    stored = make(billing_period="monthly").model_dump(mode="json")
    stored["billing"] = stored.pop("billing_period")

    assert Position.model_validate(stored).billing_period == "monthly"


# Validation names the field at fault.


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"start": date(2026, 3, 15), "end": date(2026, 3, 13)}, "end"),
        ({"billing_day": 0}, "billing_day"),
        ({"billing_day": 29}, "billing_day"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": 100_001}, "quantity"),
        ({"unit_net": Decimal("-0.01")}, "unit_net"),
        ({"unit_net": Decimal("1.00001")}, "unit_net"),
        ({"kind": "credit", "unit_net": Decimal("5"), "billing_period": "once"}, "unit_net"),
        ({"kind": "credit", "unit_net": Decimal("-5")}, "billing_period"),
        ({"billing_period": "weekly"}, "billing_period"),
        ({"timing": "later"}, "timing"),
        ({"billing_anchor": "end"}, "billing_anchor"),
    ],
)
def test_invalid_positions_are_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        make(**fields)

    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


# Properties.

prices = st.decimals(
    min_value=Decimal(0), max_value=Decimal("99999999.9999"), places=4, allow_nan=False
)
quantities = st.integers(min_value=1, max_value=100_000)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
anchors = st.sampled_from(["start", "fixed"])
timings = st.sampled_from(["advance", "arrears"])
billing_days = st.integers(min_value=1, max_value=28)
cycle_lengths = st.sampled_from(["monthly", "quarterly", "yearly"])


@st.composite
def positions(draw: st.DrawFn, /, **fixed: Any) -> Position:
    start = draw(days)
    fields = {
        "unit_net": draw(prices),
        "quantity": draw(quantities),
        "billing_period": draw(cycle_lengths),
        "timing": draw(timings),
        "billing_anchor": draw(anchors),
        "billing_day": draw(billing_days),
        "start": start,
        "end": start + timedelta(days=draw(st.integers(min_value=-1, max_value=1200))),
    }
    return make(**(fields | fixed))


def prorated(charge: Charge) -> Fraction:
    """The exact amount of a charge before rounding."""
    share = Fraction(charge.service_days, charge.cycle_days)
    return Fraction(charge.unit_net) * charge.quantity * share


@repeatable
@given(
    prices,
    quantities,
    st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
    anchors,
    billing_days,
    timings,
)
def test_a_year_of_an_unchanged_monthly_contract_sums_its_monthly_lines(
    price: Decimal, quantity: int, start: date, anchor: str, billing_day: int, timing: str
) -> None:
    position = make(
        unit_net=price,
        quantity=quantity,
        start=start,
        billing_anchor=anchor,
        billing_day=billing_day,
        timing=timing,
    )

    runs = [charges_for(position, Period(2026, month)) for month in range(1, 13)]
    lines = [charge for run in runs for charge in run]

    # The sum of the nets is the sum of each line's exact share rounded half-up to the cent ...
    assert sum(c.net for c in lines) == sum(half_up_cents(prorated(c)) for c in lines)
    # ... so it is off the exact prorated total by at most half a cent per line ...
    exact = sum((prorated(c) for c in lines), start=Fraction(0))
    assert abs(Fraction(sum(c.net for c in lines)) - exact) <= Fraction(len(lines), 200)
    # ... and a contract that ran all year long bills twelve times the rounded monthly price.
    if start < date(2025, 12, 1):
        assert [len(run) for run in runs] == [1] * 12
        assert sum(c.net for c in lines) == 12 * half_up_cents(Fraction(price) * quantity)


@many
@given(positions())
def test_consecutive_runs_bill_every_day_of_service_exactly_once(position: Position) -> None:
    assert position.end is not None
    charges = billed(
        [position], position.start - timedelta(days=31), position.end + timedelta(days=400)
    )

    counts = days_of([charge for _, charge in charges])

    assert set(counts.values()) <= {1}
    assert sorted(counts) == every_day(position.start, position.end)


@many
@given(positions())
def test_advance_bills_in_the_month_service_starts_and_arrears_never_before_it_ends(
    position: Position,
) -> None:
    assert position.end is not None
    charges = billed(
        [position], position.start - timedelta(days=31), position.end + timedelta(days=400)
    )

    for period, charge in charges:
        if position.timing == "advance":
            assert period.start <= charge.service_start <= period.end
        else:
            assert charge.service_end <= period.end
            assert charge.service_end + timedelta(days=366) >= period.start


@many
@given(positions(end=None))
def test_full_cycles_start_on_the_anchor_day_clamped_to_the_month(position: Position) -> None:
    anchor_day = position.start.day if position.billing_anchor == "start" else position.billing_day
    charges = billed([position], position.start, position.start + timedelta(days=800))

    for _, charge in charges:
        if charge.service_days == charge.cycle_days:
            start = charge.service_start
            last_day = calendar.monthrange(start.year, start.month)[1]
            assert start.day == min(anchor_day, last_day)


@many
@given(positions())
def test_fraction_is_the_share_of_days_and_net_is_rounded_half_up(position: Position) -> None:
    assert position.end is not None
    charges = billed([position], position.start, position.end + timedelta(days=400))

    for _, charge in charges:
        assert 0 < charge.fraction <= 1
        assert abs(Fraction(charge.fraction) - Fraction(charge.service_days, charge.cycle_days)) < (
            Fraction(1, 10**40)
        )
        assert charge.net == half_up_cents(prorated(charge))
        assert charge.net.as_tuple().exponent == -2


@many
@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=0, max_value=400),
    anchors,
    timings,
    billing_days,
)
def test_an_upgrade_bills_each_day_of_its_month_once_across_both_positions(
    change: date, age: int, anchor: str, timing: str, billing_day: int
) -> None:
    terms = {"billing_anchor": anchor, "timing": timing, "billing_day": billing_day}
    old = make(
        position_id="K1-01",
        start=change - timedelta(days=age),
        end=change - timedelta(days=1),
        **terms,
    )
    new = make(position_id="K1-02", unit_net=Decimal("19.99"), start=change, **terms)
    month_end = Period(change.year, change.month).end

    charges = billed([old, new], old.start - timedelta(days=31), month_end + timedelta(days=62))

    counts = days_of([charge for _, charge in charges])
    assert {counts[day] for day in every_day(old.start, month_end)} == {1}
    assert all(c.service_end < change for _, c in charges if c.position_id == "K1-01")
    assert all(c.service_start >= change for _, c in charges if c.position_id == "K1-02")
