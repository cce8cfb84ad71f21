"""The moto speedups change how fast moto answers, not what it answers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from localaws import moto_speedups

REGION = "eu-central-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture(params=[False, True], ids=["plain moto", "with speedups"])
def speedups(request: pytest.FixtureRequest) -> Iterator[bool]:
    was_installed = moto_speedups.is_installed()
    if request.param:
        moto_speedups.install()
    else:
        moto_speedups.uninstall()
    yield request.param
    if was_installed:
        moto_speedups.install()
    else:
        moto_speedups.uninstall()


def queue_story(sqs: Any) -> dict[str, Any]:
    """What a client sees of standard and FIFO queues: sends, counts, dedup, receive."""
    standard = sqs.create_queue(QueueName="standard")["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName="orders.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for index in range(3):
        sqs.send_message_batch(
            QueueUrl=standard,
            Entries=[{"Id": str(n), "MessageBody": f"m{index}-{n}"} for n in range(10)],
        )
    for body in ("same", "same", "other"):
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
    received = sqs.receive_message(QueueUrl=standard, MaxNumberOfMessages=4)["Messages"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    return {
        "standard": sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=names)["Attributes"],
        "fifo": sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"],
        "received": len(received),
    }


def test_queues_answer_the_same(aws: None, speedups: bool) -> None:
    story = queue_story(boto3.client("sqs", region_name=REGION))

    assert story["standard"] == {
        "ApproximateNumberOfMessages": "26",
        "ApproximateNumberOfMessagesNotVisible": "4",
    }
    assert story["fifo"]["ApproximateNumberOfMessages"] == "2"
    assert story["fifo"]["ContentBasedDeduplication"] == "true"
    assert story["received"] == 4


def test_s3_answers_the_same_and_follows_a_changed_custom_endpoint(
    aws: None, speedups: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket="archive-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    s3.put_object(Bucket="archive-bucket", Key="k", Body=b"one")
    monkeypatch.setenv("MOTO_S3_CUSTOM_ENDPOINTS", "http://archive.local:9000")
    custom = boto3.client("s3", region_name=REGION, endpoint_url="http://archive.local:9000")

    assert s3.get_object(Bucket="archive-bucket", Key="k")["Body"].read() == b"one"
    assert custom.get_object(Bucket="archive-bucket", Key="k")["Body"].read() == b"one"


def test_uninstall_restores_moto() -> None:
    import moto.core.responses as moto_responses
    from botocore.signers import RequestSigner
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.s3.models import S3Backend
    from moto.sqs.models import Queue, SQSBackend

    was_installed = moto_speedups.is_installed()
    moto_speedups.install()
    moto_speedups.uninstall()
    try:
        assert "moto_speedups" not in getattr(SQSBackend.send_message, "__module__", "")
        assert "moto_speedups" not in getattr(Queue.add_message, "__module__", "")
        assert Queue.__dict__["attributes"].fget.__module__ == "moto.sqs.models"
        assert S3Backend.__dict__["_url_module"].fget.__module__ == "moto.s3.models"
        assert Table.query.__module__ == Table.all_items.__module__ == "moto.dynamodb.models.table"
        structure = BaseJSONSerializer.__dict__["_serialize_type_structure"]
        assert structure.__module__ == "moto.core.serialize"
        assert moto_responses.method_names_from_class.__module__ == "moto.core.utils"
        assert Item.__init__.__module__ == "moto.dynamodb.models.dynamo_type"
        assert RequestSigner.handler.__module__ == "botocore.signers"
    finally:
        if was_installed:
            moto_speedups.install()


def test_a_message_past_the_retention_period_is_not_received(aws: None, speedups: bool) -> None:
    from moto.sqs.models import sqs_backends

    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    queue = sqs_backends["123456789012"][REGION].get_queue("short")
    old = next(m for m in queue._messages if m.body == "old")
    old.sent_timestamp = int(old.sent_timestamp) - 120_000

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert [m["Body"] for m in received] == ["new"]


def table_story(dynamodb: Any) -> dict[str, Any]:
    """Queries of the table's key (paged, reversed, with conditions), of an index, and a scan."""
    dynamodb.create_table(
        TableName="things",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "colour", "size")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-colour",
                "KeySchema": [{"AttributeName": "colour", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-colour-size",
                "KeySchema": [
                    {"AttributeName": "colour", "KeyType": "HASH"},
                    {"AttributeName": "size", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for part in ("b", "a", "c"):
        for index in (3, 1, 2, 5, 4):
            item = {"pk": part, "sk": f"{index:02d}", "colour": ("red", "blue")[index % 2]}
            if part != "b":
                item["size"] = f"{(index * 7 + ord(part)) % 10}"
            dynamodb.put_item(TableName="things", Item={k: {"S": v} for k, v in item.items()})

    def keys(response: dict[str, Any]) -> list[str]:
        return [f"{i['pk']['S']}/{i['sk']['S']}" for i in response["Items"]]

    first = dynamodb.query(
        TableName="things",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        Limit=2,
    )
    rest = dynamodb.query(
        TableName="things",
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    return {
        "paged": keys(first) + keys(rest),
        "reversed": keys(
            dynamodb.query(
                TableName="things",
                KeyConditionExpression="pk = :p AND sk > :s",
                ExpressionAttributeValues={":p": {"S": "c"}, ":s": {"S": "02"}},
                ScanIndexForward=False,
            )
        ),
        "missing": keys(
            dynamodb.query(
                TableName="things",
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "zzz"}},
            )
        ),
        "index": sorted(
            keys(
                dynamodb.query(
                    TableName="things",
                    IndexName="by-colour",
                    KeyConditionExpression="colour = :c",
                    ExpressionAttributeValues={":c": {"S": "red"}},
                )
            )
        ),
        "index in order": index_pages(dynamodb, "colour = :c", {":c": {"S": "blue"}}),
        "index range": index_pages(
            dynamodb, "colour = :c AND size < :s", {":c": {"S": "blue"}, ":s": {"S": "5"}}
        ),
        "scan": len(dynamodb.scan(TableName="things")["Items"]),
    }


def index_pages(dynamodb: Any, condition: str, values: dict[str, Any]) -> list[str]:
    """Every key the ranged index holds for ``condition``, two to a page, newest first."""
    found: list[str] = []
    request: dict[str, Any] = {
        "TableName": "things",
        "IndexName": "by-colour-size",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": 2,
    }
    while True:
        page = dynamodb.query(**request)
        found += [f"{i['size']['S']}:{i['pk']['S']}/{i['sk']['S']}" for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_queries_answer_the_same(aws: None, speedups: bool) -> None:
    story = table_story(boto3.client("dynamodb", region_name=REGION))

    assert story == {
        "paged": ["a/01", "a/02", "a/03", "a/04", "a/05"],
        "reversed": ["c/05", "c/04", "c/03"],
        "missing": [],
        "index": sorted(f"{p}/{i:02d}" for p in "abc" for i in (2, 4)),
        "index in order": ["8:a/03", "6:c/01", "4:c/05", "4:a/01", "2:a/05", "0:c/03"],
        "index range": ["4:c/05", "4:a/01", "2:a/05", "0:c/03"],
        "scan": 15,
    }


def attribute_values() -> st.SearchStrategy[Any]:
    """Attribute values as moto's DynamoDB answers hold them, nested, with the odd empty one."""
    scalars = st.one_of(
        st.builds(lambda text: {"S": text}, st.text(max_size=8)),
        st.builds(lambda number: {"N": str(number)}, st.decimals(allow_nan=False, places=2)),
        st.builds(lambda data: {"B": data}, st.binary(max_size=8)),
        st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda texts: {"SS": texts}, st.lists(st.text(max_size=4), max_size=3)),
        st.builds(lambda ns: {"NS": [str(n) for n in ns]}, st.lists(st.integers(), max_size=3)),
        st.builds(lambda blobs: {"BS": blobs}, st.lists(st.binary(max_size=4), max_size=3)),
        st.just({}),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.builds(lambda members: {"M": members}, st.dictionaries(st.text(max_size=4), inner)),
            st.builds(lambda members: {"L": members}, st.lists(inner | st.none(), max_size=3)),
        ),
        max_leaves=12,
    )


def query_answer_body(items: list[dict[str, Any]]) -> str:
    from moto.core.serialize import XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("Query")
    serializer = get_serializer_class("dynamodb", "json")(
        operation_model=operation, pretty_print=False, value_picker=XFormedAttributePicker()
    )
    answer = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    body: str = serializer.serialize(answer)["body"]
    return body


@settings(max_examples=200)
@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=6), attribute_values()), max_size=3))
def test_items_are_written_out_as_moto_writes_them(items: list[dict[str, Any]]) -> None:
    was_installed = moto_speedups.is_installed()
    moto_speedups.uninstall()
    plain = query_answer_body(items)
    moto_speedups.install()
    try:
        assert query_answer_body(items) == plain
    finally:
        if not was_installed:
            moto_speedups.uninstall()


