"""The order API for the shop, and the bulk feed of order records from other systems.

The shop is a server, not a person: it authenticates with OAuth 2.0 client credentials at the
identity provider (Cognito or any OIDC issuer) and calls with the access token. API Gateway's
JWT authorizer checks issuer, signature, expiry and that the token was issued to the shop's
client id (``client_id``, as client-credentials tokens carry no ``aud``), and every route
requires the ``orders/write`` scope. No long-lived AWS keys sit in the shop, tokens expire by
themselves, and the shop's access is revoked at the identity provider. The order API is an
HTTP API of its own: its own throttling, access logs and authorizer, apart from the customers'.

Feed files land under ``spec.FEED_PREFIX`` in the work bucket; S3 announces each on the feed
queue (infra/constructs/notifications.py), which also takes single order records, and the feed
function works the queue with partial batch responses and a dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import spec
from infra.constructs.archive_api import (
    THROTTLE_BURST,
    THROTTLE_RATE_PER_SECOND,
    AccessLogSettings,
)
from infra.constructs.function import LOG_RETENTION, BillingFunction

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]


class OrderIntake(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        jwt_issuer: str,
        shop_client_ids: list[str],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = {
            function_spec.id: new_function(self, function_spec)
            for function_spec in (spec.ORDER_INTAKE, spec.ORDER_FEED)
        }
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "ShopJwt", jwt_issuer, jwt_audience=shop_client_ids
        )
        self.api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="the shop places orders and changes contracts",
            create_default_stage=False,
            default_authorizer=self.authorizer,
        )
        self.stage = self._stage()
        self._add_routes()
        self._feed(queues)

    def _stage(self) -> apigwv2.HttpStage:
        log_group = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        return apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=AccessLogSettings(log_group=log_group),
            throttle=apigwv2.ThrottleSettings(
                rate_limit=THROTTLE_RATE_PER_SECOND, burst_limit=THROTTLE_BURST
            ),
        )

    def _add_routes(self) -> None:
        integration = integrations.HttpLambdaIntegration(
            "OrderIntakeIntegration",
            self.functions[spec.ORDER_INTAKE.id].function,
            payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
        )
        for route in order_routes():
            self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=integration,
                authorizer=self.authorizer,
                authorization_scopes=list(spec.API_AUTH["orders"].scopes),
            )

    def _feed(self, queues: Mapping[str, sqs.IQueue]) -> None:
        for source in spec.EVENT_SOURCES:
            if source.function_id != spec.ORDER_FEED.id:
                continue
            self.functions[source.function_id].function.add_event_source(
                event_sources.SqsEventSource(
                    queues[source.queue_id],
                    batch_size=source.batch_size,
                    report_batch_item_failures=source.report_batch_item_failures,
                    max_concurrency=source.maximum_concurrency,
                )
            )

    @property
    def url(self) -> str:
        return self.stage.url


def order_routes() -> list[spec.RouteSpec]:
    return [route for route in spec.ROUTES if route.api == "orders"]
