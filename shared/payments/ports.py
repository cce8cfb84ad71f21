"""What the statement import needs from storage, beside the ledger. DynamoDB implementations
live in ``shared/storage/payments.py``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from shared.payments.matching import Decision


class InvoiceOwners(Protocol):
    def owners(self, numbers: Collection[str]) -> dict[str, str]:
        """The customer each of the invoice numbers was issued to; unknown numbers are left out."""
        ...


class Decisions(Protocol):
    """One decision per bank transaction, and the clarification list of those left unmatched."""

    def decided(self, transaction_ids: Collection[str]) -> dict[str, Decision]: ...

    def record(self, decisions: Sequence[Decision]) -> None:
        """Store decisions taken for the first time (the import holds the import lock)."""
        ...

    def set_aside(self, decisions: Sequence[Decision]) -> None:
        """Put unmatched decisions on the clarification list; doing it again changes nothing."""
        ...

    def unmatched(self) -> list[Decision]:
        """The clarification list, oldest booking first."""
        ...

    def replace(self, decision: Decision, *, was_unmatched: bool) -> bool:
        """Store a decision taken by hand in place of the unmatched one; False when the
        transaction is no longer unmatched (someone assigned it in the meantime)."""
        ...

    def settled(self, decision: Decision) -> None:
        """Take an assigned transaction off the clarification list."""
        ...


class ImportLock(Protocol):
    """Imports run one at a time: matching must see every posting of the import before it."""

    def acquire(self, holder: str, *, now: datetime, seconds: int) -> str | None:
        """Take the lock; None on success, else who holds it."""
        ...

    def renew(self, holder: str, *, now: datetime, seconds: int) -> None: ...

    def release(self, holder: str) -> None: ...
