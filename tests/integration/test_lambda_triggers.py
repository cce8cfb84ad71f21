"""Queue and stream triggers reach the real handler in process, through the same replacement."""

from __future__ import annotations

import json
import time

from localaws.provision import LAMBDA_RUNTIME, create_role, placeholder_package
from tests.integration import sample_handlers
from tests.integration.conftest import Aws


def _sample_function(aws: Aws, name: str) -> str:
    response = aws.lambda_.create_function(
        FunctionName=name,
        Runtime=LAMBDA_RUNTIME,
        Role=create_role(aws.clients("iam"), name=f"{name}-role"),
        Handler="tests.integration.sample_handlers.remember",
        Code={"ZipFile": placeholder_package()},
        Environment={"Variables": {"SAMPLE_MARKER": name}},
    )
    return str(response["FunctionArn"])


def _wait_for(count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while len(sample_handlers.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return sample_handlers.received


def test_an_sqs_message_invokes_the_handler_with_the_function_environment(aws: Aws) -> None:
    sample_handlers.received.clear()
    arn = _sample_function(aws, "sample-queue-consumer")
    sqs = aws.clients("sqs")
    queue_url = sqs.create_queue(QueueName="sample-orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws.lambda_.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=arn)

    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"order": "O-1"}))

    received = _wait_for(1)
    assert len(received) == 1
    records = received[0]["event"]["Records"]
    assert json.loads(records[0]["body"]) == {"order": "O-1"}
    assert records[0]["eventSource"] == "aws:sqs"
    assert received[0]["marker"] == "sample-queue-consumer"


def test_a_dynamodb_stream_record_invokes_the_handler(aws: Aws) -> None:
    sample_handlers.received.clear()
    arn = _sample_function(aws, "sample-stream-consumer")
    dynamodb = aws.dynamodb
    table = dynamodb.create_table(
        TableName="sample-stream",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    aws.lambda_.create_event_source_mapping(
        EventSourceArn=table["LatestStreamArn"], FunctionName=arn, StartingPosition="LATEST"
    )

    dynamodb.put_item(TableName="sample-stream", Item={"pk": {"S": "C0000001"}})

    received = _wait_for(1)
    assert len(received) == 1
    record = received[0]["event"]["Records"][0]
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["NewImage"] == {"pk": {"S": "C0000001"}}
