"""Conditional writes on the embedded AWS hold under real concurrent threads, as on DynamoDB."""

from __future__ import annotations

import threading
from collections.abc import Callable

from botocore.exceptions import ClientError

from localaws import atomic_writes
from tests.integration.conftest import Aws

THREADS = 16
ROUNDS = 10


def _race(work: Callable[[int], bool]) -> int:
    """Start ``THREADS`` threads at one barrier; how many of them ``work`` says won."""
    barrier = threading.Barrier(THREADS)
    wins: list[int] = []

    def run(index: int) -> None:
        barrier.wait()
        if work(index):
            wins.append(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins)


def _conditional(call: Callable[[], object]) -> bool:
    try:
        call()
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def test_the_embedded_aws_serializes_dynamodb_writes(aws: Aws) -> None:
    assert atomic_writes.is_installed()


def test_exactly_one_thread_creates_a_new_key(aws: Aws) -> None:
    table = aws.stack.table_names["Control"]
    for round_number in range(ROUNDS):

        def put(index: int, key: str = f"RACE#{round_number}") -> bool:
            client = aws.clients("dynamodb")
            item = {"pk": {"S": key}, "sk": {"S": "X"}, "by": {"N": str(index)}}
            return _conditional(
                lambda: client.put_item(
                    TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            )

        assert _race(put) == 1


def test_a_guarded_counter_never_passes_its_limit(aws: Aws) -> None:
    table = aws.stack.table_names["Control"]
    key = {"pk": {"S": "COUNTER#race"}, "sk": {"S": "X"}}
    aws.dynamodb.put_item(TableName=table, Item=key | {"taken": {"N": "0"}})

    def take(_: int) -> bool:
        client = aws.clients("dynamodb")
        return _conditional(
            lambda: client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET taken = taken + :one",
                ConditionExpression="taken < :limit",
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "3"}},
            )
        )

    assert _race(take) == 3
    item = aws.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["taken"] == {"N": "3"}
