"""What a direct-debit file collected, as the statement matching needs it back.

The debit export (pain.008) and the statement import meet here:
- Every collected item gets the end-to-end id ``<customer id>-<item>`` (at most 35 characters,
  SEPA's character set), so a bank entry that reports it names customer and item without a
  lookup: ``end_to_end_id`` and ``parse_end_to_end_id`` are the only two places that know it.
- Banks often book a whole collection as one entry without transaction details, giving only
  the payment information id (PmtInfId) and the sum. The export records each payment
  information block with its collections, so that such an entry can be settled item by item.
- A returned debit whose reason says the mandate cannot be used again (``MANDATE_ENDING``)
  revokes the mandate; the export skips revoked mandates.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

# Return reasons after which a mandate must not be used again: account closed, blocked or
# unknown, no mandate, mandate cancelled or expired, the debtor deceased.
MANDATE_ENDING: frozenset[str] = frozenset(
    {"AC01", "AC04", "AC06", "AC13", "MD01", "MD07", "SL01", "BE05"}
)

_END_TO_END = re.compile(r"^(C\d{7,12})-([A-Z0-9]{1,22})$")


def end_to_end_id(customer_id: str, item: str) -> str:
    value = f"{customer_id}-{item}"
    if not _END_TO_END.match(value):
        raise ValueError(f"item {item!r} cannot stand in an end-to-end id")
    return value


def parse_end_to_end_id(value: str | None) -> tuple[str, str] | None:
    """(customer id, item) of one of our own collections, else None."""
    found = _END_TO_END.match((value or "").strip().upper())
    return (found.group(1), found.group(2)) if found else None


class Collection(BaseModel):
    """One item collected in a debit file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    item: str
    amount: Decimal = Field(gt=0)
    end_to_end_id: str
    mandate_reference: str
    sequence: Literal["FRST", "RCUR"]


class CollectionBatch(BaseModel):
    """One payment information block (PmtInf) of a debit file: one sequence type, one date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payment_info_id: str = Field(min_length=1, max_length=35)
    file_id: str
    collection_date: date
    collections: tuple[Collection, ...]

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.collections), start=Decimal("0.00"))


class CollectionBatches(Protocol):
    def record(self, batch: CollectionBatch) -> None:
        """Store the batch; recording the same batch again changes nothing."""
        ...

    def batch(self, payment_info_id: str) -> CollectionBatch | None: ...


class Mandates(Protocol):
    def revoke(self, customer_id: str, reference: str, *, reason: str, on: date) -> None:
        """Mark the mandate unusable; the first revocation's reason and date are kept."""
        ...
