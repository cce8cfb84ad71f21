"""Rating: the charges a contract position owes in the invoice run for one calendar month.

Pure functions, no I/O. The rules, with the cycles of ``shared.contracts``:

- Cycle k of a position runs from the anchor plus k cycle lengths to the day before the anchor
  plus k+1 lengths. Months are added to the anchor itself, never step by step, and a day the
  target month lacks is clamped to its last day: an anchor on 31 January gives cycles starting
  31 January, 28 (29) February, 31 March, 30 April.
- Service is the cycle intersected with [start, end]; a cycle without service bills nothing.
- In advance, a cycle is billed in the run of the month of its first day of service: its own
  start, or the position's start for a first cycle that began earlier (a fixed anchor before
  the order), so that first stub is never due in a run that preceded the order.
- In arrears, a cycle is billed in the run of the month in which the cycle ends.
- Once, the single charge is billed in the run of the month of the start, for the start day.
- Proration by days: net = unit_net * quantity * service days / cycle days, in Decimal, rounded
  half-up to the cent once, on the charge; a full cycle costs round(unit_net * quantity).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext

from shared.contracts import Kind, Position
from shared.money import to_cents
from shared.periods import Period
from shared.tax import TaxCategory

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
# Far more digits than a 12-digit price times 100,000 times 366 days needs, so rounding to the
# cent sees the exact quotient.
_EXACT = Context(prec=50)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cycle:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class Charge:
    """What one position owes for one cycle (or once): the source of one invoice line."""

    position_id: str
    product_id: str
    description: str
    kind: Kind
    quantity: int
    unit_net: Decimal
    tax_category: TaxCategory
    service_start: date
    service_end: date
    service_days: int
    cycle_days: int
    fraction: Decimal
    net: Decimal


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def anchor_of(position: Position) -> date:
    """The first day of the position's first cycle."""
    if position.billing_anchor == "start":
        return position.start
    fixed = position.start.replace(day=position.billing_day)
    return fixed if fixed <= position.start else add_months(fixed, -1)


def cycle(anchor: date, months: int, index: int) -> Cycle:
    return Cycle(
        add_months(anchor, index * months), add_months(anchor, (index + 1) * months) - _ONE_DAY
    )


def charges_for(position: Position, period: Period) -> list[Charge]:
    if position.billing_period == "once":
        return _one_off(position, period)

    months = CYCLE_MONTHS[position.billing_period]
    charges = []
    for candidate in _cycles_near(anchor_of(position), months, period):
        service = _service(position, candidate)
        if service is not None and _billed_in(position, candidate, service, period):
            charges.append(_charge(position, candidate, service))
    return charges


def charges_for_customer(positions: Iterable[Position], period: Period) -> list[Charge]:
    """The charges of all positions, by position id and then service start."""
    charges = [charge for position in positions for charge in charges_for(position, period)]
    return sorted(charges, key=lambda c: (c.position_id, c.service_start, c.service_end))


def _one_off(position: Position, period: Period) -> list[Charge]:
    day = Cycle(position.start, position.start)
    if _service(position, day) is None or not _contains(period, position.start):
        return []
    return [_charge(position, day, day)]


def _cycles_near(anchor: date, months: int, period: Period) -> Iterator[Cycle]:
    """Every cycle that can start or end in the period: those around the period's month."""
    months_since_anchor = (period.year - anchor.year) * 12 + period.month - anchor.month
    nearest = months_since_anchor // months
    for index in range(max(nearest - 1, 0), nearest + 2):
        yield cycle(anchor, months, index)


def _service(position: Position, billed: Cycle) -> Cycle | None:
    start = max(billed.start, position.start)
    end = billed.end if position.end is None else min(billed.end, position.end)
    return Cycle(start, end) if start <= end else None


def _billed_in(position: Position, billed: Cycle, service: Cycle, period: Period) -> bool:
    due = service.start if position.timing == "advance" else billed.end
    return _contains(period, due)


def _contains(period: Period, day: date) -> bool:
    return (day.year, day.month) == (period.year, period.month)


def _charge(position: Position, billed: Cycle, service: Cycle) -> Charge:
    with localcontext(_EXACT):
        amount = position.unit_net * position.quantity
        fraction = Decimal(service.days) / Decimal(billed.days)
        net = to_cents(amount * service.days / billed.days)
    return Charge(
        position_id=position.position_id,
        product_id=position.product_id,
        description=position.description,
        kind=position.kind,
        quantity=position.quantity,
        unit_net=position.unit_net,
        tax_category=position.tax_category,
        service_start=service.start,
        service_end=service.end,
        service_days=service.days,
        cycle_days=billed.days,
        fraction=fraction,
        net=net,
    )
