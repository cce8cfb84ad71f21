"""Which documents were issued in a date range, from the number ranges (Control table) and the
documents themselves (Documents table), all read by key.

Each block of numbers (``RANGE#<prefix>-<year>`` / ``BLOCK#…``) records its issue date and the
customers its numbers went to in order, so the block alone names the key of every document:
``CUST#<customer>`` / ``DOC#<issue date>#<number>``. A range partition holds a few blocks per
shard and run, so listing a year's blocks is one small query per prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from shared.accounts.datev_export import IssuedDocument, IssuedInRange
from shared.invoicing.numbering import NumberBlock, range_key
from shared.storage.dynamodb import (
    Item,
    block_from_item,
    document_sort_key,
    get_many,
    invoice_from_item,
    query_all,
)

DOCUMENT_TYPES = frozenset({"invoice", "cancellation", "credit_note"})


class DynamoIssuedDocuments:
    def __init__(
        self, client: Any, *, documents_table: str, control_table: str, prefixes: Iterable[str]
    ) -> None:
        self._client = client
        self._documents = documents_table
        self._control = control_table
        self._prefixes = tuple(prefixes)

    def issued_between(self, first: date, last: date) -> IssuedInRange:
        numbered = [
            (customer_id, number, block.issue_date)
            for block in self._blocks(first, last)
            for customer_id, number in block.assignment().items()
        ]
        keys = [_document_key(*entry) for entry in numbered]
        items = {item["number"]: item for item in get_many(self._client, self._documents, keys)}
        issued = IssuedInRange()
        for _, number, _ in sorted(numbered, key=lambda entry: entry[1]):
            item = items.get(number)
            if item is None:
                issued.missing.append(number)
            elif item.get("document_type") in DOCUMENT_TYPES:
                invoice = invoice_from_item(item)
                issued.documents.append(IssuedDocument(invoice, Decimal(str(item["gross"]))))
            else:
                issued.voids += 1
        return issued

    def _blocks(self, first: date, last: date) -> Iterator[NumberBlock]:
        for year in range(first.year, last.year + 1):
            for prefix in self._prefixes:
                number_range = range_key(prefix, year)
                for item in self._block_items(number_range):
                    block = block_from_item(number_range, item)
                    if first <= block.issue_date <= last:
                        yield block

    def _block_items(self, number_range: str) -> Iterator[Item]:
        return query_all(
            self._client,
            TableName=self._control,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :block)",
            ExpressionAttributeValues={
                ":pk": {"S": f"RANGE#{number_range}"},
                ":block": {"S": "BLOCK#"},
            },
            ConsistentRead=True,
        )


def _document_key(customer_id: str, number: str, issue_date: date) -> Item:
    return {"pk": f"CUST#{customer_id}", "sk": document_sort_key(issue_date, number)}