def test_dynamodb_items_take_the_direct_way(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[Any] = []
    direct = moto_speedups._attribute_value

    def counted(serializer: Any, value: Any) -> Any:
        written.append(value)
        return direct(serializer, value)

    was_installed = moto_speedups.is_installed()
    moto_speedups.install()
    monkeypatch.setattr(moto_speedups, "_attribute_value", counted)
    try:
        body = query_answer_body([{"pk": {"S": "CUST#1"}, "lines": {"L": [{"N": "4.99"}]}}])
    finally:
        if not was_installed:
            moto_speedups.uninstall()

    assert '"lines": {"L": [{"N": "4.99"}]}' in body
    assert {"S": "CUST#1"} in written


def test_items_are_refused_above_the_same_size(aws: None, speedups: bool) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="sized",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def item(total: int) -> dict[str, Any]:
        """An item of ``total`` bytes by moto's count: names and values of its attributes."""
        body = total - len("pk") - len("small") - len("a") * 4 - len("b")
        half = body // 2
        return {
            "pk": {"S": "small"},
            "a": {"S": "x" * half},
            "b": {"M": {"c": {"S": "y" * (body - half - len("c"))}, "d": {"N": "1"}}},
        }

    dynamodb.put_item(TableName="sized", Item=item(404_990))
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        dynamodb.put_item(TableName="sized", Item=item(405_010) | {"pk": {"S": "large"}})

    kept = dynamodb.get_item(TableName="sized", Key={"pk": {"S": "small"}})["Item"]
    assert kept == item(404_990)
    assert "Item" not in dynamodb.get_item(TableName="sized", Key={"pk": {"S": "large"}})


def test_s3_keeps_bodies_and_checksums_without_request_signatures(
    aws: None, speedups: bool
) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    seen: list[str] = []

    def keep_authorization(request: Any, **_: Any) -> None:
        header = request.headers["Authorization"]
        seen.append(header.decode() if isinstance(header, bytes) else header)

    s3.meta.events.register("before-send.s3", keep_authorization)
    s3.create_bucket(Bucket="signed", CreateBucketConfiguration={"LocationConstraint": REGION})
    body = bytes(range(256)) * 300

    s3.put_object(Bucket="signed", Key="doc.pdf", Body=body, ChecksumAlgorithm="SHA256")
    read = s3.get_object(Bucket="signed", Key="doc.pdf", ChecksumMode="ENABLED")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "signed", "Key": "doc.pdf"})

    assert read["Body"].read() == body
    assert read["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert all(f"/{REGION}/s3/aws4_request" in header for header in seen)
    assert all(("Signature=unsigned" in header) is speedups for header in seen)
    assert "X-Amz-Signature=" in url
    assert "unsigned" not in url
