"""The DynamoDB and S3 side of the debit export.

Control table (``BILLING_CONTROL_TABLE``):
- ``DEBITBATCH#<payment info id>`` / ``BATCH``: a recorded PmtInf, ``data`` the batch's JSON
  (the statement matching reads it there to settle a bank entry that names only the PmtInfId).
- ``DEBITCLAIM#<customer id>#<item>`` / ``CLAIM``: an item collected in a debit file, written
  once with ``attribute_not_exists``; its file and date beside it.
- ``DEBITFILE#<collection date>`` / ``FILE#<file id>``: a written file, ``data`` its summary.
- ``DEBITEXPORT`` / ``LEASE``: the one export at work (``holder``, ``lease_until`` in epoch
  seconds, apart from the table's TTL attribute so that no TTL sweep takes it) and the file it
  was writing (``pending_key``), which stays noted after the lease if the export stopped.

Contracts table: the mandate items of the order intake (``SHARD#…`` / ``C…#MANDATE#<ref>``)
get ``first_collected_on`` here (and ``revoked_reason`` / ``revoked_on`` from the statement
matching on a return).
Work bucket: the files, ``debits/<date>/<file id>.xml``, written with If-None-Match.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from shared.payments.collections import Collection, CollectionBatch
from shared.payments.debit_ports import Claim, DebitBusyError, DebitFileSummary, Lease
from shared.payments.mandates import StoredMandate
from shared.storage.dynamodb import (
    Item,
    from_item,
    get_many,
    mandate_key,
    query_all,
    shard_key,
    stored_mandate,
    to_item,
)

logger = logging.getLogger(__name__)

XML_CONTENT_TYPE = "application/xml"
LEASE_KEY = {"pk": "DEBITEXPORT", "sk": "LEASE"}


def _conditional(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def batch_key(payment_info_id: str) -> Item:
    return {"pk": f"DEBITBATCH#{payment_info_id}", "sk": "BATCH"}


def claim_key(customer_id: str, item: str) -> Item:
    return {"pk": f"DEBITCLAIM#{customer_id}#{item}", "sk": "CLAIM"}


class DynamoCollectionBatches:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def record(self, batch: CollectionBatch) -> None:
        """Once; a different batch under a recorded id is an error, the same one nothing."""
        item = batch_key(batch.payment_info_id) | {"data": batch.model_dump_json()}
        written = _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(pk)",
        )
        if not written and self.batch(batch.payment_info_id) != batch:
            raise ValueError(f"another batch is recorded as {batch.payment_info_id}")

    def batch(self, payment_info_id: str) -> CollectionBatch | None:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(batch_key(payment_info_id)), ConsistentRead=True
        )
        item = response.get("Item")
        return CollectionBatch.model_validate_json(item["data"]["S"]) if item else None


class DynamoDebitRegister:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def acquire(self, holder: str, *, now: datetime, until: datetime) -> Lease:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=to_item(LEASE_KEY),
                UpdateExpression="SET holder = :holder, lease_until = :until, since = :since",
                ConditionExpression=(
                    "attribute_not_exists(holder) OR lease_until < :now OR holder = :holder"
                ),
                ExpressionAttributeValues=to_item(
                    {
                        ":holder": holder,
                        ":until": int(until.timestamp()),
                        ":now": int(now.timestamp()),
                        ":since": now.isoformat(),
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise DebitBusyError(self._busy_message()) from error
        attributes = from_item(response.get("Attributes", {}))
        return Lease(holder=holder, pending_key=attributes.get("pending_key"))

    def _busy_message(self) -> str:
        item = self._get(LEASE_KEY)
        until = datetime.fromtimestamp(int(item.get("lease_until", 0))).isoformat()
        return (
            f"another debit export has held the register since {item.get('since', '?')}, "
            f"until {until} at the latest; try again after that"
        )

    def set_pending(self, holder: str, key: str) -> None:
        if not _conditional(
            self._client.update_item,
            TableName=self._table,
            Key=to_item(LEASE_KEY),
            UpdateExpression="SET pending_key = :key",
            ConditionExpression="holder = :holder",
            ExpressionAttributeValues=to_item({":key": key, ":holder": holder}),
        ):
            raise DebitBusyError("the debit register's lease ran out before the file was written")

    def clear_pending(self, holder: str) -> None:
        _conditional(
            self._client.update_item,
            TableName=self._table,
            Key=to_item(LEASE_KEY),
            UpdateExpression="REMOVE pending_key",
            ConditionExpression="holder = :holder",
            ExpressionAttributeValues=to_item({":holder": holder}),
        )

    def release(self, holder: str) -> None:
        """End the lease; the item goes unless it still names a pending file."""
        _conditional(
            self._client.update_item,
            TableName=self._table,
            Key=to_item(LEASE_KEY),
            UpdateExpression="REMOVE holder, lease_until, since",
            ConditionExpression="holder = :holder",
            ExpressionAttributeValues=to_item({":holder": holder}),
        )
        _conditional(
            self._client.delete_item,
            TableName=self._table,
            Key=to_item(LEASE_KEY),
            ConditionExpression=(
                "attribute_not_exists(pending_key) AND attribute_not_exists(holder)"
            ),
        )

    def claims(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Claim]:
        unique = [claim_key(*key) for key in dict.fromkeys(keys)]
        claims = (_claim_from(item) for item in get_many(self._client, self._table, unique))
        return {(claim.customer_id, claim.item): claim for claim in claims}

    def claim(self, collection: Collection, *, collection_date: date, file_id: str) -> bool:
        item = claim_key(collection.customer_id, collection.item) | {
            "customer_id": collection.customer_id,
            "item": collection.item,
            "collection_date": collection_date.isoformat(),
            "file_id": file_id,
            "amount": collection.amount,
            "end_to_end_id": collection.end_to_end_id,
            "sequence": collection.sequence,
        }
        return _conditional(
            self._client.put_item,
            TableName=self._table,
            Item=to_item(item),
            ConditionExpression="attribute_not_exists(pk) OR file_id = :file",
            ExpressionAttributeValues={":file": {"S": file_id}},
        )

    def files_on(self, day: date) -> list[DebitFileSummary]:
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ExpressionAttributeValues=to_item(
                {":pk": f"DEBITFILE#{day.isoformat()}", ":file": "FILE#"}
            ),
            ConsistentRead=True,
        )
        return [DebitFileSummary.model_validate_json(item["data"]) for item in items]

    def record_file(self, summary: DebitFileSummary) -> None:
        item = {
            "pk": f"DEBITFILE#{summary.collection_date.isoformat()}",
            "sk": f"FILE#{summary.file_id}",
            "data": summary.model_dump_json(),
        }
        self._client.put_item(TableName=self._table, Item=to_item(item))

    def _get(self, key: Item) -> Item:
        response = self._client.get_item(
            TableName=self._table, Key=to_item(key), ConsistentRead=True
        )
        return from_item(response.get("Item", {}))


def _claim_from(item: Item) -> Claim:
    return Claim(
        customer_id=item["customer_id"],
        item=item["item"],
        collection_date=date.fromisoformat(item["collection_date"]),
        file_id=item["file_id"],
    )


class DynamoDebitMandates:
    """The mandate items of the Contracts table, read per shard, noted on by key."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def load_mandates(self, shard: int) -> dict[str, list[StoredMandate]]:
        """One query of the shard's partition, only mandate items returned."""
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            FilterExpression="kind = :mandate",
            ExpressionAttributeValues=to_item({":pk": shard_key(shard), ":mandate": "mandate"}),
            ConsistentRead=True,
        )
        mandates: dict[str, list[StoredMandate]] = {}
        for item in items:
            customer_id = item["sk"].split("#", 1)[0]
            try:
                mandates.setdefault(customer_id, []).append(stored_mandate(item))
            except ValueError as error:
                logger.error(
                    "mandate record unreadable, not collected",
                    extra={"customer_id": customer_id, "sk": item["sk"], "reason": str(error)},
                )
        return mandates

    def note_first_collection(
        self, shard: int, customer_id: str, reference: str, *, on: date
    ) -> None:
        self._note(
            mandate_key(shard, customer_id, reference),
            "SET first_collected_on = if_not_exists(first_collected_on, :on)",
            {":on": on.isoformat()},
        )

    def _note(self, key: Item, expression: str, values: dict[str, str]) -> None:
        """Only on a mandate that exists: a note alone would be an item without data."""
        noted = _conditional(
            self._client.update_item,
            TableName=self._table,
            Key=to_item(key),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item(values),
        )
        if not noted:
            logger.warning("no such mandate to note on", extra={"sk": key["sk"]})


class S3DebitFiles:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def store_once(self, key: str, body: bytes) -> bool:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=XML_CONTENT_TYPE,
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"PreconditionFailed", "412"}:
                return False
            raise
        return True

    def read_if_present(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        body: bytes = response["Body"].read()
        return body
