"""The debit export: one pain.008 file per collection date of everything due and not yet collected.

How nothing is collected twice:
- One export at a time holds the register (a lease in the Control table).
- Each item is claimed once, under a key of its own (customer and item), conditionally; a later
  date finds the claim and leaves the item alone, and so does the same date again.
- The file is written first (S3, If-None-Match), and only then are its batches recorded, its
  items claimed, its FRST mandates noted as used and the file recorded for its date. The lease
  names the file while this happens; an export that stopped half way is completed, from the
  written file itself, by the next export before it collects anything new.
- Ids come from the date and the contents, so writing the same collections again gives the
  same file, and an export of a date whose items are all claimed writes nothing and reports the
  date's files.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.accounts.model import Account
from shared.accounts.ports import Ledger
from shared.customers import shard_of
from shared.money import total
from shared.payments.collections import CollectionBatches
from shared.payments.debit_ports import (
    DebitFileStore,
    DebitFileSummary,
    DebitRegister,
    Lease,
    MandateStore,
)
from shared.payments.debits import (
    DEFAULT_VERSION,
    Creditor,
    DebitFile,
    DebitPayment,
    PainVersion,
    Skipped,
    check_lead_time,
    file_id_for,
    file_key,
    pain008,
    parse_collection_date,
    parse_version,
    payments_for,
    read_pain008,
)
from shared.payments.mandates import StoredMandate, usable_mandate
from shared.payments.target import next_business_day

logger = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
LEASE = timedelta(minutes=15)
ShardProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class DebitExportRequest:
    collection_date: date
    version: PainVersion = DEFAULT_VERSION

    @classmethod
    def parse(cls, collection_date: str, version: str = DEFAULT_VERSION) -> DebitExportRequest:
        """DebitInputError naming the field for a date or version that is not one."""
        return cls(parse_collection_date(collection_date), parse_version(version))


class ScheduledExport(BaseModel):
    """What the daily schedule sends: the time it was due (EventBridge Scheduler fills it in)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scheduled_time: AwareDatetime

    def request(self) -> DebitExportRequest:
        """The next TARGET2 business day after the day the schedule was due, in Berlin."""
        today = self.scheduled_time.astimezone(BERLIN).date()
        return DebitExportRequest(next_business_day(today))


class SkippedItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    item: str | None
    reason: str


class DebitExportResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    collection_date: date
    version: str
    shards: int
    # The file this export wrote; None when everything due was in a file already.
    new_file: DebitFileSummary | None
    # Every file of the collection date, the new one included.
    files: tuple[DebitFileSummary, ...]
    # Due items found in a file already (this date's or an earlier one's).
    already_claimed: int
    customers_with_revoked_mandates: int
    skipped: tuple[SkippedItem, ...] = ()
    # A file an earlier export left half written, completed by this one.
    completed_pending: str | None = None


@dataclass
class _Scan:
    payments: list[DebitPayment] = field(default_factory=list)
    # The shard of each customer collected from, where its mandate is noted on.
    shards: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedItem] = field(default_factory=list)
    already_claimed: int = 0
    revoked: int = 0


