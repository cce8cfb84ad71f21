"""Importing a bank statement: match every transaction, post what matched, set the rest aside.

Exactly once, however often a file comes: each transaction's decision is stored before its
postings are written, keyed by the transaction id. A transaction already decided is not matched
again (the accounts now show its postings and would give another answer); its decision is
applied again instead, which writes only what an interrupted import had not written yet. So a
re-import posts nothing new and an import that failed half-way can simply be run again.

Imports run one at a time under a lease: matching reads the accounts and must see everything
the import before it posted. Transactions are worked in chunks: the accounts a chunk needs are
read together (in parallel), its decisions and postings written in batches.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from shared.accounts.model import Posting
from shared.accounts.ports import BulkLedger
from shared.bulk import fewer_collections
from shared.money import ZERO, total
from shared.payments.collections import CollectionBatches, Mandates
from shared.payments.matching import (
    AssignmentError,
    Books,
    Decision,
    MatchPolicy,
    assign_by_hand,
    decide,
    statement_problem,
    unmatched,
    wanted,
)
from shared.payments.ports import Decisions, ImportLock, InvoiceOwners
from shared.payments.statement import BankTransaction, Statement, StatementFile

logger = logging.getLogger(__name__)

CHUNK = 2_000
# camt entry statuses that moved money; MT940 has booked entries only (None).
BOOKED = frozenset({None, "BOOK"})
LEASE_SECONDS = 900


class ImportBusyError(RuntimeError):
    """Another import holds the lock."""


class UnmatchedEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    transaction_id: str
    booking_date: str
    amount: Decimal
    counterparty: str | None
    remittance: str
    reason: str


class ImportReport(BaseModel):
    """What one import of a file did. Amounts are of this import's new decisions."""

    digest: str
    format: str
    statements: int = 0
    entries: int = 0
    matched: int = 0
    by_rule: dict[str, int] = {}
    received: Decimal = ZERO
    returns: int = 0
    returned: Decimal = ZERO
    return_fees: Decimal = ZERO
    unmatched: int = 0
    unmatched_amount: Decimal = ZERO
    duplicates: int = 0
    # Pending or informational entries (camt Sts PDNG, INFO): no money moved, nothing posted;
    # the booked entry comes in a later statement.
    not_booked: int = 0
    postings: int = 0
    mandates_revoked: int = 0
    unmatched_entries: list[UnmatchedEntry] = []
    # Seconds spent reading accounts and references, matching, and writing.
    seconds: dict[str, float] = {}


class Settlement(Protocol):
    """Dunning's hook: a customer whose claim is now paid in full stops being dunned and is
    reactivated at once (``DunningService.settle_all``)."""

    def settle_all(self, customer_ids: Collection[str], *, on: date) -> Mapping[str, str]: ...


@dataclass
class _Tally:
    report: ImportReport
    clock: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "match": 0.0, "post": 0.0}
    )
    # Customers this import booked money to.
    credited: set[str] = field(default_factory=set)

    def credit(self, postings: Iterable[Posting]) -> None:
        self.credited |= {posting.customer_id for posting in postings if posting.amount < 0}

    def count(self, decisions: Sequence[Decision]) -> None:
        report = self.report
        for decision in decisions:
            if decision.rule is None:
                report.unmatched += 1
                report.unmatched_amount += decision.transaction.amount
                report.unmatched_entries.append(_entry(decision))
                continue
            report.matched += 1
            report.by_rule[decision.rule] = report.by_rule.get(decision.rule, 0) + 1
            if decision.rule == "debit_return":
                report.returns += 1
                report.returned += -decision.transaction.amount
                report.return_fees += total(
                    p.amount for p in decision.postings if p.kind == "return_fee"
                )
            else:
                report.received += decision.transaction.amount
            report.mandates_revoked += len(decision.revocations)

    def timed(self, step: str, started: float) -> None:
        self.clock[step] += time.perf_counter() - started


def new_lease(source: StatementFile) -> str:
    """A holder name for the import lock, unique to one import of the file."""
    return f"{source.digest[:16]}:{uuid.uuid4().hex[:8]}"


def _entry(decision: Decision) -> UnmatchedEntry:
    transaction = decision.transaction
    return UnmatchedEntry(
        transaction_id=transaction.transaction_id,
        booking_date=transaction.booking_date.isoformat(),
        amount=transaction.amount,
        counterparty=transaction.counterparty_name,
        remittance=transaction.remittance,
        reason=decision.reason or "",
    )


