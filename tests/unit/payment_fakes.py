"""Bank transactions, accounts and in-memory ports for unit tests of matching and importing."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.accounts.model import Posting
from shared.payments.collections import CollectionBatch
from shared.payments.importing import PaymentImport
from shared.payments.matching import Books, Decision, MatchPolicy
from shared.payments.references import compact
from shared.payments.statement import BankTransaction, Statement, StatementFile

OUR_IBAN = "DE02120300000000202051"
BOOKED = date(2026, 12, 3)
ISSUED = date(2026, 12, 1)
POLICY = MatchPolicy(
    invoice_prefixes=("RE", "GS"),
    return_fee=Decimal("5.00"),
    fee_due_days=14,
    own_ibans=(OUR_IBAN,),
)


def transaction(
    amount: str, *, transaction_id: str = "TX-00000001", **values: Any
) -> BankTransaction:
    return BankTransaction.model_validate(
        {
            "transaction_id": transaction_id,
            "amount": Decimal(amount),
            "currency": "EUR",
            "booking_date": BOOKED,
        }
        | values
    )


def invoice(customer_id: str, number: str, gross: str, *, issued: date = ISSUED) -> Posting:
    return Posting(
        posting_id=f"invoice:{number}",
        customer_id=customer_id,
        booked_on=issued,
        kind="invoice",
        amount=Decimal(gross),
        item=number,
        document_number=number,
        source=f"invoice:{number}",
        due_on=issued + timedelta(days=14),
    )


def books_of(*postings: Posting, batches: Iterable[CollectionBatch] = ()) -> Books:
    """Books as the import loads them: the accounts and the owner of every invoice."""
    books = Books(batches={batch.payment_info_id: batch for batch in batches})
    books.apply(postings)
    books.owners = {p.item: p.customer_id for p in postings if p.kind == "invoice" and p.item}
    return books


def statement_file(*transactions: BankTransaction, iban: str = OUR_IBAN) -> StatementFile:
    statement = Statement(
        format="camt.053",
        statement_id="STMT-2026-12-03",
        account_iban=iban,
        currency="EUR",
        transactions=tuple(transactions),
    )
    return StatementFile(digest="0" * 64, format="camt.053", statements=(statement,))


class MemoryBatches:
    def __init__(self, *batches: CollectionBatch) -> None:
        self.batches = {batch.payment_info_id: batch for batch in batches}

    def record(self, batch: CollectionBatch) -> None:
        self.batches.setdefault(batch.payment_info_id, batch)

    def batch(self, payment_info_id: str) -> CollectionBatch | None:
        return self.batches.get(payment_info_id)


class MemoryMandates:
    def __init__(self) -> None:
        self.revoked: dict[tuple[str, str], tuple[str, date]] = {}

    def revoke(self, customer_id: str, reference: str, *, reason: str, on: date) -> None:
        self.revoked.setdefault((customer_id, reference), (reason, on))


class MemoryOwners:
    """Invoice number -> customer, from the invoices posted to a ledger."""

    def __init__(self, postings: dict[str, Posting]) -> None:
        self._postings = postings

    def owners(self, numbers: Collection[str]) -> dict[str, str]:
        wanted = {compact(number): number for number in numbers}
        return {
            wanted[compact(p.item)]: p.customer_id
            for p in self._postings.values()
            if p.kind == "invoice" and p.item and compact(p.item) in wanted
        }


class MemoryDecisions:
    def __init__(self) -> None:
        self.stored: dict[str, Decision] = {}
        self.aside: dict[str, Decision] = {}

    def decided(self, transaction_ids: Collection[str]) -> dict[str, Decision]:
        return {i: self.stored[i] for i in transaction_ids if i in self.stored}

    def record(self, decisions: Sequence[Decision]) -> None:
        for decision in decisions:
            self.stored[decision.transaction.transaction_id] = decision

    def set_aside(self, decisions: Sequence[Decision]) -> None:
        for decision in decisions:
            self.aside[decision.transaction.transaction_id] = decision

    def unmatched(self) -> list[Decision]:
        return sorted(self.aside.values(), key=lambda d: d.transaction.booking_date)

    def replace(self, decision: Decision, *, was_unmatched: bool) -> bool:
        current = self.stored.get(decision.transaction.transaction_id)
        if was_unmatched and (current is None or current.rule is not None):
            return False
        self.stored[decision.transaction.transaction_id] = decision
        return True

    def settled(self, decision: Decision) -> None:
        self.aside.pop(decision.transaction.transaction_id, None)


class MemoryLock:
    def __init__(self, held_by: str | None = None) -> None:
        self.held_by = held_by
        self.renewals = 0

    def acquire(self, holder: str, *, now: datetime, seconds: int) -> str | None:
        if self.held_by not in (None, holder):
            return self.held_by
        self.held_by = holder
        return None

    def renew(self, holder: str, *, now: datetime, seconds: int) -> None:
        assert self.held_by == holder
        self.renewals += 1

    def release(self, holder: str) -> None:
        if self.held_by == holder:
            self.held_by = None


class MemoryWork:
    """The work bucket of the statement import in parts."""

    bucket = "work"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def write_json(self, key: str, document: Any) -> str:
        self.objects[key] = json.dumps(document, default=str).encode()
        return key

    def read_json(self, key: str) -> Any:
        return json.loads(self.objects[key])

    def read_json_if_present(self, key: str) -> Any | None:
        return json.loads(self.objects[key]) if key in self.objects else None

    def write_bytes(self, key: str, body: bytes) -> str:
        self.objects[key] = body
        return key

    def read_bytes(self, key: str) -> bytes:
        return self.objects[key]


STATEMENT_KEY = "statements/2026-12-10.xml"


def import_run(use_case: PaymentImport, data: bytes, *, entries_per_part: int) -> Any:
    """The statement import in parts over in-memory ports, with ``data`` as the file."""
    from shared.payments.import_run import StatementImportRun
    from shared.payments.parts import PartedImport

    parted = PartedImport(use_case, entries_per_part=entries_per_part)
    return StatementImportRun(parted, MemoryWork(), lambda bucket, key: data)


def import_in_parts(use_case: PaymentImport, data: bytes, *, entries_per_part: int) -> Any:
    """Every step as the state machine takes them: prepare, each part, finalize; the report."""
    from shared.payments.import_run import (
        FinalizeRequest,
        PartRequest,
        PrepareRequest,
        execution_name,
    )
    from shared.payments.statements import read_statement

    run = import_run(use_case, data, entries_per_part=entries_per_part)
    execution = execution_name(read_statement(data).digest)
    prepared = run.prepare(PrepareRequest(bucket="work", key=STATEMENT_KEY), execution=execution)
    for item in run.work.read_json(prepared["manifest_key"]):
        run.import_part(PartRequest(execution=execution, part=item["part"]))
    return run.finalize(FinalizeRequest(execution=execution, parts=prepared["parts"]))
