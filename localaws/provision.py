"""Creates every resource of the stack on an AWS endpoint, from the same specs the CDK app uses."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from infra import spec

REGION = "eu-central-1"
ACCOUNT = "123456789012"
LAMBDA_RUNTIME = "python3.12"
_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass
class LocalStack:
    """Names and ARNs of what was provisioned, and the environment the functions got."""

    table_names: dict[str, str]
    bucket_names: dict[str, str]
    bus_names: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    function_arns: dict[str, str] = field(default_factory=dict)
    state_machine_arns: dict[str, str] = field(default_factory=dict)
    function_environment: dict[str, str] = field(default_factory=dict)

    @property
    def invoice_run_arn(self) -> str:
        return self.state_machine_arns[spec.INVOICE_RUN.id]

    @property
    def dunning_run_arn(self) -> str:
        return self.state_machine_arns[spec.DUNNING_RUN.id]

    def exports(self) -> dict[str, str]:
        """What a shell needs to talk to this stack with the CLI."""
        machines = {
            machine.env_var: self.state_machine_arns[machine.id]
            for machine in spec.STATE_MACHINES
            if machine.id in self.state_machine_arns
        }
        return self.function_environment | machines


def local_stack(settings: dict[str, str] | None = None) -> LocalStack:
    stack = LocalStack(
        table_names={table.id: table.local_name for table in spec.TABLES},
        bucket_names={bucket.id: bucket.local_name for bucket in spec.BUCKETS},
        bus_names={bus.id: bus.local_name for bus in spec.EVENT_BUSES},
    )
    stack.function_environment = spec.function_environment(
        table_names=stack.table_names,
        bucket_names=stack.bucket_names,
        settings=spec.default_settings() | (settings or {}),
        bus_names=stack.bus_names,
    )
    return stack


def provision(clients: Any, stack: LocalStack, *, poll_queues: bool = True) -> LocalStack:
    """Create every resource; ``clients(name)`` gives a boto3 client for a service.

    ``poll_queues=False`` creates the queue event sources disabled, for an endpoint whose own
    polling cannot be used (moto: see localaws/queue_poller.py, which polls instead).
    """
    _storage(clients)
    for queue in spec.QUEUES:
        stack.queue_urls[queue.id] = create_queue(clients("sqs"), queue, stack.queue_urls)
    stack.function_environment |= spec.queue_environment(stack.queue_urls)
    for bucket_id in dict.fromkeys(n.bucket_id for n in spec.NOTIFICATIONS):
        notifications = [n for n in spec.NOTIFICATIONS if n.bucket_id == bucket_id]
        notify(clients("s3"), clients("sqs"), notifications, stack)
    verify_sender(clients("ses"), stack.function_environment["BILLING_MAIL_FROM"])

    role_arn = create_role(clients("iam"))
    for function in spec.FUNCTIONS:
        stack.function_arns[function.id] = _function(
            clients("lambda"), function, role_arn, stack.function_environment
        )
    for source in spec.EVENT_SOURCES:
        _event_source(clients("lambda"), clients("sqs"), source, stack, enabled=poll_queues)
    for machine in spec.STATE_MACHINES:
        stack.state_machine_arns[machine.id] = _state_machine(
            clients("stepfunctions"), machine, role_arn, stack.function_arns
        )
    for function in spec.FUNCTIONS:
        _give_state_machines(clients("lambda"), function, stack)
    for schedule in spec.SCHEDULES:
        _schedule(clients("scheduler"), schedule, role_arn, stack.function_arns)
    return stack


def _storage(clients: Any) -> None:
    """Tables, buckets and event buses."""
    for table in spec.TABLES:
        create_table(clients("dynamodb"), table)
    for bucket in spec.BUCKETS:
        create_bucket(clients("s3"), bucket)
    for bus in spec.EVENT_BUSES:
        clients("events").create_event_bus(Name=bus.local_name, Description=bus.description)


def create_table(dynamodb: Any, table: spec.TableSpec) -> None:
    keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    attributes = {key.name: key.type for key in keys}
    for index in table.indexes:
        for key in (index.partition_key, index.sort_key):
            if key is not None:
                attributes[key.name] = key.type

    request: dict[str, Any] = {
        "TableName": table.local_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in attributes.items()
        ],
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": index.projection(),
            }
            for index in table.indexes
        ]
    dynamodb.create_table(**request)
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.local_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )


def _key_schema(partition: spec.Key, sort: spec.Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    if sort is not None:
        schema.append({"AttributeName": sort.name, "KeyType": "RANGE"})
    return schema


def create_bucket(s3: Any, bucket: spec.BucketSpec) -> None:
    s3.create_bucket(
        Bucket=bucket.local_name,
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=bucket.object_lock,
    )
    if bucket.versioned:
        s3.put_bucket_versioning(
            Bucket=bucket.local_name, VersioningConfiguration={"Status": "Enabled"}
        )
    s3.put_public_access_block(
        Bucket=bucket.local_name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def create_queue(sqs: Any, queue: spec.QueueSpec, queue_urls: dict[str, str]) -> str:
    """The queue with its redrive policy; its dead-letter queue must be in ``queue_urls``."""
    attributes = {
        "VisibilityTimeout": str(queue.visibility_timeout_seconds),
        "MessageRetentionPeriod": str(queue.retention_days * 24 * 3600),
        "SqsManagedSseEnabled": "true",
    }
    if queue.dead_letter_queue is not None:
        target = queue_arn(sqs, queue_urls[queue.dead_letter_queue.id])
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": queue.max_receive_count}
        )
    url: str = sqs.create_queue(QueueName=queue.local_name, Attributes=attributes)["QueueUrl"]
    return url


def queue_arn(sqs: Any, queue_url: str) -> str:
    response = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    arn: str = response["Attributes"]["QueueArn"]
    return arn


def notify(
    s3: Any, sqs: Any, notifications: list[spec.NotificationSpec], stack: LocalStack
) -> None:
    """New objects under each prefix are announced on its queue (feed and statement files).

    A bucket has one notification configuration: all of a bucket's notices are set at once.
    """
    (bucket_id,) = {notification.bucket_id for notification in notifications}
    configurations = [
        {
            "QueueArn": queue_arn(sqs, stack.queue_urls[notification.queue_id]),
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": notification.prefix}]}},
        }
        for notification in notifications
    ]
    s3.put_bucket_notification_configuration(
        Bucket=stack.bucket_names[bucket_id],
        NotificationConfiguration={"QueueConfigurations": configurations},
    )
    for queue_id in dict.fromkeys(notification.queue_id for notification in notifications):
        _consume_test_event(sqs, stack.queue_urls[queue_id])


def _consume_test_event(sqs: Any, queue_url: str) -> None:
    """S3 announces a new configuration with an ``s3:TestEvent`` message; a fresh stack starts
    with empty queues, so provisioning takes it off (the feed function would skip it)."""
    response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    for message in response.get("Messages", []):
        if '"s3:TestEvent"' in message["Body"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def verify_sender(ses: Any, mail_from: str) -> None:
    """SES refuses to send from an identity it has not verified; locally, verifying is a call."""
    ses.verify_email_identity(EmailAddress=mail_from)


def create_role(iam: Any, *, name: str = "billing-local") -> str:
    response = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_TRUST_POLICY))
    arn: str = response["Role"]["Arn"]
    return arn


def placeholder_package() -> bytes:
    """moto wants a package; the local runtime runs the project's code in process instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "handlers run in process from the project checkout\n")
    return buffer.getvalue()


