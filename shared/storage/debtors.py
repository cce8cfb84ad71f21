"""Debtor numbers for the DATEV export in the Control table.

``DEBTOR#<customer id>`` / ``DATEV`` holds a customer's number, one partition per customer so
that the first export of millions of customers spreads its writes. New numbers come in one
block from the counter ``DATEV`` / ``DEBTOR-COUNTER`` and are written, 25 to a transaction,
only where the customer has none yet: two exports at once may both reserve a block, but each
customer keeps the first number written for it (the other export reads it back); the numbers
the loser reserved stay unused, and debtor accounts need no gapless sequence.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from shared.storage.dynamodb import BULK_CALLS, get_many, to_item

COUNTER_KEY = {"pk": "DATEV", "sk": "DEBTOR-COUNTER"}
# Conditional puts in one TransactWriteItems call (DynamoDB's limit is 100; a conflict sends
# the whole call back to single puts, so fewer keep that cheap).
CLAIMS_PER_CALL = 25


def debtor_key(customer_id: str) -> dict[str, str]:
    return {"pk": f"DEBTOR#{customer_id}", "sk": "DATEV"}


class DynamoDebtorNumbers:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def numbers(self, customer_ids: Collection[str]) -> dict[str, int]:
        wanted = list(dict.fromkeys(customer_ids))
        known = self._read(wanted)
        new = [customer_id for customer_id in wanted if customer_id not in known]
        if new:
            known |= self._assign(new)
        return {customer_id: known[customer_id] for customer_id in wanted}

    def _read(self, customer_ids: list[str]) -> dict[str, int]:
        items = get_many(
            self._client,
            self._table,
            [debtor_key(c) for c in customer_ids],
            projection="pk, #n",
            names={"#n": "number"},
            parallel=BULK_CALLS,
        )
        return {str(item["pk"]).removeprefix("DEBTOR#"): int(item["number"]) for item in items}

    def _assign(self, customer_ids: list[str]) -> dict[str, int]:
        last = self._reserve(len(customer_ids))
        first = last - len(customer_ids) + 1
        offered = list(zip(customer_ids, range(first, last + 1), strict=True))
        chunks = [
            offered[start : start + CLAIMS_PER_CALL]
            for start in range(0, len(offered), CLAIMS_PER_CALL)
        ]
        with ThreadPoolExecutor(max_workers=BULK_CALLS) as pool:
            return {c: n for claimed in pool.map(self._claim_all, chunks) for c, n in claimed}

    def _claim_all(self, offered: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Claim up to 25 numbers in one transaction; when another export numbered one of the
        customers meanwhile, the transaction writes nothing and each is claimed on its own."""
        try:
            self._client.transact_write_items(
                TransactItems=[{"Put": self._claim_request(c, n)} for c, n in offered]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return [self._claim(customer_id, number) for customer_id, number in offered]
        return offered

    def _reserve(self, count: int) -> int:
        response = self._client.update_item(
            TableName=self._table,
            Key=to_item(COUNTER_KEY),
            UpdateExpression="ADD #next :count",
            ExpressionAttributeNames={"#next": "next"},
            ExpressionAttributeValues={":count": {"N": str(count)}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["next"]["N"])

    def _claim(self, customer_id: str, number: int) -> tuple[str, int]:
        """The customer's number: ``number`` if it had none, else the one it was given."""
        try:
            self._client.put_item(**self._claim_request(customer_id, number))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return customer_id, self._read([customer_id])[customer_id]
        return customer_id, number

    def _claim_request(self, customer_id: str, number: int) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": to_item(debtor_key(customer_id) | {"number": number}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