@dataclass
class PaymentImport:
    ledger: BulkLedger
    decisions: Decisions
    owners: InvoiceOwners
    batches: CollectionBatches
    mandates: Mandates
    lock: ImportLock
    policy: MatchPolicy
    chunk: int = CHUNK
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    settlement: Settlement | None = None

    def run(
        self,
        source: StatementFile,
        *,
        progress: Callable[[int], None] | None = None,
        lease: str | None = None,
    ) -> ImportReport:
        """Import every statement of the file; ``progress`` hears of each chunk done.

        With a ``lease`` (a part of a file imported in parts, ``shared.payments.parts``) the
        import runs under the lock its coordinator took and leaves it held; without, it takes
        the lock itself and gives it back.
        """
        holder = lease or new_lease(source)
        self.take_lock(holder)
        tally = _Tally(ImportReport(digest=source.digest, format=source.format))
        loaded = _Loaded()
        try:
            with fewer_collections():
                for statement in source.statements:
                    self._statement(statement, _Work(tally, loaded), holder, progress)
        finally:
            if lease is None:
                self.lock.release(holder)
        self._settle(tally.credited)
        tally.report.seconds = {step: round(s, 3) for step, s in tally.clock.items()}
        logger.info(
            "statement imported",
            extra={"digest": source.digest, "entries": tally.report.entries},
        )
        return tally.report

    def take_lock(self, holder: str) -> None:
        """Take the import lock, or renew it for a holder that has it already."""
        busy = self.lock.acquire(holder, now=self.now(), seconds=LEASE_SECONDS)
        if busy is not None and busy != holder:
            raise ImportBusyError(f"another import is running ({busy})")

    def release_lock(self, holder: str) -> None:
        self.lock.release(holder)

    def _settle(self, credited: set[str]) -> None:
        """Tell dunning of every customer money was booked to, as of today; a failure here
        loses nothing, the next dunning run settles what this missed."""
        if self.settlement is None or not credited:
            return
        try:
            self.settlement.settle_all(credited, on=self.now().date())
        except Exception:
            logger.exception("dunning not told of payments", extra={"customers": len(credited)})

    def _statement(
        self,
        statement: Statement,
        work: _Work,
        holder: str,
        progress: Callable[[int], None] | None,
    ) -> None:
        work.tally.report.statements += 1
        problem = statement_problem(statement, self.policy)
        for transactions in _chunks(statement.transactions, self.chunk):
            self._chunk(statement, transactions, problem, work)
            self.lock.renew(holder, now=self.now(), seconds=LEASE_SECONDS)
            if progress is not None:
                progress(len(transactions))

    def _chunk(
        self,
        statement: Statement,
        transactions: Sequence[BankTransaction],
        problem: str | None,
        work: _Work,
    ) -> None:
        tally = work.tally
        tally.report.entries += len(transactions)
        booked = [t for t in transactions if t.entry_status in BOOKED]
        tally.report.not_booked += len(transactions) - len(booked)
        transactions = booked
        started = time.perf_counter()
        known = self.decisions.decided([t.transaction_id for t in transactions])
        tally.timed("read", started)
        self._apply(list(known.values()), tally)
        work.loaded.books.apply(work.loaded.cached(known.values()))

        pending: dict[str, BankTransaction] = {}
        for transaction in transactions:
            if transaction.transaction_id not in known:
                pending.setdefault(transaction.transaction_id, transaction)
        tally.report.duplicates += len(transactions) - len(pending)
        if not pending:
            return
        decisions = self._decide(statement, list(pending.values()), problem, work)
        started = time.perf_counter()
        self.decisions.record(decisions)
        tally.timed("post", started)
        self._apply(decisions, tally, fresh=True)
        tally.count(decisions)

    def _decide(
        self,
        statement: Statement,
        transactions: list[BankTransaction],
        problem: str | None,
        work: _Work,
    ) -> list[Decision]:
        tally = work.tally
        if problem is not None:
            decided = [unmatched(t, problem) for t in transactions]
        else:
            started = time.perf_counter()
            books = self._load(transactions, work.loaded)
            tally.timed("read", started)
            started = time.perf_counter()
            decided = []
            for transaction in transactions:
                decision = decide(transaction, books, self.policy)
                books.apply(decision.postings)
                decided.append(decision)
            tally.timed("match", started)
        # The clarification list shows the statement; postings name the transaction already.
        return [
            _of_statement(decision, statement.statement_id) if decision.rule is None else decision
            for decision in decided
        ]

    def _load(self, transactions: Sequence[BankTransaction], loaded: _Loaded) -> Books:
        """The books with what these transactions need and earlier chunks did not load."""
        needed = wanted(transactions, self.policy)
        books = loaded.books
        for payment_info_id in sorted(needed.batches - loaded.batch_ids):
            batch = self.batches.batch(payment_info_id)
            if batch is not None:
                books.batches[payment_info_id] = batch
        loaded.batch_ids |= needed.batches
        numbers = needed.numbers - loaded.numbers
        if numbers:
            books.owners |= self.owners.owners(numbers)
            loaded.numbers |= numbers
        collected = {
            c.customer_id
            for payment_info_id in needed.batches
            if (batch := books.batches.get(payment_info_id))
            for c in batch.collections
        }
        owners = {books.owners[n] for n in needed.numbers if n in books.owners}
        customers = (needed.customers | owners | collected) - books.accounts.keys()
        if customers:
            books.accounts |= self.ledger.accounts(customers)
        return books

    def _apply(self, decisions: Sequence[Decision], tally: _Tally, *, fresh: bool = False) -> None:
        """Write what the decisions say; what is written already is not written again.
        Postings of ``fresh`` decisions, recorded just now, cannot be written yet."""
        if not decisions:
            return
        started = time.perf_counter()
        postings = [p for d in decisions for p in d.postings]
        post = self.ledger.post_new if fresh else self.ledger.post
        tally.report.postings += post(postings)
        tally.credit(postings)
        for decision in decisions:
            for revocation in decision.revocations:
                self.mandates.revoke(
                    revocation.customer_id,
                    revocation.mandate_reference,
                    reason=revocation.reason,
                    on=revocation.on,
                )
        self.decisions.set_aside([d for d in decisions if d.rule is None])
        tally.timed("post", started)


