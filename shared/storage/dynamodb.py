"""The DynamoDB implementation of the storage ports.

Keys
- Contracts: ``SHARD#00042`` holds a shard's customers (``C…#CUSTOMER``), positions
  (``C…#POS#<id>``) and SEPA mandates (``C…#MANDATE#<reference>``), so one query reads a whole
  shard.
- Documents: ``CUST#<id>`` with ``DOC#<issue date>#<number>``, newest last. The invoice item is
  at once the document, the claim of its number (a void takes the same key instead) and the
  marker that the customer's period is billed (GSI ``by-shard-period``, one query per shard).
  GSI ``by-number`` finds a document by its number. The document itself is kept deflated
  (``document_codec``) so that the item, like the slim projections of both indexes, is one
  write unit.
- Control: ``RANGE#<range>`` holds the counter, blocks and a claim per number handed out;
  ``RUN#<run id>`` holds the run and one result per shard.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import ValidationError

from shared.contracts import Position
from shared.customers import Customer
from shared.invoicing.model import Invoice
from shared.invoicing.numbering import NumberBlock
from shared.invoicing.run import RateTotal, ShardResult
from shared.orders.model import Mandate
from shared.payments.mandates import StoredMandate
from shared.periods import Period
from shared.ports import (
    BilledMarker,
    DocumentPage,
    DocumentQuery,
    DocumentSummary,
    ShardSnapshot,
)
from shared.storage import document_codec

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: attribute(value) for key, value in values.items() if value is not None}


def attribute(value: Any) -> Mapping[str, Any]:
    """A value as boto3's TypeSerializer writes it; strings and small ints without its dispatch."""
    if type(value) is str:
        return {"S": value}
    if type(value) is int and -_DYNAMODB_INT_LIMIT < value < _DYNAMODB_INT_LIMIT:
        return {"N": str(value)}
    return _serializer.serialize(value)


# Integers of up to 38 digits are exact in DynamoDB; longer ones take the serializer's own check.
_DYNAMODB_INT_LIMIT = 10**38
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
# Seconds before the first retry of what a batch call left unprocessed.
UNPROCESSED_BACKOFF = 0.05
# Batch calls in flight at a time where bulk work reads or writes many (postings, decisions).
BULK_CALLS = 8
_sleep = time.sleep


def from_item(item: dict[str, Any]) -> Item:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def shard_key(shard: int) -> str:
    return f"SHARD#{shard:05d}"


def shard_period(shard: int, period: str) -> str:
    return f"{shard:05d}#{period}"


def query_all(client: Any, **kwargs: Any) -> Iterator[Item]:
    paginator = client.get_paginator("query")
    for page in paginator.paginate(**kwargs):
        for item in page["Items"]:
            yield from_item(item)


def scan_all(client: Any, **kwargs: Any) -> Iterator[Item]:
    """Every item a scan finds, page after page: for the demo's and tools' overviews, never for
    work that grows with the tables."""
    paginator = client.get_paginator("scan")
    for page in paginator.paginate(**kwargs):
        for item in page["Items"]:
            yield from_item(item)


def batch_put(client: Any, table: str, items: Iterable[Item], *, parallel: int = 1) -> int:
    """Write items in batches of 25, retrying what DynamoDB left unprocessed; with ``parallel``
    above one, that many batches are in flight at a time (their order is then unspecified)."""
    batches = _batches((item for item in items), BATCH_WRITE_LIMIT)
    if parallel <= 1:
        return sum(_flush(client, table, batch) for batch in batches)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return sum(pool.map(lambda batch: _flush(client, table, batch), batches))


