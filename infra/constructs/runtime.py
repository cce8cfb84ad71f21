"""What every function of the stack shares: the code asset, the dependency layer, the settings."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import bundling


class FunctionRuntime(Construct):
    """One code asset and one layer for all functions, so a deploy uploads each only once."""

    def __init__(
        self, scope: Construct, construct_id: str, *, environment: Mapping[str, str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.environment = dict(environment)
        self.code = bundling.function_code()
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=bundling.dependency_layer_code(),
            compatible_architectures=[bundling.ARCHITECTURE],
            compatible_runtimes=[bundling.RUNTIME],
            description="pinned third-party packages of the functions (requirements/lambda.lock)",
            removal_policy=RemovalPolicy.DESTROY,
        )
