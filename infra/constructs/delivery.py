"""The paced sender: the delivery queue invokes one function that e-mails issued invoices.

SES grants each account a send rate, and e-mail is most of a run's cost: the run only announces
what it issued, and this function works the queue off with a fixed ceiling of parallel
instances (reserved concurrency, and the same maximum concurrency on the event source so that
Lambda never polls more batches than may run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import spec
from infra.constructs.function import BillingFunction

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]

# SES v2 authorizes SendEmail (simple and raw content alike) by this one action.
SEND_ACTIONS = ("ses:SendEmail",)
# Lambda's limits for the maximum concurrency of an SQS event source.
MIN_CONCURRENCY, MAX_CONCURRENCY = 2, 1000


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        queues: Mapping[str, sqs.IQueue],
        mail_from: str,
        concurrency: int,
    ) -> None:
        super().__init__(scope, construct_id)
        check_concurrency(concurrency)
        self.functions = {
            function_spec.id: new_function(self, function_spec)
            for function_spec in delivery_functions()
        }
        for source in delivery_sources():
            self._event_source(source, queues[source.queue_id], concurrency)
        sender = self.functions[spec.INVOICE_DELIVERY.id]
        self._limit_concurrency(sender.function, concurrency)
        self._grant_sending(sender.role, mail_from)

    def _event_source(
        self, source: spec.EventSourceSpec, queue: sqs.IQueue, concurrency: int
    ) -> None:
        self.functions[source.function_id].function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=source.batch_size,
                report_batch_item_failures=source.report_batch_item_failures,
                max_concurrency=concurrency,
            )
        )

    @staticmethod
    def _limit_concurrency(function: lambda_.Function, concurrency: int) -> None:
        resource = function.node.default_child
        if not isinstance(resource, lambda_.CfnFunction):
            raise TypeError("the delivery function has no CfnFunction")
        resource.reserved_concurrent_executions = concurrency

    def _grant_sending(self, role: iam.IRole, mail_from: str) -> None:
        """SES authorizes a send on the verified identity: the address itself or its domain."""
        stack = Stack.of(self)
        identities = [
            stack.format_arn(
                service="ses",
                resource="identity",
                resource_name=identity,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            for identity in (mail_from, mail_from.rpartition("@")[2])
        ]
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(SEND_ACTIONS), resources=identities)
        )


def check_concurrency(concurrency: int) -> None:
    if not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(
            f"billing:deliveryConcurrency must be from {MIN_CONCURRENCY} to {MAX_CONCURRENCY}, "
            f"not {concurrency}"
        )


def delivery_sources() -> list[spec.EventSourceSpec]:
    return [s for s in spec.EVENT_SOURCES if s.function_id == spec.INVOICE_DELIVERY.id]


def delivery_functions() -> list[spec.FunctionSpec]:
    """The functions that the delivery queue invokes, in spec order."""
    wanted = {source.function_id for source in delivery_sources()}
    return [function_spec for function_spec in spec.FUNCTIONS if function_spec.id in wanted]
