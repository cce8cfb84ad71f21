"""German VAT as this slice bills it: standard and reduced rate, tax per rate on the rate's sum."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from shared.money import to_cents


class TaxCategory(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"


GERMAN_RATES = {
    TaxCategory.STANDARD: Decimal("19"),
    TaxCategory.REDUCED: Decimal("7"),
}


def rate_for(category: TaxCategory) -> Decimal:
    return GERMAN_RATES[category]


def tax_on(net: Decimal, rate_percent: Decimal) -> Decimal:
    return to_cents(net * rate_percent / Decimal(100))
