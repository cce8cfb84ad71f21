"""In-memory stand-ins for the debit export's ports, with the conditional writes of DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from shared.accounts.model import Posting
from shared.orders.model import Mandate
from shared.payments.collections import Collection, CollectionBatch
from shared.payments.debit_ports import Claim, DebitBusyError, DebitFileSummary, Lease
from shared.payments.mandates import StoredMandate


class FakeMandates:
    def __init__(self) -> None:
        self.by_shard: dict[int, dict[tuple[str, str], StoredMandate]] = {}
        self.loads = 0

    def add(self, shard: int, mandate: Mandate, **notes: object) -> None:
        stored = StoredMandate(mandate, **notes)  # type: ignore[arg-type]
        self.by_shard.setdefault(shard, {})[(mandate.customer_id, mandate.reference)] = stored

    def load_mandates(self, shard: int) -> dict[str, list[StoredMandate]]:
        self.loads += 1
        found: dict[str, list[StoredMandate]] = {}
        for stored in self.by_shard.get(shard, {}).values():
            found.setdefault(stored.customer_id, []).append(stored)
        return found

    def note_first_collection(
        self, shard: int, customer_id: str, reference: str, *, on: date
    ) -> None:
        mandates = self.by_shard.get(shard, {})
        stored = mandates.get((customer_id, reference))
        if stored is not None and stored.first_collected_on is None:
            mandates[(customer_id, reference)] = replace(stored, first_collected_on=on)

    def revoke(self, customer_id: str, reference: str, *, reason: str, on: date) -> None:
        for mandates in self.by_shard.values():
            stored = mandates.get((customer_id, reference))
            if stored is not None and stored.usable:
                mandates[(customer_id, reference)] = replace(
                    stored, revoked_reason=reason, revoked_on=on
                )

    def stored(self, customer_id: str) -> StoredMandate:
        return next(
            s for m in self.by_shard.values() for s in m.values() if s.customer_id == customer_id
        )


@dataclass
class FakeRegister:
    lease: dict[str, object] = field(default_factory=dict)
    claimed: dict[tuple[str, str], Claim] = field(default_factory=dict)
    files: dict[str, DebitFileSummary] = field(default_factory=dict)
    claim_writes: int = 0

    def acquire(self, holder: str, *, now: datetime, until: datetime) -> Lease:
        current = self.lease
        held_until = current.get("until")
        held = isinstance(held_until, datetime) and held_until >= now
        if current.get("holder") not in (None, holder) and held:
            raise DebitBusyError(f"another debit export holds the register until {held_until}")
        self.lease = current | {"holder": holder, "until": until}
        pending = self.lease.get("pending_key")
        return Lease(holder, pending if isinstance(pending, str) else None)

    def set_pending(self, holder: str, key: str) -> None:
        assert self.lease.get("holder") == holder
        self.lease["pending_key"] = key

    def clear_pending(self, holder: str) -> None:
        if self.lease.get("holder") == holder:
            self.lease.pop("pending_key", None)

    def release(self, holder: str) -> None:
        if self.lease.get("holder") != holder:
            return
        pending = self.lease.get("pending_key")
        self.lease = {"pending_key": pending} if pending else {}

    def claims(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Claim]:
        return {key: self.claimed[key] for key in keys if key in self.claimed}

    def claim(self, collection: Collection, *, collection_date: date, file_id: str) -> bool:
        key = (collection.customer_id, collection.item)
        existing = self.claimed.get(key)
        if existing is not None:
            return existing.file_id == file_id
        self.claim_writes += 1
        self.claimed[key] = Claim(key[0], key[1], collection_date, file_id)
        return True

    def files_on(self, day: date) -> list[DebitFileSummary]:
        return sorted(
            (f for f in self.files.values() if f.collection_date == day), key=lambda f: f.file_id
        )

    def record_file(self, summary: DebitFileSummary) -> None:
        self.files[summary.file_id] = summary


class FakeBatches:
    def __init__(self) -> None:
        self.recorded: dict[str, CollectionBatch] = {}

    def record(self, batch: CollectionBatch) -> None:
        existing = self.recorded.setdefault(batch.payment_info_id, batch)
        assert existing == batch

    def batch(self, payment_info_id: str) -> CollectionBatch | None:
        return self.recorded.get(payment_info_id)


class FakeDebitFiles:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_next_store = False

    def store_once(self, key: str, body: bytes) -> bool:
        if key in self.objects:
            return False
        self.objects[key] = body
        if self.fail_next_store:
            self.fail_next_store = False
            raise ConnectionError("the export stopped right after the file was written")
        return True

    def read_if_present(self, key: str) -> bytes | None:
        return self.objects.get(key)


def invoice_posting(
    customer_id: str,
    sequence: int,
    gross: str,
    *,
    issued: date = date(2026, 12, 1),
    due: date = date(2026, 12, 15),
) -> Posting:
    """An invoice as the ledger derives it from its document: the item is the number."""
    number = f"RE-2026-{sequence:08d}"
    return Posting(
        posting_id=f"invoice:{number}",
        customer_id=customer_id,
        booked_on=issued,
        kind="invoice",
        amount=Decimal(gross),
        item=number,
        document_number=number,
        source=f"invoice:{number}",
        due_on=due,
    )


def payment_posting(customer_id: str, item: str, amount: str, *, on: date) -> Posting:
    return Posting(
        posting_id=f"statement:{customer_id}-{item}-{amount}",
        customer_id=customer_id,
        booked_on=on,
        kind="payment",
        amount=-Decimal(amount),
        item=item,
        source=f"statement:{item}",
    )
