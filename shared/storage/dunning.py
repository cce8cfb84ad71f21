"""The AWS implementations of dunning's ports: DynamoDB, S3 and EventBridge.

Keys
- Dunning table: ``SHARD#<nnnnn>`` holds the shard's cases (``CASE#<customer>``, one per
  customer in dunning, written under a condition on its version) and holds (``HOLD#<customer>#
  <kind>#<item>``), so one query gives a run everything it keeps about a shard. A closed case
  moves to ``CUSTOMER#<customer>`` / ``CASE#<case id>``, the customer's dunning history, so the
  shard partitions hold only what is going on. Cases are kept deflated (a pending step carries
  its whole notice), which keeps most of them within one write unit.
- Documents table: a notice is a document like an invoice (``CUST#<id>`` / ``DOC#<date>#
  <number>``, ``doc_number`` for the by-number index, ``document_type`` ``dunning``), so the
  archive lists it; it carries no ``shard_period`` and is no billed marker.
- Control table: ``DUNNINGRUN#<run id>`` holds the run and one deflated result per shard.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from shared.customers import Customer, shard_of
from shared.dunning.model import Case, Hold, HoldKind, Holds, Notice, ProvisioningEvent
from shared.dunning.ports import ShardState
from shared.storage.dynamodb import (
    BULK_CALLS,
    DynamoDocuments,
    document_sort_key,
    from_item,
    get_many,
    query_all,
    shard_key,
    to_item,
)
from shared.storage.s3 import S3WorkStore

logger = logging.getLogger(__name__)

EVENT_SOURCE = "billing.dunning"
PUT_EVENTS_LIMIT = 10
PUT_EVENTS_ATTEMPTS = 3
NOTICE_DOCUMENT_TYPE = "dunning"


def deflate(model: BaseModel) -> bytes:
    return zlib.compress(model.model_dump_json().encode(), 6)


def inflate(data: Any) -> bytes:
    return zlib.decompress(bytes(data))


def case_key(shard: int, customer_id: str) -> dict[str, str]:
    return {"pk": shard_key(shard), "sk": f"CASE#{customer_id}"}


def hold_key(shard: int, customer_id: str, kind: str, item: str | None) -> dict[str, str]:
    return {"pk": shard_key(shard), "sk": f"HOLD#{customer_id}#{kind}#{item or '-'}"}


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDunningStore:
    def __init__(self, client: Any, table: str, shard_count: int) -> None:
        self._client = client
        self._table = table
        self._shard_count = shard_count

    def shard_state(self, shard: int) -> ShardState:
        state = ShardState()
        holds: dict[str, list[Hold]] = {}
        for item in self._query(shard_key(shard), ""):
            if item["sk"].startswith("CASE#"):
                case = _case_of(item)
                state.cases[case.customer_id] = case
            elif item["sk"].startswith("HOLD#"):
                hold = Hold.model_validate_json(item["data"])
                holds.setdefault(hold.customer_id, []).append(hold)
        state.holds = {c: Holds(holds=tuple(found)) for c, found in holds.items()}
        return state

    def case(self, customer_id: str) -> Case | None:
        key = case_key(self._shard(customer_id), customer_id)
        response = self._client.get_item(
            TableName=self._table, Key=to_item(key), ConsistentRead=True
        )
        return _case_of(from_item(response["Item"])) if "Item" in response else None

    def cases_of(self, customer_ids: Collection[str]) -> dict[str, Case]:
        keys = [case_key(self._shard(c), c) for c in sorted(set(customer_ids))]
        items = get_many(self._client, self._table, keys, parallel=BULK_CALLS)
        found = (_case_of(item) for item in items)
        return {case.customer_id: case for case in found}

    def holds(self, customer_id: str) -> Holds:
        items = self._query(shard_key(self._shard(customer_id)), f"HOLD#{customer_id}#")
        return Holds(holds=tuple(Hold.model_validate_json(item["data"]) for item in items))

    def save_case(self, case: Case) -> Case | None:
        saved = case.model_copy(update={"version": case.version + 1})
        item = case_key(case.shard, case.customer_id) | {
            "customer_id": case.customer_id,
            "case_id": case.case_id,
            "level": case.level,
            "version": saved.version,
            "data": deflate(saved),
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if case.version:
            condition = {
                "ConditionExpression": "version = :version",
                "ExpressionAttributeValues": to_item({":version": case.version}),
            }
        try:
            self._client.put_item(TableName=self._table, Item=to_item(item), **condition)
        except ClientError as error:
            if _conditional_failed(error):
                return None
            raise
        return saved

    def close_case(self, case: Case, *, closed_on: date, reason: str) -> bool:
        history = {
            "pk": f"CUSTOMER#{case.customer_id}",
            "sk": f"CASE#{case.case_id}",
            "closed_on": closed_on.isoformat(),
            "reason": reason,
            "level": case.level,
            "data": deflate(case),
        }
        self._client.put_item(TableName=self._table, Item=to_item(history))
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_item(case_key(case.shard, case.customer_id)),
                ConditionExpression="version = :version",
                ExpressionAttributeValues=to_item({":version": case.version}),
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def closed_cases(self, customer_id: str) -> list[dict[str, Any]]:
        found = []
        for item in self._query(f"CUSTOMER#{customer_id}", "CASE#"):
            case = json.loads(inflate(item["data"]))
            found.append(case | {"closed_on": item["closed_on"], "reason": item["reason"]})
        return found

    def put_hold(self, hold: Hold) -> None:
        key = hold_key(self._shard(hold.customer_id), hold.customer_id, hold.kind, hold.item)
        item = key | {"customer_id": hold.customer_id, "data": hold.model_dump_json()}
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def remove_hold(self, customer_id: str, kind: HoldKind, item: str | None) -> bool:
        key = hold_key(self._shard(customer_id), customer_id, kind, item)
        response = self._client.delete_item(
            TableName=self._table, Key=to_item(key), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def _shard(self, customer_id: str) -> int:
        return shard_of(customer_id, self._shard_count)

    def _query(self, pk: str, prefix: str) -> Iterator[dict[str, Any]]:
        condition = "pk = :pk AND begins_with(sk, :prefix)" if prefix else "pk = :pk"
        values = {":pk": {"S": pk}} | ({":prefix": {"S": prefix}} if prefix else {})
        return query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ConsistentRead=True,
        )


def _case_of(item: dict[str, Any]) -> Case:
    return Case.model_validate_json(inflate(item["data"]))


class DynamoCustomerDirectory:
    """Customer records from the Contracts table, by key: only the customers a run steps."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def customers(self, shard: int, customer_ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        keys = [{"pk": shard_key(shard), "sk": f"{c}#CUSTOMER"} for c in sorted(set(customer_ids))]
        for item in get_many(self._client, self._table, keys):
            self._add(found, item)
        return found

    @staticmethod
    def _add(found: dict[str, Customer], item: dict[str, Any]) -> None:
        try:
            customer = Customer.model_validate_json(item["data"])
        except ValidationError as error:
            logger.error(
                "customer record unusable", extra={"key": item["sk"], "reason": str(error)[:300]}
            )
            return
        found[customer.customer_id] = customer


