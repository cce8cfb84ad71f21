"""DynamoDB side of the statement import: decisions, clarification list, import lock, the owners
of invoice numbers, recorded collection batches and mandate revocation.

Keys (Control table)
- ``BANKTX#<transaction id>`` / ``DECISION``: what a bank transaction came to (``status``
  posted, unmatched or assigned; ``data`` the decision as JSON), written before its postings;
  the postings of a large decision in ``PART#<n>`` beside it.
- ``UNMATCHED#<bucket>`` / ``<booking date>#<transaction id>``: the clarification list, spread
  over ``UNMATCHED_BUCKETS`` partitions so that a bad day does not make one hot partition.
- ``PAYMENT-IMPORT`` / ``LOCK``: the lease of the import that runs (``expires_at`` is the
  table's TTL attribute, so an abandoned lease also disappears by itself).
- ``DEBITBATCH#<payment info id>`` / ``BATCH``: a recorded collection batch (``data`` JSON).
- ``RANGE#<prefix>-<year>`` / ``BLOCK#...``: number blocks of the invoice run (read only here):
  the customer of an invoice number is ``customers[sequence - first]`` of its block.

Mandates are in the Contracts table under the customer's shard (shared/storage/orders.py).
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import logging
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import TypeAdapter

from shared.accounts.model import Posting
from shared.customers import shard_of
from shared.invoicing.numbering import sequence_of
from shared.payments.matching import Decision
from shared.storage.dynamodb import (
    BULK_CALLS,
    Item,
    batch_put,
    get_many,
    query_all,
    shard_key,
    to_item,
)

logger = logging.getLogger(__name__)

UNMATCHED_BUCKETS = 8
POSTINGS_PER_ITEM = 250
_POSTINGS = TypeAdapter(tuple[Posting, ...])
LOCK_KEY = {"pk": "PAYMENT-IMPORT", "sk": "LOCK"}


def decision_key(transaction_id: str) -> tuple[str, str]:
    return f"BANKTX#{transaction_id}", "DECISION"


def decision_status(decision: Decision) -> str:
    if decision.rule is None:
        return "unmatched"
    return "assigned" if decision.rule == "manual" else "posted"


def unmatched_key(decision: Decision) -> Item:
    transaction = decision.transaction
    digest = hashlib.sha256(transaction.transaction_id.encode()).digest()
    bucket = int.from_bytes(digest[:4], "big") % UNMATCHED_BUCKETS
    return {
        "pk": f"UNMATCHED#{bucket}",
        "sk": f"{transaction.booking_date.isoformat()}#{transaction.transaction_id}",
    }


def _decision_item(decision: Decision) -> Item:
    pk, sk = decision_key(decision.transaction.transaction_id)
    return {
        "pk": pk,
        "sk": sk,
        "status": decision_status(decision),
        "data": decision.model_dump_json(exclude_defaults=True),
    }


def _decision_items(decision: Decision) -> tuple[list[Item], Item]:
    """The parts holding a large decision's postings, and the decision item itself.

    A collection booked as one sum may settle thousands of items: beyond
    ``POSTINGS_PER_ITEM`` the postings go into parts (``PART#<n>``, up to ~200 KB each, within
    DynamoDB's 400 KB) and the decision item names how many.
    """
    postings = decision.postings
    if len(postings) <= POSTINGS_PER_ITEM:
        return [], _decision_item(decision)
    pk, _ = decision_key(decision.transaction.transaction_id)
    chunks = [
        postings[start : start + POSTINGS_PER_ITEM]
        for start in range(0, len(postings), POSTINGS_PER_ITEM)
    ]
    parts = [
        {"pk": pk, "sk": f"PART#{index:05d}", "postings": _POSTINGS.dump_json(chunk).decode()}
        for index, chunk in enumerate(chunks)
    ]
    header = _decision_item(decision.model_copy(update={"postings": ()}))
    return parts, header | {"parts": len(parts)}


def _is_condition_failure(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


class DynamoDecisions:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def decided(self, transaction_ids: Collection[str]) -> dict[str, Decision]:
        keys = [decision_key(transaction_id) for transaction_id in dict.fromkeys(transaction_ids)]
        names = {"#d": "data", "#p": "parts"}
        found: dict[str, Decision] = {}
        for item in get_many(
            self._client,
            self._table,
            [{"pk": pk, "sk": sk} for pk, sk in keys],
            projection="pk, #d, #p",
            names=names,
            parallel=BULK_CALLS,
        ):
            decision = Decision.model_validate_json(item["data"])
            if "parts" in item:
                decision = self._with_parts(decision, str(item["pk"]), int(item["parts"]))
            found[decision.transaction.transaction_id] = decision
        return found

    def record(self, decisions: Sequence[Decision]) -> None:
        """Parts first: a decision item is only ever read with all its parts in place."""
        split = [_decision_items(decision) for decision in decisions]
        parts = (part for parts, _ in split for part in parts)
        batch_put(self._client, self._table, parts, parallel=BULK_CALLS)
        batch_put(self._client, self._table, (header for _, header in split), parallel=BULK_CALLS)

    def _with_parts(self, decision: Decision, pk: str, parts: int) -> Decision:
        items = query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :part)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":part": {"S": "PART#"}},
            ConsistentRead=True,
        )
        wanted = {f"PART#{index:05d}" for index in range(parts)}
        chunks = sorted((str(i["sk"]), i["postings"]) for i in items if i["sk"] in wanted)
        postings = tuple(p for _, text in chunks for p in _POSTINGS.validate_json(text))
        return decision.model_copy(update={"postings": postings})

    def set_aside(self, decisions: Sequence[Decision]) -> None:
        items = (
            unmatched_key(d) | {"data": d.model_dump_json(exclude_defaults=True)} for d in decisions
        )
        batch_put(self._client, self._table, items)

    def unmatched(self) -> list[Decision]:
        streams = [self._bucket(bucket) for bucket in range(UNMATCHED_BUCKETS)]
        merged = heapq.merge(*streams, key=lambda item: str(item["sk"]))
        return [Decision.model_validate_json(item["data"]) for item in merged]

    def replace(self, decision: Decision, *, was_unmatched: bool) -> bool:
        condition = "#status = :unmatched" if was_unmatched else "attribute_not_exists(pk)"
        values = {":unmatched": {"S": "unmatched"}} if was_unmatched else None
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(_decision_item(decision)),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeNames"] = {"#status": "status"}
            request["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**request)
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def settled(self, decision: Decision) -> None:
        self._client.delete_item(TableName=self._table, Key=to_item(unmatched_key(decision)))

    def _bucket(self, bucket: int) -> Iterator[Item]:
        return query_all(
            self._client,
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"UNMATCHED#{bucket}"}},
            ConsistentRead=True,
        )


class DynamoImportLock:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def acquire(self, holder: str, *, now: datetime, seconds: int) -> str | None:
        try:
            self._put(holder, now=now, seconds=seconds)
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            response = self._client.get_item(
                TableName=self._table, Key=to_item(LOCK_KEY), ConsistentRead=True
            )
            held = response.get("Item", {})
            return str(held.get("holder", {}).get("S", "another import"))
        return None

    def renew(self, holder: str, *, now: datetime, seconds: int) -> None:
        self._put(holder, now=now, seconds=seconds)

    def release(self, holder: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=to_item(LOCK_KEY),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise

    def _put(self, holder: str, *, now: datetime, seconds: int) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                LOCK_KEY
                | {
                    "holder": holder,
                    "since": now.isoformat(),
                    "expires_at": int(now.timestamp()) + seconds,
                }
            ),
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
            ExpressionAttributeValues={
                ":now": {"N": str(int(now.timestamp()))},
                ":me": {"S": holder},
            },
        )


class DynamoMandates:
    def __init__(self, client: Any, table: str, shard_count: int) -> None:
        self._client = client
        self._table = table
        self._shard_count = shard_count

    def revoke(self, customer_id: str, reference: str, *, reason: str, on: date) -> None:
        """Mark the mandate unusable; the first revocation's reason and date are kept."""
        key = {
            "pk": shard_key(shard_of(customer_id, self._shard_count)),
            "sk": f"{customer_id}#MANDATE#{reference}",
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(key),
                UpdateExpression="SET revoked_reason = :reason, revoked_on = :on",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revoked_reason)",
                ExpressionAttributeValues=to_item({":reason": reason, ":on": on.isoformat()}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            if not error.response.get("Item"):
                logger.warning(
                    "mandate to revoke not found",
                    extra={"customer_id": customer_id, "mandate_reference": reference},
                )


class DynamoInvoiceOwners:
    """Who got which invoice number, from the number blocks of the runs and corrections.

    A range's block starts are read once per instance (one paged query of the keys and first
    numbers); the blocks holding the numbers asked for are then read in batches of 100.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table
        self._starts: dict[str, list[tuple[int, str]]] = {}

    def owners(self, numbers: Collection[str]) -> dict[str, str]:
        by_range: dict[str, list[str]] = {}
        for number in numbers:
            number_range, _, sequence = number.rpartition("-")
            if number_range and sequence.isdigit():
                by_range.setdefault(number_range, []).append(number)
        found: dict[str, str] = {}
        for number_range, wanted in by_range.items():
            found |= self._owners_in(number_range, wanted)
        return found

    def _owners_in(self, number_range: str, numbers: list[str]) -> dict[str, str]:
        starts = self._block_starts(number_range)
        firsts = [first for first, _ in starts]
        block_of: dict[str, str] = {}
        for number in numbers:
            index = bisect.bisect_right(firsts, sequence_of(number)) - 1
            if index >= 0:
                block_of[number] = starts[index][1]
        blocks = self._blocks(f"RANGE#{number_range}", set(block_of.values()))
        owners: dict[str, str] = {}
        for number, block_id in block_of.items():
            first, customers = blocks[block_id]
            offset = sequence_of(number) - first
            if 0 <= offset < len(customers):
                owners[number] = customers[offset]
        return owners

    def _block_starts(self, number_range: str) -> list[tuple[int, str]]:
        if number_range not in self._starts:
            items = query_all(
                self._client,
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :block)",
                ExpressionAttributeValues={
                    ":pk": {"S": f"RANGE#{number_range}"},
                    ":block": {"S": "BLOCK#"},
                },
                ProjectionExpression="sk, #first",
                ExpressionAttributeNames={"#first": "first"},
            )
            self._starts[number_range] = sorted((int(i["first"]), str(i["sk"])) for i in items)
        return self._starts[number_range]

    def _blocks(self, pk: str, block_ids: set[str]) -> dict[str, tuple[int, list[str]]]:
        keys = [{"pk": pk, "sk": block_id} for block_id in sorted(block_ids)]
        found = get_many(
            self._client,
            self._table,
            keys,
            projection="sk, #first, customers",
            names={"#first": "first"},
            parallel=BULK_CALLS,
        )
        return {str(item["sk"]): (int(item["first"]), list(item["customers"])) for item in found}