def _batches(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while batch := [{"PutRequest": {"Item": to_item(item)}} for item in islice(items, size)]:
        yield batch


def get_many(
    client: Any,
    table: str,
    keys: Sequence[Item],
    *,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    parallel: int = 1,
) -> list[Item]:
    """Items by key, 100 to a BatchGetItem, consistent, retrying what DynamoDB left unprocessed;
    keys without an item are left out. ``projection`` (with ``names`` for its placeholders)
    reads only those attributes; with ``parallel`` above one, that many batches are in flight."""
    chunks = [
        keys[start : start + BATCH_GET_LIMIT] for start in range(0, len(keys), BATCH_GET_LIMIT)
    ]

    def read(chunk: Sequence[Item]) -> list[Item]:
        return _get_batch(client, table, chunk, projection=projection, names=names)

    if parallel <= 1 or len(chunks) <= 1:
        return [item for chunk in chunks for item in read(chunk)]
    with ThreadPoolExecutor(max_workers=min(parallel, len(chunks))) as pool:
        return [item for found in pool.map(read, chunks) for item in found]


def _get_batch(
    client: Any,
    table: str,
    keys: Sequence[Item],
    *,
    projection: str | None,
    names: dict[str, str] | None,
) -> list[Item]:
    request: dict[str, Any] = {"Keys": [to_item(key) for key in keys], "ConsistentRead": True}
    if projection:
        request["ProjectionExpression"] = projection
    if names:
        request["ExpressionAttributeNames"] = names
    found: list[Item] = []
    pending: dict[str, Any] = {table: request}
    attempt = 0
    while pending:
        if attempt:
            _back_off(attempt)
        attempt += 1
        response = client.batch_get_item(RequestItems=pending)
        found += [from_item(item) for item in response["Responses"].get(table, [])]
        pending = response.get("UnprocessedKeys") or {}
    return found


def _flush(client: Any, table: str, batch: list[Item]) -> int:
    pending: dict[str, Any] = {table: batch}
    attempt = 0
    while pending:
        if attempt:
            _back_off(attempt)
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        attempt += 1
    return len(batch)


def _back_off(attempt: int) -> None:
    """DynamoDB leaves items unprocessed when a partition is throttled: wait before asking
    again, twice as long each time (with jitter), at most a second and a half."""
    jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreads retries, guards no secret
    _sleep(jitter * min(UNPROCESSED_BACKOFF * 2 ** (attempt - 1), 1.5))


def validation_reason(record: str, error: ValidationError) -> str:
    """The first problem of a stored record, naming the field: 'customer address.city: ...'."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "record"
    return f"{record} {field}: {first['msg']}"


def cancellation_codes(error: ClientError) -> list[str]:
    reasons = error.response.get("CancellationReasons", [])
    return [reason.get("Code", "None") for reason in reasons]


def customer_key(customer_id: str, shard: int) -> Item:
    return {"pk": shard_key(shard), "sk": f"{customer_id}#CUSTOMER"}


def customer_item(customer: Customer) -> Item:
    key = customer_key(customer.customer_id, customer.shard)
    return key | {"kind": "customer", "data": customer.model_dump_json()}


def position_item(shard: int, position: Position) -> Item:
    return {
        "pk": shard_key(shard),
        "sk": f"{position.customer_id}#POS#{position.position_id}",
        "kind": "position",
        "data": position.model_dump_json(),
    }


def mandate_key(shard: int, customer_id: str, reference: str) -> Item:
    return {"pk": shard_key(shard), "sk": f"{customer_id}#MANDATE#{reference}"}


def mandate_item(shard: int, mandate: Mandate) -> Item:
    key = mandate_key(shard, mandate.customer_id, mandate.reference)
    return key | {"kind": "mandate", "data": mandate.model_dump_json()}


def stored_mandate(item: Item) -> StoredMandate:
    """A mandate item with what was noted on it since; ValidationError or ValueError if bad."""
    return StoredMandate(
        mandate=Mandate.model_validate_json(item["data"]),
        revoked_reason=item.get("revoked_reason"),
        revoked_on=_optional_date(item.get("revoked_on")),
        first_collected_on=_optional_date(item.get("first_collected_on")),
    )


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class DynamoContracts:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def load_shard(self, shard: int, period: Period) -> ShardSnapshot:
        snapshot = ShardSnapshot()
        for item in query_all(self._client, **self._partition(shard_key(shard))):
            self._add(snapshot, item)
        return snapshot

    def save_mandates(self, shard_of_customer: dict[str, int], mandates: Iterable[Mandate]) -> None:
        items = (mandate_item(shard_of_customer[m.customer_id], m) for m in mandates)
        batch_put(self._client, self._table, items)

    def save_customers(self, customers: Iterable[Customer]) -> None:
        batch_put(self._client, self._table, map(customer_item, customers))

    def save_positions(
        self, shard_of_customer: dict[str, int], positions: Iterable[Position]
    ) -> None:
        items = (
            position_item(shard_of_customer[position.customer_id], position)
            for position in positions
        )
        batch_put(self._client, self._table, items)

    def _partition(self, key: str) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": key}},
            "ConsistentRead": True,
        }

    @staticmethod
    def _add(snapshot: ShardSnapshot, item: Item) -> None:
        """One record; a record that does not validate marks its customer, not the shard."""
        customer_id = item["sk"].split("#", 1)[0]
        try:
            if item.get("kind") == "customer":
                snapshot.customers.append(Customer.model_validate_json(item["data"]))
            elif item.get("kind") == "position":
                position = Position.model_validate_json(item["data"])
                snapshot.positions.setdefault(position.customer_id, []).append(position)
            elif item.get("kind") == "mandate":
                snapshot.mandates.setdefault(customer_id, []).append(stored_mandate(item))
        except ValidationError as error:
            snapshot.invalid.setdefault(customer_id, validation_reason(item["kind"], error))
        except ValueError as error:
            snapshot.invalid.setdefault(customer_id, f"{item['kind']}: {error}")


def _marker_from(item: Item) -> BilledMarker:
    return BilledMarker(
        customer_id=item["customer_id"],
        run_id=item["run_id"],
        number=item["number"],
        net=Decimal(item["net"]),
        vat=Decimal(item["vat"]),
        gross=Decimal(item["gross"]),
        by_rate=tuple(RateTotal.model_validate(group) for group in json.loads(item["by_rate"])),
    )


class DynamoNumberRanges:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def blocks(self, number_range: str, run_id: str, shard: int) -> list[NumberBlock]:
        items = self._block_items(number_range, run_id, shard)
        return [block_from_item(number_range, item) for item in items]

    def voided(self, number_range: str, run_id: str, shard: int) -> dict[str, str]:
        items = self._block_items(number_range, run_id, shard)
        return {number: reason for item in items for number, reason in item["voids"].items()}

    def _block_items(self, number_range: str, run_id: str, shard: int) -> Iterator[Item]:
        return query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"RANGE#{number_range}"},
                ":prefix": {"S": f"BLOCK#{run_id}#{shard_key(shard)}#"},
            },
            ConsistentRead=True,
        )

    def reserve(
        self,
        number_range: str,
        run_id: str,
        shard: int,
        customers: Sequence[str],
        issue_date: date,
    ) -> NumberBlock:
        """Take the next ``len(customers)`` numbers and record who gets which, atomically."""
        existing = self.blocks(number_range, run_id, shard)
        block_id = f"BLOCK#{run_id}#{shard_key(shard)}#{len(existing):04d}"
        while True:
            first = self._next_number(number_range)
            try:
                self._transact_reserve(number_range, block_id, first, customers, issue_date)
            except ClientError as error:
                codes = cancellation_codes(error)
                if len(codes) == 2 and codes[1] == "ConditionalCheckFailed":
                    return self._block(number_range, block_id)
                if codes and codes[0] == "ConditionalCheckFailed":
                    continue
                raise
            return NumberBlock(number_range, block_id, first, tuple(customers), issue_date)

    def record_void(self, *, block: NumberBlock, number: str, reason: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": f"RANGE#{block.number_range}", "sk": block.block_id}),
            UpdateExpression="SET voids.#number = :reason",
            ExpressionAttributeNames={"#number": number},
            ExpressionAttributeValues={":reason": {"S": reason}},
        )

    def _next_number(self, number_range: str) -> int:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"RANGE#{number_range}", "sk": "COUNTER"}),
            ConsistentRead=True,
        )
        item = from_item(response.get("Item", {}))
        return int(item.get("next", 1))

    def _transact_reserve(
        self,
        number_range: str,
        block_id: str,
        first: int,
        customers: Sequence[str],
        issue_date: date,
    ) -> None:
        counter_key = to_item({"pk": f"RANGE#{number_range}", "sk": "COUNTER"})
        block = {
            "pk": f"RANGE#{number_range}",
            "sk": block_id,
            "first": first,
            "customers": list(customers),
            "issue_date": issue_date.isoformat(),
            "voids": {},
        }
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": counter_key,
                        "UpdateExpression": "SET #next = :after",
                        "ConditionExpression": "attribute_not_exists(#next) OR #next = :first",
                        "ExpressionAttributeNames": {"#next": "next"},
                        "ExpressionAttributeValues": to_item(
                            {":first": first, ":after": first + len(customers)}
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(block),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def _block(self, number_range: str, block_id: str) -> NumberBlock:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"RANGE#{number_range}", "sk": block_id}),
            ConsistentRead=True,
        )
        return block_from_item(number_range, from_item(response["Item"]))


def block_from_item(number_range: str, item: Item) -> NumberBlock:
    return NumberBlock(
        number_range=number_range,
        block_id=item["sk"],
        first=int(item["first"]),
        customers=tuple(item["customers"]),
        issue_date=date.fromisoformat(item["issue_date"]),
    )


class DynamoDocuments:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def issue_invoice(self, invoice: Invoice, *, shard: int, pdf_key: str) -> bool:
        """One conditional write: the document is its own billed marker and number claim."""
        return self._put_once(_document_item(invoice, shard, pdf_key))

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        """Take the number's place in the archive as void; False when an invoice holds it."""
        key = {"pk": f"CUST#{customer_id}", "sk": document_sort_key(issue_date, number)}
        void = key | {"document_type": "void", "number": number, "reason": reason}
        return self._put_once(void) or self._get(key).get("document_type") == "void"

    def billed_markers(self, shard: int, period: str) -> dict[str, BilledMarker]:
        items = query_all(
            self._client,
            TableName=self._table,
            IndexName="by-shard-period",
            KeyConditionExpression="shard_period = :key",
            ExpressionAttributeValues={":key": {"S": shard_period(shard, period)}},
        )
        return {item["customer_id"]: _marker_from(item) for item in items}

    def issued_marker(self, customer_id: str, issue_date: date, number: str) -> BilledMarker | None:
        key = {"pk": f"CUST#{customer_id}", "sk": document_sort_key(issue_date, number)}
        item = self._get(key)
        return _marker_from(item) if item.get("document_type") == "invoice" else None

    def customer_documents(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None,
        query: DocumentQuery | None = None,
    ) -> DocumentPage:
        query = query or DocumentQuery()
        # Sort keys are DOC#<issue date>#<number>; "~" sorts after every digit and "#".
        values: dict[str, Any] = {
            ":pk": {"S": f"CUST#{customer_id}"},
            ":low": {"S": "DOC#" + (query.issued_from or "")},
            ":high": {"S": "DOC#" + (query.issued_to or "") + "~"},
            ":void": {"S": "void"},
        }
        wanted = {f":type{index}": kind for index, kind in enumerate(query.document_types)}
        values |= {name: {"S": kind} for name, kind in wanted.items()}
        condition = "document_type <> :void"
        if wanted:
            condition += " AND document_type IN (" + ", ".join(wanted) + ")"
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "FilterExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            start = _decode_cursor(cursor)
            if start["pk"] != {"S": f"CUST#{customer_id}"}:
                raise ValueError("cursor is not one this API handed out")
            request["ExclusiveStartKey"] = start
        response = self._client.query(**request)
        documents = tuple(_summary(from_item(item)) for item in response["Items"])
        last_key = response.get("LastEvaluatedKey")
        return DocumentPage(documents, _encode_cursor(last_key) if last_key else None)

    def find_by_number(self, number: str) -> DocumentSummary | None:
        response = self._client.query(
            TableName=self._table,
            IndexName="by-number",
            KeyConditionExpression="doc_number = :number",
            ExpressionAttributeValues={":number": {"S": number}},
        )
        items = response["Items"]
        return _summary(from_item(items[0])) if items else None

    def get_document(self, number: str) -> Invoice | None:
        response = self._client.query(
            TableName=self._table,
            IndexName="by-number",
            KeyConditionExpression="doc_number = :number",
            ExpressionAttributeValues={":number": {"S": number}},
        )
        if not response["Items"]:
            return None
        found = from_item(response["Items"][0])
        item = self._get({"pk": found["pk"], "sk": found["sk"]})
        return invoice_from_item(item) if item else None

    def issue_correction(self, document: Invoice, *, pdf_key: str) -> bool:
        """Corrections are documents but no billed markers, so they carry no shard period."""
        item = _document_item(document, shard=0, pdf_key=pdf_key)
        del item["shard_period"]
        item["refers_to"] = document.correction.refers_to if document.correction else None
        return self._put_once(item)

    def _put_once(self, item: Item) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _get(self, key: dict[str, str]) -> Item:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(key), ConsistentRead=True
        )
        return from_item(response.get("Item", {}))


