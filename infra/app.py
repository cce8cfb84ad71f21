"""The CDK app: `cdk synth` runs `python -m infra.app` (see cdk.json)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# jsii prints a large end-of-life banner for Node 20 on every start unless told to accept it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra import spec
from infra.stack import BillingStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
DEFAULT_STACK_NAME = "Billing"
DEFAULT_JWT_ISSUER = "https://login.billing.example/"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json, so that an app built in a test gets the same feature flags."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def settings_from(app: App) -> dict[str, str]:
    """spec's default settings, overridden by the JSON object in context key billing:settings."""
    overrides = app.node.try_get_context("billing:settings") or {}
    if isinstance(overrides, str):
        overrides = json.loads(overrides)
    return spec.default_settings() | {key: str(value) for key, value in overrides.items()}


def build_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    app = App(context=cdk_json_context() | dict(context or {}), outdir=outdir)
    BillingStack(
        app,
        str(app.node.try_get_context("billing:stackName") or DEFAULT_STACK_NAME),
        jwt_issuer=str(app.node.try_get_context("billing:jwtIssuer") or DEFAULT_JWT_ISSUER),
        jwt_audience=str(app.node.try_get_context("billing:jwtAudience") or spec.JWT_AUDIENCE),
        settings=settings_from(app),
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
