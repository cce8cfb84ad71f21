"""A ledger over the embedded AWS for the debit and DATEV tests.

The DynamoDB ledger (``shared.storage.ledger``) is built on another branch. Until it is merged
here, this stand-in gives the tests what its port promises: the customer's issued invoices as
postings (read from the Documents table, exactly the items the invoice run wrote) plus what a
test posts itself (payments, fees), kept in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from shared.accounts.model import Account, Posting, account_of
from shared.storage.dynamodb import from_item, invoice_from_item
from tests.unit.ledger_fakes import MemoryLedger


class DocumentsLedger:
    def __init__(self, dynamodb: Any, documents_table: str) -> None:
        self._dynamodb = dynamodb
        self._table = documents_table
        self._posted = MemoryLedger()

    def post(self, postings: Sequence[Posting]) -> int:
        return self._posted.post(postings)

    def account(self, customer_id: str) -> Account:
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :doc)",
            ExpressionAttributeValues={
                ":pk": {"S": f"CUST#{customer_id}"},
                ":doc": {"S": "DOC#"},
            },
            ConsistentRead=True,
        )
        documents = [from_item(item) for item in response["Items"]]
        issued = [_posting(item) for item in documents if item["document_type"] == "invoice"]
        return account_of(customer_id, [*issued, *self._posted.account(customer_id).postings])

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        """Stored postings only: documents are read from the Documents table, as the DynamoDB
        ledger does it."""
        return self._posted.postings_between(first, last)


def _posting(item: dict[str, Any]) -> Posting:
    invoice = invoice_from_item(item)
    return Posting(
        posting_id=f"invoice:{invoice.number}",
        customer_id=invoice.customer_id,
        booked_on=invoice.issue_date,
        kind="invoice",
        amount=Decimal(str(item["gross"])),
        item=invoice.number,
        document_number=invoice.number,
        source=f"invoice:{invoice.number}",
        due_on=invoice.due_date,
    )
