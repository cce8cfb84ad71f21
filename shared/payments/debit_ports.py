"""What the debit export needs from storage. The DynamoDB and S3 implementations live in
``shared/storage/debits.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from shared.payments.collections import Collection
from shared.payments.mandates import StoredMandate


class DebitBusyError(RuntimeError):
    """Another debit export holds the register; the message says until when."""


@dataclass(frozen=True)
class Lease:
    """The register held by one export; ``pending_key`` is the file an earlier export was
    writing when it stopped, if any: it is completed before anything new is collected."""

    holder: str
    pending_key: str | None = None


@dataclass(frozen=True)
class Claim:
    customer_id: str
    item: str
    collection_date: date
    file_id: str


class DebitFileSummary(BaseModel):
    """A written debit file, as the register keeps it and the export reports it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file_id: str
    key: str
    collection_date: date
    version: str
    items: int
    customers: int
    total: Decimal
    frst_items: int
    frst_total: Decimal
    rcur_items: int
    rcur_total: Decimal
    payment_info_ids: tuple[str, ...]
    # Items of the file another file had claimed first: never expected, reported loudly.
    conflicts: int = 0


class MandateStore(Protocol):
    def load_mandates(self, shard: int) -> dict[str, list[StoredMandate]]:
        """Every mandate of the shard's customers, revoked ones too, in one read."""
        ...

    def note_first_collection(
        self, shard: int, customer_id: str, reference: str, *, on: date
    ) -> None:
        """From now on the mandate is recurring; the first date noted is kept."""
        ...


class DebitRegister(Protocol):
    def acquire(self, holder: str, *, now: datetime, until: datetime) -> Lease:
        """Hold the register until ``until``; DebitBusyError while another export holds it."""
        ...

    def set_pending(self, holder: str, key: str) -> None:
        """Note the file about to be written, so that a stopped export is completed later."""
        ...

    def clear_pending(self, holder: str) -> None:
        """The noted file is complete."""
        ...

    def release(self, holder: str) -> None:
        """End the lease; a file still noted as pending stays noted for the next export."""
        ...

    def claims(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Claim]:
        """The claims of these (customer id, item) pairs that exist."""
        ...

    def claim(self, collection: Collection, *, collection_date: date, file_id: str) -> bool:
        """Claim the item for the file once; False when another file holds it."""
        ...

    def files_on(self, day: date) -> list[DebitFileSummary]: ...

    def record_file(self, summary: DebitFileSummary) -> None: ...


class DebitFileStore(Protocol):
    def store_once(self, key: str, body: bytes) -> bool:
        """Write the file unless one is there; False when it was there already."""
        ...

    def read_if_present(self, key: str) -> bytes | None: ...
