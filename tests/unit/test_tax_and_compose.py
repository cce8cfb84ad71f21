from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts import Position
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import InvoiceDraft
from shared.periods import Period
from shared.tax import GERMAN_RATES, TaxCategory, rate_for, tax_on
from tests.unit.fakes import customer, position, repeatable

PERIOD = Period(2026, 11)
BUYER = customer(1)
PERCENT = {TaxCategory.STANDARD: 19, TaxCategory.REDUCED: 7, TaxCategory.EXEMPT: 0}


def cents_half_up(value: Fraction) -> int:
    """Non-negative amount in euro to whole cents, half a cent rounded up."""
    return floor(value * 100 + Fraction(1, 2))


def expected_vat_by_rate(positions: list[Position]) -> dict[int, tuple[int, int]]:
    """Net and tax in cents per rate, by hand: lines to cents, then tax once on each rate's sum."""
    net_cents: dict[int, int] = defaultdict(int)
    for item in positions:
        net_cents[PERCENT[item.tax_category]] += cents_half_up(
            Fraction(item.unit_net) * item.quantity
        )
    return {
        rate: (net, cents_half_up(Fraction(net, 100) * Fraction(rate, 100)))
        for rate, net in net_cents.items()
    }


def cents(amount: Decimal) -> int:
    assert amount.as_tuple().exponent == -2, f"{amount!r} is not in cents"
    return int(amount * 100)


unit_prices = st.decimals(
    min_value=Decimal(0), max_value=Decimal("99999.9999"), places=4, allow_nan=False
)
quantities = st.integers(min_value=1, max_value=100_000)
categories = st.sampled_from(list(TaxCategory))


@st.composite
def due_positions(draw: st.DrawFn) -> list[Position]:
    specs = draw(st.lists(st.tuples(unit_prices, quantities, categories), min_size=1, max_size=12))
    return [
        position(
            BUYER.customer_id, index, unit_net=str(price), quantity=quantity, category=category
        )
        for index, (price, quantity, category) in enumerate(specs, start=1)
    ]


def compose(positions: list[Position]) -> InvoiceDraft:
    draft = compose_invoice(BUYER, positions, PERIOD)
    assert draft is not None
    return draft


def test_german_rates_are_nineteen_and_seven_percent() -> None:
    assert rate_for(TaxCategory.STANDARD) == Decimal(19)
    assert rate_for(TaxCategory.REDUCED) == Decimal(7)
    assert set(GERMAN_RATES) == set(TaxCategory)


@pytest.mark.parametrize(
    ("net", "rate", "expected"),
    [
        ("1.50", "19", "0.29"),
        ("1.50", "7", "0.11"),
        ("0.02", "19", "0.00"),
        ("100.00", "19", "19.00"),
        ("0.00", "7", "0.00"),
    ],
)
def test_tax_on_rounds_half_up_to_the_cent(net: str, rate: str, expected: str) -> None:
    assert str(tax_on(Decimal(net), Decimal(rate))) == expected


@repeatable
@given(due_positions())
def test_draft_adds_up_and_taxes_each_rate_on_its_sum(positions: list[Position]) -> None:
    draft = compose(positions)

    expected = expected_vat_by_rate(positions)
    assert {int(g.rate): (cents(g.net), cents(g.vat)) for g in draft.vat_groups} == expected
    assert cents(draft.net) == sum(cents(line.net) for line in draft.lines)
    assert cents(draft.net) == sum(net for net, _ in expected.values())
    assert cents(draft.vat) == sum(vat for _, vat in expected.values())
    assert cents(draft.gross) == cents(draft.net) + cents(draft.vat)
    assert draft.gross == draft.net + draft.vat


@repeatable
@given(due_positions())
def test_every_amount_is_a_decimal_in_cents(positions: list[Position]) -> None:
    draft = compose(positions)

    amounts = [draft.net, draft.vat, draft.gross]
    amounts += [line.net for line in draft.lines]
    amounts += [value for group in draft.vat_groups for value in (group.net, group.vat)]
    for amount in amounts:
        assert type(amount) is Decimal
        assert amount.as_tuple().exponent == -2


