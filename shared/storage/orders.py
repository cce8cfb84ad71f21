"""The DynamoDB side of order intake.

Orders table (``BILLING_ORDERS_TABLE``), one item per key, never queried:
- ``ORDER#<id>`` / ``ORDER``: the accepted order with its contracts and positions, a version
  for optimistic changes. Written last, conditionally: it marks the order complete.
- ``DOMAIN#<ascii name>`` / ``DOMAIN``: who holds a domain; created with attribute_not_exists,
  so of two orders for one name exactly one wins.
- ``STOCK#<product>`` / ``STOCK``: units reserved of a product with a stock and, per order, how
  many; one conditional update reserves, so a retry never reserves twice and stock never goes
  below zero.

Customers, positions and SEPA mandates go to the Contracts table, into the customer's shard
(``SHARD#…``), as the invoice run (and later the debit run) reads them: ``C…#MANDATE#<ref>``
beside ``C…#CUSTOMER`` and ``C…#POS#…``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from shared.contracts import Position
from shared.customers import Customer, shard_of
from shared.orders.model import Mandate, StoredOrder
from shared.storage.dynamodb import (
    Item,
    batch_put,
    customer_item,
    customer_key,
    from_item,
    mandate_item,
    position_item,
    to_item,
)


def _conditional(call: Any, **kwargs: Any) -> bool:
    """False when the condition failed, True when the write went through."""
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


class DynamoInventory:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def claim_domain(self, domain: str, *, order_id: str, customer_id: str) -> bool:
        item = {"pk": f"DOMAIN#{domain}", "sk": "DOMAIN", "order_id": order_id}
        return _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=to_item(item | {"customer_id": customer_id}),
            ConditionExpression="attribute_not_exists(pk) OR order_id = :order",
            ExpressionAttributeValues={":order": {"S": order_id}},
        )

    def release_domain(self, domain: str, *, order_id: str) -> None:
        _conditional(
            self._client.delete_item,
            TableName=self._table,
            Key=to_item({"pk": f"DOMAIN#{domain}", "sk": "DOMAIN"}),
            ConditionExpression="order_id = :order",
            ExpressionAttributeValues={":order": {"S": order_id}},
        )

    def reserve(self, product_id: str, *, order_id: str, quantity: int, stock: int) -> bool:
        key = self._stock_key(product_id)
        for _ in range(2):
            if self._reserve(key, order_id, quantity, stock):
                return True
            item = self._get(key)
            if item:
                return order_id in item.get("holders", {})
            self._create_stock(key)
        return False

    def _reserve(self, key: Item, order_id: str, quantity: int, stock: int) -> bool:
        """One update: the units and the order's share, only while the stock allows it."""
        try:
            return _conditional(
                self._client.update_item,
                TableName=self._table,
                Key=key,
                UpdateExpression="SET reserved = reserved + :units, holders.#order = :units",
                ConditionExpression=("attribute_not_exists(holders.#order) AND reserved <= :room"),
                ExpressionAttributeNames={"#order": order_id},
                ExpressionAttributeValues=to_item({":units": quantity, ":room": stock - quantity}),
            )
        except ClientError as error:
            # No counter yet: DynamoDB refuses the path into a map that does not exist.
            if error.response["Error"]["Code"] != "ValidationException":
                raise
            return False

    def _create_stock(self, key: Item) -> None:
        """The first reservation of a product creates its counter."""
        _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=key | to_item({"reserved": 0, "holders": {}}),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def release(self, product_id: str, *, order_id: str) -> None:
        units = self._holders(product_id).get(order_id)
        if units is None:
            return
        _conditional(
            self._client.update_item,
            TableName=self._table,
            Key=self._stock_key(product_id),
            UpdateExpression="SET reserved = reserved - :units REMOVE holders.#order",
            ConditionExpression="holders.#order = :units",
            ExpressionAttributeNames={"#order": order_id},
            ExpressionAttributeValues=to_item({":units": units}),
        )

    def reserved(self, product_id: str) -> int:
        item = self._get(self._stock_key(product_id))
        return int(item.get("reserved", 0))

    def domain_holder(self, domain: str) -> str | None:
        item = self._get(to_item({"pk": f"DOMAIN#{domain}", "sk": "DOMAIN"}))
        holder = item.get("order_id")
        return str(holder) if holder else None

    def _holders(self, product_id: str) -> dict[str, int]:
        holders = self._get(self._stock_key(product_id)).get("holders", {})
        return {order: int(units) for order, units in holders.items()}

    def _get(self, key: Item) -> Item:
        response = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return from_item(response.get("Item", {}))

    @staticmethod
    def _stock_key(product_id: str) -> Item:
        return to_item({"pk": f"STOCK#{product_id}", "sk": "STOCK"})


class DynamoOrderBook:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, order_id: str) -> StoredOrder | None:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        return StoredOrder.model_validate_json(item["data"]["S"]) if item else None

    def create(self, order: StoredOrder) -> bool:
        return _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=self._item(order),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def replace(self, order: StoredOrder, *, expected_version: int) -> bool:
        return _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=self._item(order),
            ConditionExpression="version = :expected",
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )

    def _item(self, order: StoredOrder) -> Item:
        values = {
            "pk": f"ORDER#{order.order_id}",
            "sk": "ORDER",
            "customer_id": order.customer_id,
            "status": order.status,
            "version": order.version,
            "data": order.model_dump_json(),
        }
        return to_item(values)

    @staticmethod
    def _key(order_id: str) -> Item:
        return to_item({"pk": f"ORDER#{order_id}", "sk": "ORDER"})


class DynamoOrderContracts:
    """Customers, positions and mandates in the Contracts table, in the customer's shard."""

    def __init__(self, client: Any, table: str, shard_count: int) -> None:
        self._client = client
        self._table = table
        self._shard_count = shard_count

    def find_customer(self, customer_id: str) -> Customer | None:
        key = customer_key(customer_id, shard_of(customer_id, self._shard_count))
        response = self._client.get_item(
            TableName=self._table, Key=to_item(key), ConsistentRead=True
        )
        item = response.get("Item")
        return Customer.model_validate_json(item["data"]["S"]) if item else None

    def write(
        self,
        *,
        customer: Customer | None,
        shard: int,
        positions: Sequence[Position],
        mandate: Mandate | None,
    ) -> None:
        """Writing the same content again is harmless, so a retry just repeats it. A mandate
        already stored keeps what was noted on it since (revoked, first collected): an order
        that names it again changes its data only, and a revoked mandate stays revoked."""
        items = [customer_item(customer)] if customer else []
        items += [position_item(shard, position) for position in positions]
        batch_put(self._client, self._table, items)
        if mandate is not None:
            self._keep_mandate(shard, mandate)

    def _keep_mandate(self, shard: int, mandate: Mandate) -> None:
        item = mandate_item(shard, mandate)
        self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": item["pk"], "sk": item["sk"]}),
            UpdateExpression="SET kind = :kind, #data = :data",
            ExpressionAttributeNames={"#data": "data"},
            ExpressionAttributeValues=to_item({":kind": item["kind"], ":data": item["data"]}),
        )
