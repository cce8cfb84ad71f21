"""Properties of proration and rounding over generated positions and customers.

Whatever a customer has ordered, and wherever the customer is, the invoice of a period reconciles
to the cent: the lines add up to the VAT groups, each group is taxed once on its net, and the
totals are the sums. Expected amounts are worked out here with fractions, not with the code's
Decimal helpers, so a rounding slip in the code cannot hide in the reference.

Rounding is commercial: half a cent rounds away from zero (up for charges, down for credits).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.contracts import Position
from shared.customers import Address, Customer
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import InvoiceDraft
from shared.invoicing.rating import CYCLE_MONTHS, charges_for
from shared.periods import Period
from shared.tax import TaxCategory, eu_member_states, rate

# 150 examples in CI; the "thorough" profile of conftest.py raises it for a search by hand.
fast = settings(max_examples=max(150, settings.default.max_examples), deadline=None)

# Member states with a VAT id whose check digits are right, in the form a customer types it.
VALID_VAT_IDS = {
    "FR": "FR 40 303 265 045",
    "AT": "ATU13585627",
    "NL": "NL004495445B01",
    "BE": "BE0403019261",
    "IT": "IT00743110157",
    "ES": "ESA28015865",
    "GR": "EL094259216",
    "PL": "PL5260250995",
    "SE": "SE556188840401",
    "DK": "DK13585628",
}
NON_EU = ("CH", "US", "NO", "GB")
OTHER_MEMBER_STATES = sorted(eu_member_states() - {"DE"})


def half_up(amount: Fraction) -> Fraction:
    """Whole cents, half a cent away from zero."""
    cents = floor(abs(amount) * 100 + Fraction(1, 2))
    return Fraction(cents if amount >= 0 else -cents, 100)


def whole_cents(amount: Decimal) -> Fraction:
    assert type(amount) is Decimal
    assert amount.as_tuple().exponent == -2, f"{amount!r} is not in cents"
    return Fraction(amount)


# Customers: the four places of supply the VAT rules tell apart.


def _customer(country: str, kind: str = "consumer", vat_id: str | None = None) -> Customer:
    return Customer(
        customer_id="C0000001",
        name="Grete Weber",
        email="grete@example.org",
        address=Address(street="Hafenweg 3", postal_code="1000", city="Ort", country=country),
        kind=kind,  # type: ignore[arg-type]
        vat_id=vat_id,
        shard=0,
    )


german = st.builds(
    _customer,
    st.just("DE"),
    st.sampled_from(["consumer", "business"]),
    st.sampled_from([None, "DE136695976"]),
)
eu_consumers = st.builds(_customer, st.sampled_from(OTHER_MEMBER_STATES))
eu_businesses = st.sampled_from(sorted(VALID_VAT_IDS)).map(
    lambda country: _customer(country, "business", VALID_VAT_IDS[country])
)
non_eu = st.builds(_customer, st.sampled_from(NON_EU), st.sampled_from(["consumer", "business"]))
customers = st.one_of(german, eu_consumers, eu_businesses, non_eu)

# Positions: every kind, cycle and timing, starting and ending inside and around the period.

# From 2025: a line's VAT date can be up to a year before its run, and the rate table starts 2024.
periods = st.builds(Period, st.integers(2025, 2028), st.integers(1, 12))
cent_prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)
fine_prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4)
prices = st.one_of(cent_prices, fine_prices)
quantities = st.integers(min_value=1, max_value=1_000)
cycles = st.sampled_from(["monthly", "quarterly", "yearly"])
TERMS = {
    "timing": st.sampled_from(["advance", "arrears"]),
    "billing_anchor": st.sampled_from(["start", "fixed"]),
    "billing_day": st.integers(min_value=1, max_value=28),
    "tax_category": st.sampled_from(list(TaxCategory)),
}


def make(index: int, **fields: Any) -> Position:
    values: dict[str, Any] = {
        "position_id": f"K0000001-{index:02d}",
        "customer_id": "C0000001",
        "contract_id": "K0000001",
        "product_id": "HOST-M",
        "description": f"Leistung {index}",
        "quantity": 1,
        "unit_net": Decimal("9.99"),
        "start": date(2024, 1, 1),
    }
    return Position(**(values | fields))


@st.composite
def recurring(draw: st.DrawFn, index: int, period: Period) -> Position:
    start = period.start + timedelta(days=draw(st.integers(-800, 40)))
    ended = draw(st.booleans())
    end = start + timedelta(days=draw(st.integers(-1, 900))) if ended else None
    terms = {name: draw(strategy) for name, strategy in TERMS.items()}
    return make(
        index,
        kind=draw(st.sampled_from(["hosting", "domain", "addon", "fee"])),
        unit_net=draw(prices),
        quantity=draw(quantities),
        billing_period=draw(cycles),
        start=start,
        end=end,
        **terms,
    )


@st.composite
def one_off(draw: st.DrawFn, index: int, period: Period) -> Position:
    credit = draw(st.booleans())
    price = draw(cent_prices)
    return make(
        index,
        kind="credit" if credit else "fee",
        unit_net=-price if credit else price,
        quantity=1 if credit else draw(quantities),
        billing_period="once",
        tax_category=draw(TERMS["tax_category"]),
        start=period.start + timedelta(days=draw(st.integers(-5, 35))),
    )


Case = tuple[Customer, list[Position], Period]


@st.composite
def invoices(draw: st.DrawFn) -> Case:
    """A customer, the period and positions of which at least one is due in it."""
    period = draw(periods)
    customer = draw(customers)
    kinds = draw(st.lists(st.sampled_from([recurring, recurring, one_off]), max_size=7))
    positions = [draw(kind(index, period)) for index, kind in enumerate(kinds, start=2)]
    return customer, [draw(_due_now(period)), *positions], period


def draft_of(case: Case) -> InvoiceDraft:
    customer, positions, period = case
    draft = compose_invoice(customer, positions, period)
    assert draft is not None
    return draft


@st.composite
def _due_now(draw: st.DrawFn, period: Period) -> Position:
    """A monthly position with service in the period whichever timing it has."""
    day = draw(st.integers(0, (period.end - period.start).days))
    return make(
        1,
        unit_net=draw(prices),
        quantity=draw(quantities),
        start=period.start + timedelta(days=day) - timedelta(days=draw(st.sampled_from([0, 400]))),
        tax_category=draw(TERMS["tax_category"]),
    )


# 19 % of 1.50 is 0.285: 0.29 half-up, 0.28 half-even; a credit of 1.50 takes back 0.29.
HALF_CENT_CREDIT = make(
    1,
    kind="credit",
    unit_net=Decimal("-1.50"),
    billing_period="once",
    start=date(2026, 11, 5),
)

# 16..30 April are 15 of 30 days of 0.05: 0.025, so 0.03 half-up where half-even gives 0.02.
HALF_CENT_LINE = make(1, unit_net=Decimal("0.05"), start=date(2026, 4, 16))


def amounts_of(draft: InvoiceDraft) -> list[Decimal]:
    return [
        draft.net,
        draft.vat,
        draft.gross,
        *(line.net for line in draft.lines),
        *(value for group in draft.vat_groups for value in (group.net, group.vat)),
    ]


# The invoice reconciles.


@fast
@given(invoices())
def test_every_amount_on_an_invoice_is_a_decimal_in_whole_cents(
    case: Case,
) -> None:
    draft = draft_of(case)

    for amount in amounts_of(draft):
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -2, f"{amount!r} is not in cents"


@fast
@given(invoices())
def test_the_lines_of_each_rate_and_category_add_up_to_its_vat_group(
    case: Case,
) -> None:
    draft = draft_of(case)
    nets: dict[tuple[Decimal, str], Fraction] = defaultdict(Fraction)
    for line in draft.lines:
        nets[line.tax_rate, line.tax_code] += whole_cents(line.net)

    groups = {(group.rate, group.category_code): group for group in draft.vat_groups}

    assert len(groups) == len(draft.vat_groups), "one group per rate and category"
    assert {key: whole_cents(group.net) for key, group in groups.items()} == nets


@fast
@given(invoices())
def test_the_invoice_net_is_the_sum_of_the_lines_and_of_the_groups(
    case: Case,
) -> None:
    draft = draft_of(case)

    lines = sum(whole_cents(line.net) for line in draft.lines)
    groups = sum(whole_cents(group.net) for group in draft.vat_groups)
    assert whole_cents(draft.net) == lines == groups


@fast
@given(invoices())
@example((_customer("DE"), [make(1, unit_net=Decimal("1.50"))], Period(2026, 11)))
@example((_customer("DE"), [HALF_CENT_CREDIT], Period(2026, 11)))
def test_each_group_is_taxed_once_on_its_net_rounded_half_up(
    case: Case,
) -> None:
    draft = draft_of(case)

    for group in draft.vat_groups:
        expected = half_up(whole_cents(group.net) * Fraction(group.rate) / 100)
        assert whole_cents(group.vat) == expected, group
    assert whole_cents(draft.vat) == sum(whole_cents(group.vat) for group in draft.vat_groups)


@fast
@given(invoices())
def test_gross_is_net_plus_vat(case: Case) -> None:
    draft = draft_of(case)

    assert draft.gross == draft.net + draft.vat


@fast
@given(invoices())
@example((_customer("DE"), [HALF_CENT_LINE], Period(2026, 4)))
def test_every_line_is_its_share_of_days_of_the_cycle_price_rounded_half_up(
    case: Case,
) -> None:
    _, positions, _ = case
    draft = draft_of(case)
    by_id = {position.position_id: position for position in positions}

    for line in draft.lines:
        source = by_id[line.position_id]
        assert line.service_days is not None
        assert line.cycle_days is not None
        share = Fraction(line.service_days, line.cycle_days)
        exact = Fraction(source.unit_net) * source.quantity * share
        assert whole_cents(line.net) == half_up(exact)


@fast
@given(invoices())
def test_every_line_carries_the_vat_of_the_buyers_place(
    case: Case,
) -> None:
    customer, positions, _ = case
    draft = draft_of(case)
    country = customer.address.country
    category = {position.position_id: position.tax_category for position in positions}

    for line in draft.lines:
        taxed = category[line.position_id]
        if country in NON_EU:
            expected = (Decimal(0), "O")
        elif taxed is TaxCategory.EXEMPT:
            expected = (Decimal(0), "E")
        elif country != "DE" and customer.kind == "business":
            expected = (Decimal(0), "AE")
        else:
            expected = (rate(country, taxed, line.service_end), "S")
        assert (line.tax_rate, line.tax_code) == expected


# A year of invoices and a month split in two.


@fast
@given(
    customers,
    st.integers(2024, 2028),
    prices,
    quantities,
    cycles,
    st.fixed_dictionaries(TERMS),
    st.integers(min_value=0, max_value=2_000),
)
def test_a_year_of_invoices_for_an_unchanged_contract_sums_to_its_cycle_prices(
    customer: Customer,
    year: int,
    price: Decimal,
    quantity: int,
    cycle: str,
    terms: dict[str, Any],
    age: int,
) -> None:
    """Twelve months' price for a monthly contract, four quarters' or one year's price."""
    started = date(year - 1, 1, 1) - timedelta(days=age)
    position = make(1, unit_net=price, quantity=quantity, billing_period=cycle, start=started)
    position = position.model_copy(update=terms)

    drafts = [compose_invoice(customer, [position], Period(year, month)) for month in range(1, 13)]

    cycles_a_year = 12 // CYCLE_MONTHS[cycle]
    year_net = sum(whole_cents(draft.net) for draft in drafts if draft is not None)
    assert year_net == cycles_a_year * half_up(Fraction(price) * quantity)
    assert sum(draft is not None for draft in drafts) == cycles_a_year


