from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, the unit an invoice run bills."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.fullmatch(text)
        if not match:
            raise ValueError(f"period must look like YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def previous(cls, today: date) -> Period:
        last_of_previous = today.replace(day=1) - timedelta(days=1)
        return cls(last_of_previous.year, last_of_previous.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def retain_until(issued: date, years: int) -> datetime:
    """The end of the ``years``-th year after the year of issue (GoBD retention), as UTC."""
    from datetime import UTC

    return datetime(issued.year + years + 1, 1, 1, tzinfo=UTC)
