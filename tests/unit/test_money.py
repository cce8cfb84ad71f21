from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import ZERO, format_eur, parse_amount, to_cents, total
from tests.unit.fakes import repeatable

amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


def half_up_cents(amount: Decimal) -> Decimal:
    """Commercial rounding by hand: away from zero at exactly half a cent."""
    cents = Fraction(amount) * 100
    rounded = floor(abs(cents) + Fraction(1, 2))
    return Decimal(rounded if cents >= 0 else -rounded) / 100


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004999", "0.00"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),
        ("2.675", "2.68"),
        ("-0.005", "-0.01"),
        ("-2.675", "-2.68"),
        ("7", "7.00"),
    ],
)
def test_to_cents_rounds_half_up_not_to_even(amount: str, expected: str) -> None:
    rounded = to_cents(Decimal(amount))

    assert str(rounded) == expected


@repeatable
@given(amounts)
def test_to_cents_matches_rounding_by_hand(amount: Decimal) -> None:
    rounded = to_cents(amount)

    assert rounded == half_up_cents(amount)
    assert rounded.as_tuple().exponent == -2


def test_parse_amount_refuses_float() -> None:
    with pytest.raises(TypeError, match="float"):
        parse_amount(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_parse_amount_refuses_what_is_not_finite(text: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("19.99", Decimal("19.99")), (5, Decimal(5)), (Decimal("0.0001"), Decimal("0.0001"))],
)
def test_parse_amount_keeps_the_exact_value(text: str | int | Decimal, expected: Decimal) -> None:
    assert parse_amount(text) == expected


def test_total_of_nothing_is_zero_euro_with_cents() -> None:
    assert total([]) == ZERO
    assert str(total([])) == "0.00"


def test_total_is_exact_where_float_is_not() -> None:
    assert total([Decimal("0.10")] * 3) == Decimal("0.30")
    assert sum([0.10] * 3) != 0.30


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "0,00 €"),
        ("0.5", "0,50 €"),
        ("999.995", "1.000,00 €"),
        ("1234.56", "1.234,56 €"),
        ("1234567.891", "1.234.567,89 €"),
        ("-1234.565", "-1.234,57 €"),
    ],
)
def test_format_eur_writes_german_notation(amount: str, expected: str) -> None:
    assert format_eur(Decimal(amount)) == expected


@repeatable
@given(amounts)
def test_format_eur_reads_back_as_the_rounded_amount(amount: Decimal) -> None:
    text = format_eur(amount)

    number = text.removesuffix(" €").replace(".", "").replace(",", ".")
    assert Decimal(number) == to_cents(amount)


def test_format_eur_has_no_negative_zero() -> None:
    assert format_eur(Decimal("-0.004")) == "0,00 €"
