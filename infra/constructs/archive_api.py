"""The customers' archive API: an HTTP API whose routes need a valid customer JWT.

The one exception is the OpenAPI document, which anybody may read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import spec
from infra.constructs.function import LOG_RETENTION, BillingFunction
from infra.constructs.nag import acknowledge

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]

# Well below the account's 10,000 requests/s, so one noisy client cannot starve the others.
THROTTLE_RATE_PER_SECOND = 2000
THROTTLE_BURST = 5000


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    def __init__(self, *, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.json_with_standard_fields(
            caller=False,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=False,
        )


class ArchiveApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        jwt_issuer: str,
        jwt_audience: Sequence[str],
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = {
            function_spec.id: new_function(self, function_spec) for function_spec in api_functions()
        }
        self.authorizer = authorizers.HttpJwtAuthorizer(
            "CustomerJwt", jwt_issuer, jwt_audience=list(jwt_audience)
        )
        self.api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="customers read their invoices and credit notes",
            create_default_stage=False,
            default_authorizer=self.authorizer,
            cors_preflight=cors_preflight(cors_origins),
        )
        self.stage = self._stage()
        self._add_routes()

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
        lambda_integrations = {
            function_id: integrations.HttpLambdaIntegration(
                function_id + "Integration",
                fn.function,
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
            for function_id, fn in self.functions.items()
        }
        for route in archive_routes():
            authorizer: apigwv2.IHttpRouteAuthorizer = (
                self.authorizer if route.authorized else apigwv2.HttpNoneAuthorizer()
            )
            added = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod(route.method)],
                integration=lambda_integrations[route.function_id],
                authorizer=authorizer,
            )
            if not route.authorized:
                for public in added:
                    acknowledge(
                        public,
                        "AwsSolutions-APIG4",
                        "the OpenAPI document describes the API and holds no customer data",
                    )

    @property
    def url(self) -> str:
        return self.stage.url


def cors_preflight(origins: Sequence[str]) -> apigwv2.CorsPreflightOptions:
    """The portal's pages call this API from their own origin (spec.PORTAL's CORS settings)."""
    portal = spec.PORTAL
    return apigwv2.CorsPreflightOptions(
        allow_origins=list(origins),
        allow_methods=[apigwv2.CorsHttpMethod(method) for method in portal.cors_allow_methods],
        allow_headers=list(portal.cors_allow_headers),
        expose_headers=list(portal.cors_expose_headers),
        max_age=Duration.seconds(portal.cors_max_age_seconds),
        allow_credentials=False,
    )


def archive_routes() -> list[spec.RouteSpec]:
    return [route for route in spec.ROUTES if route.api == "archive"]


def api_functions() -> list[spec.FunctionSpec]:
    """The functions that the archive routes send requests to, in spec order."""
    wanted = {route.function_id for route in archive_routes()}
    return [function_spec for function_spec in spec.FUNCTIONS if function_spec.id in wanted]