@dataclass
class DebitExportService:
    mandates: MandateStore
    ledger: Ledger
    register: DebitRegister
    batches: CollectionBatches
    files: DebitFileStore
    creditor: Creditor
    shard_count: int
    clock: Callable[[], datetime] = lambda: datetime.now(BERLIN)

    def export(
        self, request: DebitExportRequest, *, on_shard: ShardProgress | None = None
    ) -> DebitExportResult:
        """Raises DebitInputError (nothing written) or DebitBusyError (another export runs)."""
        now = self.clock()
        check_lead_time(request.collection_date, now.astimezone(BERLIN).date())
        holder = uuid.uuid4().hex
        lease = self.register.acquire(holder, now=now, until=now + LEASE)
        try:
            completed = self._complete_pending(lease)
            scan = self._scan(request.collection_date, on_shard)
            new_file = self._write(holder, request, scan, now) if scan.payments else None
        finally:
            self.register.release(holder)
        return DebitExportResult(
            collection_date=request.collection_date,
            version=request.version,
            shards=self.shard_count,
            new_file=new_file,
            files=tuple(self.register.files_on(request.collection_date)),
            already_claimed=scan.already_claimed,
            customers_with_revoked_mandates=scan.revoked,
            skipped=tuple(scan.skipped),
            completed_pending=completed,
        )

    def _complete_pending(self, lease: Lease) -> str | None:
        if lease.pending_key is None:
            return None
        xml = self.files.read_if_present(lease.pending_key)
        if xml is None:
            self.register.clear_pending(lease.holder)
            return None
        logger.warning(
            "completing a debit file left half written", extra={"key": lease.pending_key}
        )
        completed = self._complete(read_pain008(xml), lease.pending_key)
        self.register.clear_pending(lease.holder)
        return completed.file_id

    def _scan(self, collection_date: date, on_shard: ShardProgress | None) -> _Scan:
        scan = _Scan()
        for shard in range(self.shard_count):
            mandates = self.mandates.load_mandates(shard)
            payments = self._due_in_shard(mandates, collection_date, scan)
            claimed = self.register.claims([(p.customer_id, p.item) for p in payments])
            scan.already_claimed += len(claimed)
            new = [p for p in payments if (p.customer_id, p.item) not in claimed]
            scan.payments += new
            scan.shards |= {payment.customer_id: shard for payment in new}
            if on_shard is not None:
                on_shard(shard + 1, self.shard_count)
        return scan

    def _due_in_shard(
        self, mandates: dict[str, list[StoredMandate]], collection_date: date, scan: _Scan
    ) -> list[DebitPayment]:
        usable: dict[str, StoredMandate] = {}
        for customer_id in sorted(mandates):
            stored = usable_mandate(mandates[customer_id])
            if stored is None:
                scan.revoked += 1
            elif stored.mandate.creditor_id != self.creditor.creditor_id:
                reason = f"mandate {stored.mandate.reference} names creditor id "
                reason += f"{stored.mandate.creditor_id}, not ours"
                scan.skipped.append(SkippedItem(customer_id=customer_id, item=None, reason=reason))
            else:
                usable[customer_id] = stored
        accounts = self._accounts(list(usable))
        payments: list[DebitPayment] = []
        for customer_id, stored in usable.items():
            found, skipped = payments_for(accounts[customer_id], stored, collection_date)
            payments += found
            scan.skipped += [_skipped(s) for s in skipped]
        return payments

    def _accounts(self, customer_ids: list[str]) -> dict[str, Account]:
        """A shard's accounts: in one call where the ledger reads many at once (the DynamoDB
        ledger's ``accounts`` reads them in parallel), else one by one."""
        bulk = getattr(self.ledger, "accounts", None)
        if callable(bulk):
            found: dict[str, Account] = bulk(customer_ids)
            return found
        return {customer_id: self.ledger.account(customer_id) for customer_id in customer_ids}

    def _write(
        self,
        holder: str,
        request: DebitExportRequest,
        scan: _Scan,
        now: datetime,
    ) -> DebitFileSummary:
        day = request.collection_date
        payments = scan.payments
        file_id = file_id_for(self.creditor, day, request.version, payments)
        xml = pain008(
            self.creditor,
            day,
            payments,
            version=request.version,
            file_id=file_id,
            created_at=now.astimezone(BERLIN).replace(tzinfo=None),
        )
        key = file_key(day, file_id)
        self.register.set_pending(holder, key)
        if not self.files.store_once(key, xml):
            xml = self.files.read_if_present(key) or xml
        summary = self._complete(read_pain008(xml), key, scan.shards)
        self.register.clear_pending(holder)
        return summary

    def _complete(
        self, written: DebitFile, key: str, shards: Mapping[str, int] | None = None
    ) -> DebitFileSummary:
        """Record the batches, claim the items, note the first collections, record the file.
        A customer's shard is known from the scan, else (a file left half written) derived."""
        shards = shards or {}
        for batch in written.batches:
            self.batches.record(batch)
        conflicts = 0
        for collection in written.collections:
            claimed = self.register.claim(
                collection, collection_date=written.collection_date, file_id=written.file_id
            )
            if not claimed:
                conflicts += 1
                logger.error(
                    "item of a debit file was claimed by another file",
                    extra={"file_id": written.file_id, "end_to_end_id": collection.end_to_end_id},
                )
            elif collection.sequence == "FRST":
                customer_id = collection.customer_id
                self.mandates.note_first_collection(
                    shards.get(customer_id, shard_of(customer_id, self.shard_count)),
                    collection.customer_id,
                    collection.mandate_reference,
                    on=written.collection_date,
                )
        summary = summarize(written, key, conflicts)
        self.register.record_file(summary)
        logger.info(
            "debit file written",
            extra={"file_id": written.file_id, "key": key, "items": summary.items},
        )
        return summary


def _skipped(skipped: Skipped) -> SkippedItem:
    return SkippedItem(customer_id=skipped.customer_id, item=skipped.item, reason=skipped.reason)


def summarize(written: DebitFile, key: str, conflicts: int = 0) -> DebitFileSummary:
    collections = written.collections
    first = [c for c in collections if c.sequence == "FRST"]
    recurring = [c for c in collections if c.sequence == "RCUR"]
    return DebitFileSummary(
        file_id=written.file_id,
        key=key,
        collection_date=written.collection_date,
        version=written.version,
        items=len(collections),
        customers=len({c.customer_id for c in collections}),
        total=total(c.amount for c in collections),
        frst_items=len(first),
        frst_total=total(c.amount for c in first),
        rcur_items=len(recurring),
        rcur_total=total(c.amount for c in recurring),
        payment_info_ids=tuple(batch.payment_info_id for batch in written.batches),
        conflicts=conflicts,
    )
