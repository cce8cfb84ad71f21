"""The customer account in DynamoDB: postings beside the customer's documents.

Keys (Documents table)
- ``CUST#<customer id>`` holds the customer's documents (``DOC#<issue date>#<number>``, written
  by the invoice run and corrections) and postings (``POST#<booked on>#<posting id>``), so one
  query reads the whole account. Issued invoices, cancellations and credit notes are postings
  derived from their document items: the invoice run writes nothing extra for the ledger.
- Postings carry ``booking_day`` = ``<booked on>#<bucket>``, the key of the sparse index
  ``by-booking-day`` (documents lack the attribute, so they are not in it). The bucket is a
  stable hash of the posting id over ``BOOKING_BUCKETS``, so a day with a million postings is
  spread over that many index partitions instead of one.

A posting is written once: ``post`` reads which of the keys exist and batch-puts the others;
two writers of the same posting put the very same item.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.accounts.model import Account, Posting, PostingKind, account_of
from shared.storage import document_codec
from shared.storage.dynamodb import BULK_CALLS, Item, batch_put, get_many, query_all

BOOKING_INDEX = "by-booking-day"
# Part of the stored key format: changing it hides the postings of earlier days from the index.
BOOKING_BUCKETS = 32
PARALLEL_READS = 16

# Document types that are postings, with the kind they post as.
DOCUMENT_KINDS: dict[str, PostingKind] = {
    "invoice": "invoice",
    "cancellation": "cancellation",
    "credit_note": "credit_note",
}
_ACCOUNT_ATTRIBUTES = (
    "pk",
    "sk",
    "document_type",
    "number",
    "customer_id",
    "issue_date",
    "due_date",
    "gross",
    "refers_to",
    "posting",
)


def account_key(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def posting_sort_key(posting: Posting) -> str:
    return f"POST#{posting.booked_on.isoformat()}#{posting.posting_id}"


def booking_day(booked_on: date, posting_id: str) -> str:
    digest = hashlib.sha256(posting_id.encode()).digest()
    return f"{booked_on.isoformat()}#{int.from_bytes(digest[:4], 'big') % BOOKING_BUCKETS:02d}"


def posting_item(posting: Posting) -> Item:
    return {
        "pk": account_key(posting.customer_id),
        "sk": posting_sort_key(posting),
        "booking_day": booking_day(posting.booked_on, posting.posting_id),
        "posting": posting.model_dump_json(exclude_defaults=True),
    }


class DynamoLedger:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def post(self, postings: Sequence[Posting]) -> int:
        """Write each posting once, by its id; how many of them were new."""
        unique = {posting_sort_key(p): p for p in postings}
        items = {(account_key(p.customer_id), key): p for key, p in unique.items()}
        present = self._existing(list(items))
        new = [posting for key, posting in items.items() if key not in present]
        batch_put(self._client, self._table, map(posting_item, new), parallel=BULK_CALLS)
        return len(new)

    def post_new(self, postings: Sequence[Posting]) -> int:
        unique = {(account_key(p.customer_id), posting_sort_key(p)): p for p in postings}
        batch_put(
            self._client, self._table, map(posting_item, unique.values()), parallel=BULK_CALLS
        )
        return len(unique)

    def account(self, customer_id: str) -> Account:
        """The customer's postings, issued invoices and corrections included, in one query.

        Document items written before they carried ``due_date`` are read once more in full
        (one batch read for all of them) and their due date taken from the document.
        """
        items = list(
            query_all(
                self._client,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": account_key(customer_id)}},
                ProjectionExpression=", ".join(f"#a{i}" for i in range(len(_ACCOUNT_ATTRIBUTES))),
                ExpressionAttributeNames={
                    f"#a{i}": name for i, name in enumerate(_ACCOUNT_ATTRIBUTES)
                },
                ConsistentRead=True,
            )
        )
        return account_of(customer_id, self._postings_of(items))

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]:
        """Several accounts, read in parallel (one query each)."""
        wanted = sorted(set(customer_ids))
        if len(wanted) <= 1:
            return {customer_id: self.account(customer_id) for customer_id in wanted}
        with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(wanted))) as pool:
            return dict(zip(wanted, pool.map(self.account, wanted), strict=True))

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        """Every stored posting booked from ``first`` to ``last`` inclusive, of every customer,
        in booking order (day, then posting id).

        Stored postings are those written through ``post``: payments, returned debits, fees,
        interest, write-offs, refunds and manual bookings. Invoices, cancellations and credit
        notes are not among them: they are documents (read them from the Documents table by
        issue date), and the account derives its postings from those documents.
        """
        day = first
        while day <= last:
            yield from self._postings_of_day(day)
            day += timedelta(days=1)

    def _postings_of_day(self, day: date) -> Iterator[Posting]:
        buckets = [f"{day.isoformat()}#{bucket:02d}" for bucket in range(BOOKING_BUCKETS)]
        streams = [self._bucket_items(key) for key in buckets]
        for item in heapq.merge(*streams, key=lambda item: str(item["sk"])):
            yield Posting.model_validate_json(item["posting"])

    def _bucket_items(self, key: str) -> Iterator[Item]:
        return query_all(
            self._client,
            TableName=self._table,
            IndexName=BOOKING_INDEX,
            KeyConditionExpression="booking_day = :day",
            ExpressionAttributeValues={":day": {"S": key}},
        )

    def _postings_of(self, items: list[Item]) -> list[Posting]:
        postings = [
            Posting.model_validate_json(item["posting"]) for item in items if "posting" in item
        ]
        documents = [item for item in items if item.get("document_type") in DOCUMENT_KINDS]
        undated = [item for item in documents if "due_date" not in item]
        due_dates = self._due_dates_of(undated) if undated else {}
        for item in documents:
            due_on = item.get("due_date") or due_dates.get(str(item["sk"]))
            postings.append(document_posting(item, due_on))
        return postings

    def _due_dates_of(self, items: list[Item]) -> dict[str, str]:
        """Due dates of document items that predate the ``due_date`` attribute."""
        keys = [(str(item["pk"]), str(item["sk"])) for item in items]
        full = self._get_many(keys, projection=None)
        return {
            str(item["sk"]): document_codec.decode(
                item["codec"], bytes(item["document"])
            ).due_date.isoformat()
            for item in full
            if "document" in item
        }

    def _existing(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found = self._get_many(keys, projection="pk, sk")
        return {(str(item["pk"]), str(item["sk"])) for item in found}

    def _get_many(self, keys: list[tuple[str, str]], *, projection: str | None) -> list[Item]:
        wanted = [{"pk": pk, "sk": sk} for pk, sk in keys]
        return get_many(
            self._client, self._table, wanted, projection=projection, parallel=BULK_CALLS
        )


def document_posting(item: Item, due_on: str | None) -> Posting:
    """The posting an issued document stands for: an invoice opens its item, a cancellation or
    credit note credits the invoice it refers to (or the account, when it refers to none)."""
    kind = DOCUMENT_KINDS[str(item["document_type"])]
    number = str(item["number"])
    gross = Decimal(str(item["gross"]))
    opening = kind == "invoice"
    return Posting(
        posting_id=f"{kind}:{number}",
        customer_id=str(item["customer_id"]),
        booked_on=date.fromisoformat(str(item["issue_date"])),
        kind=kind,
        amount=gross if opening else -abs(gross),
        item=number if opening else item.get("refers_to"),
        document_number=number,
        source=f"{kind}:{number}",
        due_on=date.fromisoformat(due_on) if opening and due_on else None,
    )
