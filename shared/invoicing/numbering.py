"""Invoice numbers: sequential within a range per prefix and year, handed out in blocks.

A worker reserves one block of consecutive numbers for the customers of its shard and keeps the
assignment, so a retried worker gives every customer the same number again. Every number ends as
an issued document or as a recorded void.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

SEQUENCE_DIGITS = 8


def range_key(prefix: str, year: int) -> str:
    return f"{prefix}-{year}"


def format_number(number_range: str, sequence: int) -> str:
    return f"{number_range}-{sequence:0{SEQUENCE_DIGITS}d}"


def sequence_of(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


@dataclass(frozen=True)
class NumberBlock:
    """Numbers ``first``..``first + len(customers) - 1`` assigned in the order of ``customers``.

    A number is handed out together with its issue date: whichever attempt issues it later uses
    that date, so every retry renders the very same document.
    """

    number_range: str
    block_id: str
    first: int
    customers: tuple[str, ...]
    issue_date: date

    def assignment(self) -> dict[str, str]:
        return {
            customer_id: format_number(self.number_range, self.first + offset)
            for offset, customer_id in enumerate(self.customers)
        }


@dataclass
class Assignment:
    """Which number each customer of a shard gets in this run, over all of its blocks."""

    numbers: dict[str, str] = field(default_factory=dict)
    issue_dates: dict[str, date] = field(default_factory=dict)

    @classmethod
    def of(cls, blocks: Sequence[NumberBlock]) -> Assignment:
        assignment = cls()
        for block in blocks:
            assignment.numbers.update(block.assignment())
            assignment.issue_dates.update(dict.fromkeys(block.customers, block.issue_date))
        return assignment

    def missing(self, customer_ids: Sequence[str], voided: Collection[str]) -> list[str]:
        """Customers that still need a number: none yet, or theirs was voided."""
        return [
            customer_id
            for customer_id in customer_ids
            if self.numbers.get(customer_id) is None or self.numbers[customer_id] in voided
        ]