def _function(
    lambda_client: Any, function: spec.FunctionSpec, role_arn: str, environment: dict[str, str]
) -> str:
    response = lambda_client.create_function(
        FunctionName=function.local_name,
        Runtime=LAMBDA_RUNTIME,
        Architectures=["arm64"],
        Role=role_arn,
        Handler=function.handler,
        Code={"ZipFile": placeholder_package()},
        Description=function.description,
        Timeout=function.timeout_seconds,
        MemorySize=function.memory_mb,
        Environment={
            "Variables": environment | {"POWERTOOLS_SERVICE_NAME": function.component},
        },
    )
    arn: str = response["FunctionArn"]
    if function.reserved_concurrency is not None:
        lambda_client.put_function_concurrency(
            FunctionName=function.local_name,
            ReservedConcurrentExecutions=function.reserved_concurrency,
        )
    return arn


def _event_source(
    lambda_client: Any,
    sqs: Any,
    source: spec.EventSourceSpec,
    stack: LocalStack,
    *,
    enabled: bool,
) -> None:
    lambda_client.create_event_source_mapping(
        Enabled=enabled,
        EventSourceArn=queue_arn(sqs, stack.queue_urls[source.queue_id]),
        FunctionName=stack.function_arns[source.function_id],
        BatchSize=source.batch_size,
        FunctionResponseTypes=(
            ["ReportBatchItemFailures"] if source.report_batch_item_failures else []
        ),
        ScalingConfig={"MaximumConcurrency": source.maximum_concurrency},
    )


def _state_machine(
    stepfunctions: Any,
    machine: spec.StateMachineSpec,
    role_arn: str,
    function_arns: dict[str, str],
) -> str:
    response = stepfunctions.create_state_machine(
        name=machine.local_name,
        definition=machine.definition(function_arns),
        roleArn=role_arn,
        type="STANDARD",
    )
    arn: str = response["stateMachineArn"]
    return arn


def _give_state_machines(
    lambda_client: Any, function: spec.FunctionSpec, stack: LocalStack
) -> None:
    """Functions that start executions learn the state machine once it exists, as in the stack."""
    for machine_id in function.starts_state_machines:
        lambda_client.update_function_configuration(
            FunctionName=function.local_name,
            Environment={
                "Variables": stack.function_environment
                | {
                    "POWERTOOLS_SERVICE_NAME": function.component,
                    _machine(machine_id).env_var: stack.state_machine_arns[machine_id],
                }
            },
        )


def _machine(machine_id: str) -> spec.StateMachineSpec:
    return next(machine for machine in spec.STATE_MACHINES if machine.id == machine_id)


def _schedule(
    scheduler: Any, schedule: spec.ScheduleSpec, role_arn: str, function_arns: dict[str, str]
) -> None:
    """Recorded for parity with the stack; the embedded AWS never fires schedules."""
    scheduler.create_schedule(
        Name=schedule.local_name,
        Description=schedule.description,
        ScheduleExpression=schedule.expression,
        ScheduleExpressionTimezone=schedule.timezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": function_arns[schedule.function_id],
            "RoleArn": role_arn,
            "Input": '{"scheduled_time": "<aws.scheduler.scheduled-time>"}',
        },
    )
