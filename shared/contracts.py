"""Contract positions: what a customer has ordered, at which price, and on which billing cycle.

A position is one product at the price valid when it was ordered, served from ``start`` to ``end``
(the last day of service, inclusive; None while it runs on). A cancellation sets ``end``.

Changes take effect on a date D: an upgrade or downgrade ends the old position on D-1 and starts a
new position on D, so every day is billed once, at the price valid on that day. A change on the old
position's first day ends it on the day before its start: such a position never took effect and
bills nothing, which is why ``end`` may be one day before ``start`` but never earlier.

Credits (goodwill, outage) are positions of kind ``credit`` with a negative unit price, billed once.

Billing cycles last one, three or twelve months, or there is a single charge (``once``). They are
anchored to the start date (``start``) or to a fixed day of month ``billing_day`` in 1..28
(``fixed``), counted from the last such day on or before the start, so the first fixed cycle is
usually partial. The defaults (monthly, in advance, fixed on day 1) bill calendar months.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.periods import Period
from shared.tax import TaxCategory

Kind = Literal["hosting", "domain", "addon", "fee", "credit"]
BillingPeriod = Literal["monthly", "quarterly", "yearly", "once"]
Timing = Literal["advance", "arrears"]
Anchor = Literal["start", "fixed"]

MAX_QUANTITY = 100_000


def check_price_sign(kind: Kind, unit_net: Decimal) -> None:
    """Only a credit has a negative price, and a credit's price is negative."""
    if kind == "credit" and unit_net >= 0:
        raise ValueError(f"unit_net of a credit must be negative, got {unit_net}")
    if kind != "credit" and unit_net < 0:
        raise ValueError(f"unit_net must not be negative for kind {kind!r}, got {unit_net}")


def check_credit_once(kind: Kind | None, billing_period: BillingPeriod) -> None:
    if kind == "credit" and billing_period != "once":
        raise ValueError(f"billing_period of a credit must be 'once', got {billing_period!r}")


class Position(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    position_id: str = Field(min_length=1, max_length=64)
    customer_id: str
    contract_id: str
    product_id: str
    description: str = Field(min_length=1, max_length=200)
    kind: Kind = "hosting"
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_net: Decimal = Field(max_digits=12, decimal_places=4)
    tax_category: TaxCategory = TaxCategory.STANDARD
    # Records written before the rating engine call this field "billing".
    billing_period: BillingPeriod = Field(
        default="monthly",
        validation_alias=AliasChoices("billing_period", "billing"),
        validate_default=True,
    )
    timing: Timing = "advance"
    billing_anchor: Anchor = "fixed"
    billing_day: int = Field(default=1, ge=1, le=28)
    start: date
    end: date | None = None

    @field_validator("unit_net")
    @classmethod
    def _price_fits_kind(cls, unit_net: Decimal, info: ValidationInfo) -> Decimal:
        if "kind" in info.data:
            check_price_sign(info.data["kind"], unit_net)
        return unit_net

    @field_validator("billing_period")
    @classmethod
    def _credit_once(cls, billing_period: BillingPeriod, info: ValidationInfo) -> BillingPeriod:
        check_credit_once(info.data.get("kind"), billing_period)
        return billing_period

    @field_validator("end")
    @classmethod
    def _end_not_before_the_day_before_start(
        cls, end: date | None, info: ValidationInfo
    ) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start - timedelta(days=1):
            raise ValueError(
                f"end {end} is before start {start}: the earliest end is the day before start, "
                "for a position that never took effect"
            )
        return end

    def is_due_in(self, period: Period) -> bool:
        """A monthly position is billed for a period it overlaps."""
        return self.start <= period.end and (self.end is None or self.end >= period.start)
