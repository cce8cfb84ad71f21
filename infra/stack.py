"""The billing stack, built entirely from infra/spec.py."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import spec
from infra.constructs.archive_api import ArchiveApi
from infra.constructs.buckets import Buckets
from infra.constructs.buses import EventBuses
from infra.constructs.delivery import Delivery
from infra.constructs.function import BillingFunction
from infra.constructs.invoice_run import InvoiceRun
from infra.constructs.monitoring import Monitoring
from infra.constructs.notifications import BucketNotifications
from infra.constructs.order_intake import OrderIntake
from infra.constructs.payments import PaymentImport
from infra.constructs.portal import Portal
from infra.constructs.queues import Queues
from infra.constructs.runtime import FunctionRuntime
from infra.constructs.schedule import RunSchedule
from infra.constructs.tables import Tables


class BillingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        jwt_issuer: str,
        jwt_audience: str,
        settings: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id, description="serverless mass billing")
        self.tables = Tables(self, "Tables")
        self.buckets = Buckets(self, "Buckets")
        self.queues = Queues(self, "Queues")
        self.buses = EventBuses(self, "EventBuses")
        self.mail_from = self._context("billing:mailFrom", settings["BILLING_MAIL_FROM"])
        self.runtime = FunctionRuntime(
            self,
            "Runtime",
            environment=spec.function_environment(
                table_names={key: table.table_name for key, table in self.tables.by_id.items()},
                bucket_names={
                    key: bucket.bucket_name for key, bucket in self.buckets.by_id.items()
                },
                settings=dict(settings) | {"BILLING_MAIL_FROM": self.mail_from},
                queue_urls={key: queue.queue_url for key, queue in self.queues.by_id.items()},
                bus_names={key: bus.event_bus_name for key, bus in self.buses.by_id.items()},
            ),
        )
        self.invoice_run = InvoiceRun(
            self,
            spec.INVOICE_RUN.id,
            new_function=self._new_function,
            work_bucket=self.buckets.by_id[spec.WORK.id],
        )
        self.dunning_run = InvoiceRun(
            self,
            spec.DUNNING_RUN.id,
            new_function=self._new_function,
            work_bucket=self.buckets.by_id[spec.WORK.id],
            machine=spec.DUNNING_RUN,
            worker=spec.DUNNING_WORKER,
        )
        self.payment_import_run = InvoiceRun(
            self,
            spec.PAYMENT_IMPORT_RUN.id,
            new_function=self._new_function,
            work_bucket=self.buckets.by_id[spec.WORK.id],
            machine=spec.PAYMENT_IMPORT_RUN,
            worker=spec.PAYMENT_IMPORT_WORKER,
        )
        self.portal = Portal(self, spec.PORTAL.id, access_logs=self.buckets.access_logs)
        self.archive_api = ArchiveApi(
            self,
            "ArchiveApi",
            new_function=self._new_function,
            jwt_issuer=jwt_issuer,
            jwt_audience=[jwt_audience],
            cors_origins=[self.portal.origin, *self._more_portal_origins()],
        )
        self.portal.deploy_files(api_url=self.archive_api.url)
        self.delivery = Delivery(
            self,
            "Delivery",
            new_function=self._new_function,
            queues=self.queues.by_id,
            mail_from=self.mail_from,
            concurrency=int(
                self._context("billing:deliveryConcurrency", str(spec.DELIVERY_CONCURRENCY))
            ),
        )
        self.order_intake = OrderIntake(
            self,
            "OrderIntake",
            new_function=self._new_function,
            jwt_issuer=self._context("billing:shopJwtIssuer", jwt_issuer),
            shop_client_ids=[self._context("billing:shopClientId", spec.SHOP_CLIENT_ID)],
            queues=self.queues.by_id,
        )
        self.notifications = BucketNotifications(
            self, "Notifications", buckets=self.buckets.by_id, queues=self.queues.by_id
        )
        self.payment_import = PaymentImport(
            self,
            "PaymentImport",
            new_function=self._new_function,
            queues=self.queues.by_id,
            state_machines=self._state_machines(),
        )
        self.schedule = RunSchedule(
            self,
            "Schedule",
            new_function=self._new_function,
            state_machines=self._state_machines(),
        )
        self.functions = {
            **self.invoice_run.functions,
            **self.dunning_run.functions,
            **self.payment_import_run.functions,
            **self.schedule.functions,
            **self.archive_api.functions,
            **self.delivery.functions,
            **self.order_intake.functions,
            **self.payment_import.functions,
        }
        self._check_every_function_built()
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            functions={key: fn.function for key, fn in self.functions.items()},
            state_machines=self._state_machines(),
            dead_letter_queues={
                "InvoiceWorkerDeadLetters": self.invoice_run.dead_letters,
                "DunningWorkerDeadLetters": self.dunning_run.dead_letters,
                "PaymentImportWorkerDeadLetters": self.payment_import_run.dead_letters,
                spec.DELIVERY_DEAD_LETTERS.id: self.queues.by_id[spec.DELIVERY_DEAD_LETTERS.id],
                spec.ORDER_FEED_DEAD_LETTERS.id: self.queues.by_id[spec.ORDER_FEED_DEAD_LETTERS.id],
                spec.STATEMENTS_DEAD_LETTERS.id: self.queues.by_id[spec.STATEMENTS_DEAD_LETTERS.id],
            },
        )
        self._outputs()

    def _state_machines(self) -> dict[str, sfn.IStateMachine]:
        return {
            spec.INVOICE_RUN.id: self.invoice_run.state_machine,
            spec.DUNNING_RUN.id: self.dunning_run.state_machine,
            spec.PAYMENT_IMPORT_RUN.id: self.payment_import_run.state_machine,
        }

    def _context(self, key: str, default: str) -> str:
        return str(self.node.try_get_context(key) or default)

    def _more_portal_origins(self) -> list[str]:
        """Origins (comma-separated in billing:portalOrigins) such as the portal's own domain."""
        listed = self._context("billing:portalOrigins", "")
        return [origin.strip() for origin in listed.split(",") if origin.strip()]

    def _new_function(self, scope: Construct, function_spec: spec.FunctionSpec) -> BillingFunction:
        return BillingFunction(
            scope,
            function_spec.id,
            function_spec=function_spec,
            runtime=self.runtime,
            tables=self.tables.by_id,
            buckets=self.buckets.by_id,
            queues=self.queues.by_id,
            buses=self.buses.by_id,
        )

    def _check_every_function_built(self) -> None:
        missing = sorted({fn.id for fn in spec.FUNCTIONS} - set(self.functions))
        if missing:
            raise ValueError("no component builds the functions " + ", ".join(missing))

    def _outputs(self) -> None:
        for table_spec in spec.TABLES:
            name = self.tables.by_id[table_spec.id].table_name
            CfnOutput(self, table_spec.id + "TableName", value=name, description=table_spec.env_var)
        for bucket_spec in spec.BUCKETS:
            name = self.buckets.by_id[bucket_spec.id].bucket_name
            CfnOutput(
                self, bucket_spec.id + "BucketName", value=name, description=bucket_spec.env_var
            )
        for queue_spec in spec.QUEUES:
            if queue_spec.env_var:
                url = self.queues.by_id[queue_spec.id].queue_url
                CfnOutput(
                    self, queue_spec.id + "QueueUrl", value=url, description=queue_spec.env_var
                )
        for machine_spec, machine in (
            (spec.INVOICE_RUN, self.invoice_run.state_machine),
            (spec.DUNNING_RUN, self.dunning_run.state_machine),
            (spec.PAYMENT_IMPORT_RUN, self.payment_import_run.state_machine),
        ):
            CfnOutput(
                self,
                machine_spec.id + "StateMachineArn",
                value=machine.state_machine_arn,
                description=machine_spec.env_var,
            )
        for bus_spec in spec.EVENT_BUSES:
            CfnOutput(
                self,
                bus_spec.id + "BusName",
                value=self.buses.by_id[bus_spec.id].event_bus_name,
                description=bus_spec.env_var,
            )
        CfnOutput(
            self,
            "ShardCount",
            value=self.runtime.environment["BILLING_SHARD_COUNT"],
            description="BILLING_SHARD_COUNT",
        )
        CfnOutput(self, "ArchiveApiUrl", value=self.archive_api.url)
        CfnOutput(self, "OrderApiUrl", value=self.order_intake.url)
        CfnOutput(
            self, "PortalUrl", value=self.portal.url, description="the customer portal (CloudFront)"
        )