@repeatable
@given(due_positions())
def test_one_line_per_position_in_position_order(positions: list[Position]) -> None:
    draft = compose(list(reversed(positions)))

    assert [line.position_id for line in draft.lines] == sorted(p.position_id for p in positions)
    for line in draft.lines:
        source = next(p for p in positions if p.position_id == line.position_id)
        assert (line.quantity, line.unit_net) == (source.quantity, source.unit_net)
        assert line.tax_rate == rate_for(source.tax_category)
        assert (line.service_start, line.service_end) == (PERIOD.start, PERIOD.end)


def test_tax_is_computed_on_the_rate_sum_not_per_line() -> None:
    positions = [position(BUYER.customer_id, i, unit_net="0.03") for i in range(1, 4)]

    draft = compose(positions)

    assert draft.net == Decimal("0.09")
    assert draft.vat == Decimal("0.02")
    assert draft.gross == Decimal("0.11")


def test_mixed_rates_give_one_group_each_highest_rate_first() -> None:
    positions = [
        position(BUYER.customer_id, 1, unit_net="9.99"),
        position(BUYER.customer_id, 2, unit_net="6.50", category=TaxCategory.REDUCED),
        position(BUYER.customer_id, 3, unit_net="0.99", quantity=3),
    ]

    draft = compose(positions)

    assert [(g.rate, g.net, g.vat) for g in draft.vat_groups] == [
        (Decimal(19), Decimal("12.96"), Decimal("2.46")),
        (Decimal(7), Decimal("6.50"), Decimal("0.46")),
    ]
    assert (draft.net, draft.vat, draft.gross) == (
        Decimal("19.46"),
        Decimal("2.92"),
        Decimal("22.38"),
    )


def test_line_net_is_rounded_half_up_from_four_decimals() -> None:
    draft = compose([position(BUYER.customer_id, 1, unit_net="0.0125", quantity=3)])

    assert draft.lines[0].net == Decimal("0.04")


def test_positions_outside_the_period_are_not_billed() -> None:
    positions = [
        position(BUYER.customer_id, 1, start=date(2026, 12, 1)),
        position(BUYER.customer_id, 2, start=date(2025, 1, 1), end=date(2026, 10, 31)),
        position(BUYER.customer_id, 3, start=date(2026, 11, 30)),
        position(BUYER.customer_id, 4, start=date(2025, 1, 1), end=date(2026, 11, 1)),
    ]

    draft = compose(positions)

    assert [line.position_id for line in draft.lines] == ["K0000001-03", "K0000001-04"]


def test_nothing_due_gives_no_draft() -> None:
    ended = position(BUYER.customer_id, 1, start=date(2025, 1, 1), end=date(2026, 10, 31))

    assert compose_invoice(BUYER, [ended], PERIOD) is None
    assert compose_invoice(BUYER, [], PERIOD) is None


def test_draft_names_the_buyer_and_the_period() -> None:
    business = BUYER.model_copy(update={"kind": "business", "vat_id": "ATU12345678"})

    draft = compose_invoice(business, [position(BUYER.customer_id, 1)], PERIOD)

    assert draft is not None
    assert draft.period == "2026-11"
    assert draft.buyer.customer_id == BUYER.customer_id
    assert draft.buyer.name == BUYER.name
    assert draft.buyer.address == BUYER.address
    assert (draft.buyer.kind, draft.buyer.vat_id) == ("business", "ATU12345678")


@pytest.mark.parametrize("country", ["CH", "US", "NO", "GB"])
@pytest.mark.parametrize("kind", ["consumer", "business"])
def test_a_buyer_outside_the_eu_gets_every_line_not_subject_in_one_group(
    country: str, kind: str
) -> None:
    """EN 16931 BR-O-11..14: an invoice with a group O has no other VAT group."""
    abroad = BUYER.model_copy(
        update={"kind": kind, "address": BUYER.address.model_copy(update={"country": country})}
    )
    positions = [
        position(abroad.customer_id, index, category=category)
        for index, category in enumerate(TaxCategory, start=1)
    ]

    draft = compose_invoice(abroad, positions, PERIOD)

    assert draft is not None
    assert {line.tax_code for line in draft.lines} == {"O"}
    assert [(g.category_code, g.net, g.vat) for g in draft.vat_groups] == [
        ("O", draft.net, Decimal("0.00"))
    ]