@dataclass
class _Loaded:
    """What an import has read so far: accounts stay current as its decisions are applied,
    so a customer paying in several chunks is read once."""

    books: Books = field(default_factory=Books)
    numbers: set[str] = field(default_factory=set)
    batch_ids: set[str] = field(default_factory=set)

    def cached(self, decisions: Iterable[Decision]) -> list[Posting]:
        """Postings of decisions applied again that touch accounts read already."""
        accounts = self.books.accounts
        return [p for d in decisions for p in d.postings if p.customer_id in accounts]


@dataclass
class _Work:
    tally: _Tally
    loaded: _Loaded


def _of_statement(decision: Decision, statement_id: str) -> Decision:
    """The decision naming its statement (every field is valid already: no validation)."""
    return Decision.model_construct(**(dict(decision) | {"statement_id": statement_id}))


def _chunks(items: Sequence[BankTransaction], size: int) -> Iterator[Sequence[BankTransaction]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Assigned:
    decision: Decision
    # False when the transaction had been assigned like this before (nothing new was posted).
    created: bool


@dataclass
class ManualAssignment:
    """A person assigns a transaction of the clarification list to a customer (and invoice)."""

    ledger: BulkLedger
    decisions: Decisions

    def assign(
        self, transaction_id: str, *, customer_id: str, invoice: str | None, who: str
    ) -> Assigned:
        stored = self.decisions.decided([transaction_id]).get(transaction_id)
        if stored is None:
            raise AssignmentError(f"no imported transaction {transaction_id}")
        if stored.rule is not None:
            return self._again(stored, customer_id=customer_id, invoice=invoice)

        account = self.ledger.account(customer_id)
        if not account.postings:
            raise AssignmentError(f"{customer_id} has no account: no invoice, no posting")
        decision = assign_by_hand(stored.transaction, account, invoice=invoice, who=who)
        decision = decision.model_copy(update={"statement_id": stored.statement_id})
        if not self.decisions.replace(decision, was_unmatched=True):
            current = self.decisions.decided([transaction_id])[transaction_id]
            return self._again(current, customer_id=customer_id, invoice=invoice)
        self.ledger.post(decision.postings)
        self.decisions.settled(decision)
        logger.info(
            "transaction assigned by hand",
            extra={"transaction_id": transaction_id, "customer_id": customer_id, "who": who},
        )
        return Assigned(decision, created=True)

    def _again(self, stored: Decision, *, customer_id: str, invoice: str | None) -> Assigned:
        """The same assignment once more finishes it; any other is refused."""
        if stored.rule != "manual":
            raise AssignmentError(
                f"{stored.transaction.transaction_id} was matched by the import ({stored.rule})"
            )
        items = {p.item for p in stored.postings if p.item}
        same = stored.customer_ids == (customer_id,) and (invoice is None or invoice in items)
        if not same:
            raise AssignmentError(
                f"{stored.transaction.transaction_id} is already assigned to "
                + ", ".join(stored.customer_ids)
            )
        self.ledger.post(stored.postings)
        self.decisions.settled(stored)
        return Assigned(stored, created=False)
