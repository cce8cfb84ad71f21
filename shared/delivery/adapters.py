"""The AWS implementations of delivery's ports: SQS, SES v2, DynamoDB and S3.

Delivery records live in the Documents table, beside the documents but in partitions of their
own: ``DELIVERY#<run id>#<nn>`` (sixteen per run, spread by number) with the number as sort key,
so a run's status is sixteen queries and a run's writes spread over sixteen partitions. Neither
index sees them (they carry no ``doc_number`` or ``shard_period``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from botocore.exceptions import ClientError

from shared.delivery.model import DeliveryRecord, DeliveryRequest
from shared.delivery.ports import MailRejectedError
from shared.invoicing.model import Invoice
from shared.storage.dynamodb import (
    document_sort_key,
    from_item,
    get_many,
    invoice_from_item,
    query_all,
    to_item,
)

SQS_BATCH_LIMIT = 10
SEND_ATTEMPTS = 3
DELIVERY_PARTITIONS = 16
# SES v2 errors that sending the same message again cannot cure.
PERMANENT_MAIL_ERRORS = frozenset(
    {"MessageRejected", "BadRequestException", "InvalidParameterValue"}
)


class DeliveryQueueError(RuntimeError):
    """SQS refused some announcements, even after retrying them."""


class SqsDeliveryQueue:
    """Announcements as JSON message bodies, ten to a SendMessageBatch call."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def announce(self, requests: Sequence[DeliveryRequest]) -> None:
        for start in range(0, len(requests), SQS_BATCH_LIMIT):
            self._send_batch(requests[start : start + SQS_BATCH_LIMIT])

    def _send_batch(self, requests: Sequence[DeliveryRequest]) -> None:
        pending = [
            {"Id": str(index), "MessageBody": request.model_dump_json()}
            for index, request in enumerate(requests)
        ]
        failed: list[dict[str, Any]] = []
        for _attempt in range(SEND_ATTEMPTS):
            response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=pending)
            failed = response.get("Failed") or []
            if not failed or any(failure.get("SenderFault") for failure in failed):
                break
            retry = {failure["Id"] for failure in failed}
            pending = [entry for entry in pending if entry["Id"] in retry]
        if failed:
            codes = ", ".join(sorted({str(failure.get("Code")) for failure in failed}))
            raise DeliveryQueueError(f"{len(failed)} delivery announcements refused: {codes}")


class SesMailer:
    """Raw MIME messages through SES v2, so that a PDF can travel as an attachment."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> str:
        try:
            response = self._client.send_email(
                FromEmailAddress=str(message["From"]),
                Destination={"ToAddresses": [parseaddr(str(message["To"]))[1]]},
                Content={"Raw": {"Data": message.as_bytes()}},
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            reason = f"{code}: {error.response['Error'].get('Message', '')}"
            raise MailRejectedError(reason, permanent=code in PERMANENT_MAIL_ERRORS) from error
        message_id: str = response["MessageId"]
        return message_id


def delivery_key(run_id: str, number: str) -> dict[str, str]:
    spread = int(hashlib.sha256(number.encode()).hexdigest(), 16) % DELIVERY_PARTITIONS
    return {"pk": f"DELIVERY#{run_id}#{spread:02d}", "sk": number}


class DynamoDeliveryLog:
    """One item per invoice, replaced as a whole under a condition on the version it replaces."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, run_id: str, number: str) -> DeliveryRecord | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(delivery_key(run_id, number)), ConsistentRead=True
        )
        return _record(from_item(response["Item"])) if "Item" in response else None

    def get_many(self, run_id: str, numbers: Sequence[str]) -> dict[str, DeliveryRecord]:
        keys = [delivery_key(run_id, number) for number in numbers]
        records = (_record(item) for item in get_many(self._client, self._table, keys))
        return {record.number: record for record in records}

    def put(self, record: DeliveryRecord, *, replacing: DeliveryRecord | None) -> bool:
        item = delivery_key(record.run_id, record.number) | _stored(record)
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if replacing is not None:
            condition = {
                "ConditionExpression": "#status = :status AND updated_at = :updated",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item(
                    {":status": replacing.status, ":updated": _stored(replacing)["updated_at"]}
                ),
            }
        try:
            self._client.put_item(TableName=self._table, Item=to_item(item), **condition)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def of_run(self, run_id: str) -> Iterator[DeliveryRecord]:
        for spread in range(DELIVERY_PARTITIONS):
            items = query_all(
                self._client,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"DELIVERY#{run_id}#{spread:02d}"}},
            )
            yield from (_record(item) for item in items)


def _stored(record: DeliveryRecord) -> dict[str, Any]:
    return record.model_dump(mode="json")


def _record(item: dict[str, Any]) -> DeliveryRecord:
    values = {key: value for key, value in item.items() if key not in {"pk", "sk"}}
    return DeliveryRecord.model_validate(values)


class DynamoIssuedInvoices:
    """The issued invoice, read by its key (no index query on the sender's path)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def invoice(self, customer_id: str, issue_date: date, number: str) -> Invoice | None:
        key = {"pk": f"CUST#{customer_id}", "sk": document_sort_key(issue_date, number)}
        response = self._client.get_item(
            TableName=self._table, Key=to_item(key), ConsistentRead=True
        )
        item = from_item(response.get("Item", {}))
        if item.get("document_type") not in {"invoice", "cancellation"}:
            return None
        return invoice_from_item(item)


class S3PrintBatches:
    """Print batches in the work bucket, each written once (If-None-Match)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def store(self, key: str, body: bytes) -> bool:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/pdf",
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"PreconditionFailed", "412"}:
                return False
            raise
        return True
