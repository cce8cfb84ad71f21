"""Bank transactions, accounts and in-memory ports for unit tests of matching and importing."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.accounts.model import Posting
from shared.payments.collections import CollectionBatch
from shared.payments.matching import Books, MatchPolicy
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
