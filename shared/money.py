"""Money is Decimal in euro, rounded half-up to the cent; never float."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str | int | Decimal) -> Decimal:
    """A money amount from its decimal string; floats are refused."""
    if isinstance(text, float):
        raise TypeError("money must not be a float")

    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"not a decimal amount: {text!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not a finite amount: {text!r}")
    return amount


def total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, start=ZERO)


def format_eur(amount: Decimal) -> str:
    """German notation: 1.234,56 €."""
    rounded = to_cents(amount)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):.2f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped},{fraction} €"