def document_sort_key(issue_date: date, number: str) -> str:
    return f"DOC#{issue_date.isoformat()}#{number}"


def _document_item(invoice: Invoice, shard: int, pdf_key: str) -> Item:
    draft = invoice.draft
    by_rate = [
        RateTotal(
            rate=group.rate, net=group.net, vat=group.vat, category_code=group.category_code
        ).model_dump(mode="json")
        for group in draft.vat_groups
    ]
    return {
        "pk": f"CUST#{invoice.customer_id}",
        "sk": document_sort_key(invoice.issue_date, invoice.number),
        "doc_number": invoice.number,
        "number": invoice.number,
        "document_type": invoice.document_type,
        "customer_id": invoice.customer_id,
        "shard_period": shard_period(shard, draft.period),
        "issue_date": invoice.issue_date.isoformat(),
        # For the customer account (shared/storage/ledger.py), which reads no document body.
        "due_date": invoice.due_date.isoformat(),
        "period": draft.period,
        "run_id": invoice.run_id,
        "net": draft.net,
        "vat": draft.vat,
        "gross": draft.gross,
        "by_rate": json.dumps(by_rate),
        "pdf_key": pdf_key,
        "codec": document_codec.CODEC,
        "document": document_codec.encode(invoice),
    }


def invoice_from_item(item: Item) -> Invoice:
    """The issued document kept in a document item."""
    return document_codec.decode(item["codec"], bytes(item["document"]))


