"""Default interest under § 288 BGB: the base rate of § 247 BGB plus points, per day.

The base rate changes on 1 January and 1 July; the table in ``shared/data/base_rates.json`` holds
one entry per half-year as the Bundesbank announced it, and says through which day it is known.
Interest on an item is computed day by day on its open principal: the period is split wherever the
base rate or the principal changes (a payment or a returned debit booked on a day counts from that
day on), each part is principal x rate x days / 365 in exact Decimal, and the item's sum is rounded
half-up to the cent once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.accounts.model import Posting
from shared.money import ZERO, to_cents

BASE_RATES_FILE = "base_rates.json"
HUNDRED = Decimal(100)


class BaseRateUnknownError(LookupError):
    """Interest was asked for a day the base rate table does not cover."""


class BaseRate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    valid_from: date = Field(alias="from")
    percent: Decimal = Field(ge=-10, le=20)


class BaseRateTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    source: str = Field(min_length=10)
    checked_on: date | None = None
    known_through: date
    rates: tuple[BaseRate, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _half_years_without_gaps(self) -> BaseRateTable:
        for index, rate in enumerate(self.rates):
            if (rate.valid_from.month, rate.valid_from.day) not in {(1, 1), (7, 1)}:
                raise ValueError(f"rates[{index}].from: the base rate changes on 1 Jan or 1 Jul")
            if index and rate.valid_from != next_half_year(self.rates[index - 1].valid_from):
                raise ValueError(f"rates[{index}].from: follows no half-year before it")
        last = self.rates[-1].valid_from
        if not last <= self.known_through < next_half_year(last):
            raise ValueError("known_through: must lie in the half-year of the last rate")
        return self

    def percent_on(self, day: date) -> Decimal:
        if day < self.rates[0].valid_from or day > self.known_through:
            raise BaseRateUnknownError(
                f"the base rate for {day.isoformat()} is not in the table (known "
                f"{self.rates[0].valid_from.isoformat()} to {self.known_through.isoformat()}): "
                "add the Bundesbank's published value to shared/data/base_rates.json"
            )
        return next(r.percent for r in reversed(self.rates) if r.valid_from <= day)

    def changes_within(self, first: date, last: date) -> list[date]:
        """Days after ``first`` up to ``last`` on which a new half-year's rate begins."""
        return [r.valid_from for r in self.rates if first < r.valid_from <= last]


def next_half_year(day: date) -> date:
    return date(day.year, 7, 1) if day.month < 7 else date(day.year + 1, 1, 1)


@cache
def shipped_base_rates() -> BaseRateTable:
    raw = resources.files("shared.data").joinpath(BASE_RATES_FILE).read_text(encoding="utf-8")
    return BaseRateTable.model_validate(json.loads(raw))


@dataclass(frozen=True)
class InterestSegment:
    """Days ``start`` to ``end`` inclusive at one principal and one rate."""

    start: date
    end: date
    principal: Decimal
    base_percent: Decimal
    points: Decimal
    amount: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def percent(self) -> Decimal:
        return self.base_percent + self.points


@dataclass(frozen=True)
class InterestCharge:
    item: str
    segments: tuple[InterestSegment, ...]

    @property
    def amount(self) -> Decimal:
        """The item's interest, rounded half-up to the cent once."""
        return to_cents(sum((segment.amount for segment in self.segments), start=Decimal(0)))


def item_interest(
    item: str,
    postings: Iterable[Posting],
    *,
    first_day: date,
    last_day: date,
    points: Decimal,
    table: BaseRateTable,
    days_in_year: int = 365,
) -> InterestCharge:
    """Interest on the item's open amount for every day from ``first_day`` to ``last_day``."""
    mine = [p for p in postings if p.item == item]
    if last_day < first_day:
        return InterestCharge(item, ())
    table.percent_on(first_day)
    table.percent_on(last_day)
    cuts = {first_day, *table.changes_within(first_day, last_day)}
    cuts |= {p.booked_on for p in mine if first_day < p.booked_on <= last_day}
    starts = sorted(cuts)
    ends = [day - timedelta(days=1) for day in starts[1:]] + [last_day]
    segments = []
    for start, end in zip(starts, ends, strict=True):
        segment = _segment(mine, start, end, points, table, days_in_year)
        if segment is not None:
            segments.append(segment)
    return InterestCharge(item, tuple(segments))


def _segment(
    postings: list[Posting],
    start: date,
    end: date,
    points: Decimal,
    table: BaseRateTable,
    days_in_year: int,
) -> InterestSegment | None:
    principal = sum((p.amount for p in postings if p.booked_on <= start), start=ZERO)
    base = table.percent_on(start)
    percent = max(base + points, Decimal(0))
    if principal <= 0 or percent == 0:
        return None
    days = (end - start).days + 1
    amount = principal * percent / HUNDRED * days / days_in_year
    return InterestSegment(start, end, principal, base, points, amount)