class DynamoNotices:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._documents = DynamoDocuments(client, table)

    def issue_notice(self, notice: Notice, *, pdf_key: str) -> bool:
        item = notice_key(notice.customer_id, notice.issue_date, notice.number) | {
            "doc_number": notice.number,
            "number": notice.number,
            "document_type": NOTICE_DOCUMENT_TYPE,
            "customer_id": notice.customer_id,
            "issue_date": notice.issue_date.isoformat(),
            "period": f"{notice.issue_date:%Y-%m}",
            "gross": notice.total,
            "pdf_key": pdf_key,
            "run_id": notice.run_id,
            "level": notice.level,
            "notice": deflate(notice),
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def notice(self, customer_id: str, issue_date: date, number: str) -> Notice | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item(notice_key(customer_id, issue_date, number)),
            ConsistentRead=True,
        )
        item = from_item(response.get("Item", {}))
        if item.get("document_type") != NOTICE_DOCUMENT_TYPE:
            return None
        return Notice.model_validate_json(inflate(item["notice"]))

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        return self._documents.void_number(
            customer_id=customer_id, issue_date=issue_date, number=number, reason=reason
        )


def notice_key(customer_id: str, issue_date: date, number: str) -> dict[str, str]:
    return {"pk": f"CUST#{customer_id}", "sk": document_sort_key(issue_date, number)}


class EventBridgeProvisioning:
    """Suspensions and reactivations as events on the provisioning bus, ten to a PutEvents."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus_name = bus_name

    def publish(self, events: Sequence[ProvisioningEvent]) -> None:
        for start in range(0, len(events), PUT_EVENTS_LIMIT):
            self._put(events[start : start + PUT_EVENTS_LIMIT])

    def _put(self, events: Sequence[ProvisioningEvent]) -> None:
        entries = [self._entry(event) for event in events]
        for _attempt in range(PUT_EVENTS_ATTEMPTS):
            response = self._client.put_events(Entries=entries)
            if not response.get("FailedEntryCount"):
                return
            results = response["Entries"]
            entries = [e for e, r in zip(entries, results, strict=True) if r.get("ErrorCode")]
        raise RuntimeError(f"{len(entries)} provisioning events refused by EventBridge")

    def _entry(self, event: ProvisioningEvent) -> dict[str, str]:
        return {
            "Source": EVENT_SOURCE,
            "DetailType": event.detail_type,
            "Detail": event.model_dump_json(exclude={"detail_type"}),
            "EventBusName": self._bus_name,
        }


class DynamoDunningRuns:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def start_run(self, values: dict[str, Any]) -> None:
        item = {"pk": f"DUNNINGRUN#{values['run_id']}", "sk": "RUN", "status": "running"}
        self._client.put_item(TableName=self._table, Item=to_item(item | values))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"pk": f"DUNNINGRUN#{run_id}", "sk": "RUN"}),
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def finish_run(self, run_id: str, status: str, report_key: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=to_item({"pk": f"DUNNINGRUN#{run_id}", "sk": "RUN"}),
            UpdateExpression="SET #status = :status, report_key = :key",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":status": status, ":key": report_key}),
        )

    def save_result(self, run_id: str, execution: str, shard: int, result: str) -> None:
        item = {
            "pk": f"DUNNINGRUN#{run_id}",
            "sk": f"RESULT#{execution}#{shard_key(shard)}",
            "result": zlib.compress(result.encode(), 6),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def results(self, run_id: str, execution: str) -> list[str]:
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"DUNNINGRUN#{run_id}"},
                ":prefix": {"S": f"RESULT#{execution}#"},
            },
            ConsistentRead=True,
        )
        return [inflate(item["result"]).decode() for item in items]


class S3LineFiles:
    """Agency files (JSON Lines) in the work bucket, each written once (If-None-Match)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket
        self._work = S3WorkStore(client, bucket)

    @property
    def bucket(self) -> str:
        return self._bucket

    def write_lines(self, key: str, lines: Sequence[BaseModel]) -> bool:
        body = "".join(line.model_dump_json() + "\n" for line in lines).encode()
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/x-ndjson",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"PreconditionFailed", "412"}:
                return False
            raise
        return True

    def write_json(self, key: str, document: Any) -> str:
        return self._work.write_json(key, document)