def _summary(item: Item) -> DocumentSummary:
    return DocumentSummary(
        customer_id=item["customer_id"],
        number=item["doc_number"],
        document_type=item["document_type"],
        issue_date=item["issue_date"],
        period=item["period"],
        gross=Decimal(item["gross"]),
        pdf_key=item["pdf_key"],
    )


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, json.JSONDecodeError) as error:
        raise ValueError("cursor is not one this API handed out") from error
    if not isinstance(key, dict) or set(key) != {"pk", "sk"}:
        raise ValueError("cursor is not one this API handed out")
    return key


class DynamoRuns:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def start_run(self, values: dict[str, Any]) -> None:
        item = {"pk": f"RUN#{values['run_id']}", "sk": "RUN", "status": "running"} | values
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def finish_run(self, run_id: str, status: str, report_key: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": f"RUN#{run_id}", "sk": "RUN"}),
            UpdateExpression="SET #status = :status, report_key = :key",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":status": status, ":key": report_key}),
        )

    def get_run(self, run_id: str) -> Item | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"RUN#{run_id}", "sk": "RUN"}),
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def save_shard_result(self, execution: str, result: ShardResult) -> None:
        item = {
            "pk": f"RUN#{result.run_id}",
            "sk": f"RESULT#{execution}#{shard_key(result.shard)}",
            "result": result.model_dump_json(),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def shard_results(self, run_id: str, execution: str) -> list[ShardResult]:
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"RUN#{run_id}"},
                ":prefix": {"S": f"RESULT#{execution}#"},
            },
            ConsistentRead=True,
        )
        return [ShardResult.model_validate_json(item["result"]) for item in items]