def split(price: Decimal, quantity: int, change: date, timing: str) -> tuple[Position, ...]:
    """A monthly contract and the same contract changed on ``change`` to one at the same price."""
    terms = {"unit_net": price, "quantity": quantity, "timing": timing, "start": date(2020, 1, 1)}
    whole = make(1, **terms)
    old = make(1, **(terms | {"end": change - timedelta(days=1)}))
    new = make(2, **(terms | {"start": change}))
    return whole, old, new


@st.composite
def month_splits(draw: st.DrawFn, price: st.SearchStrategy[Decimal]) -> tuple[Position, ...]:
    """The change falls on the 2nd to the last day of the month: both parts have service."""
    period = draw(periods)
    change = period.start + timedelta(days=draw(st.integers(1, (period.end - period.start).days)))
    return split(draw(price), draw(quantities), change, draw(TERMS["timing"]))


def _month_of(positions: tuple[Position, ...]) -> Period:
    change = positions[2].start
    return Period(change.year, change.month)


def _exact_parts(positions: tuple[Position, ...]) -> tuple[Fraction, Fraction]:
    """What each part of the month costs before rounding."""
    whole, _, new = positions
    period = _month_of(positions)
    month_days = (period.end - period.start).days + 1
    first_days = (new.start - period.start).days
    amount = Fraction(whole.unit_net) * whole.quantity
    first = amount * Fraction(first_days, month_days)
    return first, amount - first


