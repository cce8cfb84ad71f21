"""The statement import: S3 announces each statement file on the statements queue, and one
function imports it (one file per invocation; imports take a lock in the Control table) or,
when it is large, starts the state machine that imports it in parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import spec
from infra.constructs.function import BillingFunction
from infra.constructs.nag import acknowledge, logical_id
from infra.constructs.schedule import grant_starts

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]


class PaymentImport(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        queues: Mapping[str, sqs.IQueue],
        state_machines: dict[str, sfn.IStateMachine],
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = {spec.PAYMENT_IMPORT.id: new_function(self, spec.PAYMENT_IMPORT)}
        importer = self.functions[spec.PAYMENT_IMPORT.id]
        grant_starts(importer, spec.PAYMENT_IMPORT, state_machines)
        self._grant_describe(importer, state_machines[spec.PAYMENT_IMPORT_RUN.id])
        for source in spec.EVENT_SOURCES:
            if source.function_id != spec.PAYMENT_IMPORT.id:
                continue
            self.functions[source.function_id].function.add_event_source(
                event_sources.SqsEventSource(
                    queues[source.queue_id],
                    batch_size=source.batch_size,
                    report_batch_item_failures=source.report_batch_item_failures,
                    max_concurrency=source.maximum_concurrency,
                )
            )

    @staticmethod
    def _grant_describe(importer: BillingFunction, machine: sfn.IStateMachine) -> None:
        """A file put again asks whether its earlier execution finished (import_run)."""
        if not isinstance(machine, sfn.StateMachine):
            raise TypeError("the import in parts needs its own state machine")
        executions = Stack.of(machine).format_arn(
            service="states",
            resource="execution",
            resource_name=machine.state_machine_name + ":statement-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        importer.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
        )
        acknowledge(
            importer.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:<{logical_id(machine)}.Name>:statement-*]",
            "the import reads the status of its own executions, named by each file's digest",
        )
