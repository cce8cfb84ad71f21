"""One synthesis of the whole app per test session, with asset bundling skipped."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from infra.app import build_app
from infra.bundling import CopyCode, PipInstallLayer
from infra.stack import BillingStack

# The logical id prefix of the one function the CDK adds for every BucketDeployment of a stack.
CDK_DEPLOYMENT_PROVIDER = "CustomCDKBucketDeployment"


@dataclass(frozen=True)
class Synthesized:
    stack: BillingStack
    template: dict[str, Any]
    outdir: Path
    error: Exception | None
    bundling_calls: int

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def billing_functions(self) -> dict[str, dict[str, Any]]:
        """The Lambda functions of spec.FUNCTIONS: all but the CDK's BucketDeployment provider
        (the portal's file copy), which test_portal_template checks on its own."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources("AWS::Lambda::Function").items()
            if not logical_id.startswith(CDK_DEPLOYMENT_PROVIDER)
        }

    def output_ref(self, output_id: str) -> str:
        """The logical id of the resource an output names with Ref."""
        ref: str = self.template["Outputs"][output_id]["Value"]["Ref"]
        return ref

    @property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    with (
        mock.patch.object(CopyCode, "try_bundle", autospec=True, return_value=True) as copy,
        mock.patch.object(PipInstallLayer, "try_bundle", autospec=True, return_value=True) as pip,
    ):
        app = build_app(context={"aws:cdk:bundling-stacks": []}, outdir=str(outdir))
        stack = next(child for child in app.node.children if isinstance(child, BillingStack))
        error: Exception | None = None
        try:
            app.synth()
        except RuntimeError as failure:  # a validation plugin's findings fail the synthesis
            error = failure
    template = json.loads((outdir / stack.template_file).read_text())
    return Synthesized(stack, template, outdir, error, copy.call_count + pip.call_count)