def _billed(position: Position, period: Period) -> Fraction:
    return sum((whole_cents(c.net) for c in charges_for(position, period)), start=Fraction(0))


# 15 of 30 April days of 0.05 are 0.025 each: the one split where rounding adds a cent.
HALF_CENT_SPLIT = split(Decimal("0.05"), 1, date(2026, 4, 16), "advance")


@fast
@given(month_splits(prices))
@example(HALF_CENT_SPLIT)
def test_a_month_split_at_any_day_bills_each_part_rounded_half_up_on_its_own(
    positions: tuple[Position, ...],
) -> None:
    _, old, new = positions
    period = _month_of(positions)
    first, second = _exact_parts(positions)

    assert _billed(old, period) == half_up(first)
    assert _billed(new, period) == half_up(second)


@fast
@given(month_splits(cent_prices))
@example(HALF_CENT_SPLIT)
def test_a_month_split_at_a_cent_price_sums_to_the_full_month_unless_both_parts_are_half_cents(
    positions: tuple[Position, ...],
) -> None:
    """Both parts rounded up from exactly half a cent bill one cent more than the full month."""
    whole, old, new = positions
    period = _month_of(positions)
    first, _ = _exact_parts(positions)
    both_half_cents = (first * 100).denominator == 2

    parts = _billed(old, period) + _billed(new, period)

    full = _billed(whole, period)
    assert full == half_up(Fraction(whole.unit_net) * whole.quantity)
    assert parts == full + (Fraction(1, 100) if both_half_cents else 0)


@fast
@given(month_splits(fine_prices))
def test_a_month_split_at_a_price_in_fractions_of_a_cent_is_within_a_cent_of_the_full_month(
    positions: tuple[Position, ...],
) -> None:
    whole, old, new = positions
    period = _month_of(positions)

    parts = _billed(old, period) + _billed(new, period)

    assert abs(parts - _billed(whole, period)) <= Fraction(1, 100)
