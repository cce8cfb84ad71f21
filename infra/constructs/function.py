"""One Lambda function from its FunctionSpec, with its own role, log group and least privilege."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import bundling, spec
from infra.constructs.nag import acknowledge, logical_id
from infra.constructs.runtime import FunctionRuntime

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

TABLE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# For tables a function only reads and writes single items of, by key.
ITEM_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem")
# SendMessageBatch is authorized by sqs:SendMessage.
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)
OBJECT_READ_ACTIONS = ("s3:GetObject",)
OBJECT_WRITE_ACTIONS = ("s3:PutObject",)
# A PUT that carries an Object Lock retention needs this besides s3:PutObject.
OBJECT_LOCK_WRITE_ACTIONS = ("s3:PutObjectRetention",)


class BillingFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_spec: spec.FunctionSpec,
        runtime: FunctionRuntime,
        tables: Mapping[str, dynamodb.ITable],
        buckets: Mapping[str, s3.IBucket],
        queues: Mapping[str, sqs.IQueue] | None = None,
        buses: Mapping[str, events.IEventBus] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = function_spec
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="runs " + function_spec.local_name,
        )
        self.function = self._function(runtime)
        self._grant_logs()
        self._grant_tables(tables)
        self._grant_buckets(buckets)
        self._grant_items(tables)
        self._grant_queues(queues or {})
        self._grant_events(buses or {})

    def _function(self, runtime: FunctionRuntime) -> lambda_.Function:
        function_spec = self.spec
        function = lambda_.Function(
            self,
            "Function",
            code=runtime.code,
            handler=function_spec.handler,
            runtime=bundling.RUNTIME,
            architecture=bundling.ARCHITECTURE,
            layers=[runtime.layer],
            memory_size=function_spec.memory_mb,
            timeout=Duration.seconds(function_spec.timeout_seconds),
            description=function_spec.description,
            environment=runtime.environment | {"POWERTOOLS_SERVICE_NAME": function_spec.component},
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            role=self.role,
            reserved_concurrent_executions=function_spec.reserved_concurrency,
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.12 is the runtime the dependency layer is built for (spec and lambda.lock)",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource-level permissions",
        )
        return function

    def _grant_logs(self) -> None:
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )

    def _grant_tables(self, tables: Mapping[str, dynamodb.ITable]) -> None:
        for table_id in sorted({*self.spec.reads_tables, *self.spec.writes_tables}):
            actions: tuple[str, ...] = TABLE_READ_ACTIONS
            if table_id in self.spec.writes_tables:
                actions += TABLE_WRITE_ACTIONS
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(actions), resources=table_resources(table_id, tables)
                )
            )

    def _grant_buckets(self, buckets: Mapping[str, s3.IBucket]) -> None:
        for bucket_id in sorted({*self.spec.reads_buckets, *self.spec.writes_buckets}):
            bucket = buckets[bucket_id]
            self.role.add_to_principal_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
            )
            writes = bucket_id in self.spec.writes_buckets
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(object_actions(bucket_id, writes=writes)),
                    resources=[bucket.arn_for_objects("*")],
                )
            )
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/*]",
                "object keys hold customer, document or run ids that the code derives at run time",
            )

    def _grant_items(self, tables: Mapping[str, dynamodb.ITable]) -> None:
        for table_id in sorted(self.spec.item_tables):
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(ITEM_ACTIONS), resources=[tables[table_id].table_arn]
                )
            )

    def _grant_queues(self, queues: Mapping[str, sqs.IQueue]) -> None:
        for queue_id in sorted(self.spec.sends_to_queues):
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(QUEUE_SEND_ACTIONS), resources=[queues[queue_id].queue_arn]
                )
            )

    def _grant_events(self, buses: Mapping[str, events.IEventBus]) -> None:
        for bus_id in sorted(self.spec.puts_events):
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["events:PutEvents"], resources=[buses[bus_id].event_bus_arn]
                )
            )


def table_resources(table_id: str, tables: Mapping[str, dynamodb.ITable]) -> list[str]:
    """The table's ARN and one ARN per index that spec declares, no wildcard."""
    table = tables[table_id]
    table_spec = next(table for table in spec.TABLES if table.id == table_id)
    indexes = [f"{table.table_arn}/index/{index.name}" for index in table_spec.indexes]
    return [table.table_arn, *indexes]


def object_actions(bucket_id: str, *, writes: bool) -> tuple[str, ...]:
    if not writes:
        return OBJECT_READ_ACTIONS
    bucket_spec = next(bucket for bucket in spec.BUCKETS if bucket.id == bucket_id)
    lock = OBJECT_LOCK_WRITE_ACTIONS if bucket_spec.object_lock else ()
    return OBJECT_READ_ACTIONS + OBJECT_WRITE_ACTIONS + lock
