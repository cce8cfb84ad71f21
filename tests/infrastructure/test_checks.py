"""The synthesized app passes cdk-nag's AWS Solutions checks and cfn-lint."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import lint

from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    report = synthesized.validation_report
    violations = [
        violation["ruleName"] + " at " + construct["constructPath"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]

    assert synthesized.error is None, "\n".join(violations) or str(synthesized.error)
    assert violations == []


def acknowledgments(synthesized: Synthesized) -> dict[tuple[str, str], str]:
    """(construct path, finding id) -> reason, for every acknowledgment made in the app."""
    metadata = json.loads((synthesized.outdir / "Billing.metadata.json").read_text())
    return {
        (path.removeprefix("/"), finding): reason
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for finding, reason in entry["data"].items()
    }


def test_every_acknowledgment_gives_a_reason(synthesized: Synthesized) -> None:
    reasons = acknowledgments(synthesized).values()

    assert reasons
    assert all(len(reason) > 20 for reason in reasons)


def test_every_acknowledgment_silences_a_finding(synthesized: Synthesized) -> None:
    suppressed = {
        (violation["acknowledgedAt"], violation["acknowledgedId"])
        for plugin in synthesized.validation_report["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
    }

    assert set(acknowledgments(synthesized)) == suppressed


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    matches = lint(json.dumps(synthesized.template))
    errors = [str(match) for match in matches if match.rule.id.startswith("E")]
    for match in matches:
        if not match.rule.id.startswith("E"):
            print("cfn-lint:", match)  # noqa: T201 - warnings are shown, not failed

    assert errors == []
