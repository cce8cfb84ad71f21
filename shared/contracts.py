"""Contract positions: what a customer has ordered and pays for each period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.periods import Period
from shared.tax import TaxCategory


class Position(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    position_id: str = Field(min_length=1, max_length=64)
    customer_id: str
    contract_id: str
    product_id: str
    description: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=100_000)
    unit_net: Decimal = Field(ge=0, max_digits=12, decimal_places=4)
    tax_category: TaxCategory = TaxCategory.STANDARD
    billing: Literal["monthly"] = "monthly"
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Position:
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self

    def is_due_in(self, period: Period) -> bool:
        """A monthly position is billed for a period it overlaps."""
        return self.start <= period.end and (self.end is None or self.end >= period.start)
