"""Debtor numbers for the DATEV export in the Control table.

``DEBTOR#<customer id>`` / ``DATEV`` holds a customer's number, one partition per customer so
that the first export of millions of customers spreads its writes. New numbers come in one
block from the counter ``DATEV`` / ``DEBTOR-COUNTER`` and are written only where the customer
has none yet: two exports at once may both reserve a block, but each customer keeps the first
number written for it (the other export reads it back); the numbers the loser reserved stay
unused, and debtor accounts need no gapless sequence.

Each new customer costs one conditional put (eight in flight), once in its life. Claiming 25
in one TransactWriteItems would cut the calls, but moto copies the whole table for every
transaction, which took `make demo` from 2 to 6.5 minutes (its export of 2,000 customers).
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from shared.storage.dynamodb import BULK_CALLS, get_many, to_item

COUNTER_KEY = {"pk": "DATEV", "sk": "DEBTOR-COUNTER"}


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
        offered = zip(customer_ids, range(first, last + 1), strict=True)
        with ThreadPoolExecutor(max_workers=BULK_CALLS) as pool:
            return dict(pool.map(lambda pair: self._claim(*pair), offered))

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
            self._client.put_item(
                TableName=self._table,
                Item=to_item(debtor_key(customer_id) | {"number": number}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return customer_id, self._read([customer_id])[customer_id]
        return customer_id, number
