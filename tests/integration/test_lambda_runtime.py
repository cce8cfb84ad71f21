"""The one replaced moto method: handlers run in process with their function's environment."""

from __future__ import annotations

import json
import logging

import pytest

from localaws import lambda_runtime
from tests.integration.conftest import Aws


def test_moto_is_within_the_version_range_the_replacement_was_tested_with() -> None:
    low, high = lambda_runtime.SUPPORTED_MOTO
    assert low <= lambda_runtime.moto_version() < high


def test_the_replacement_refuses_an_untested_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_runtime, "moto_version", lambda: (5, 3, 0))

    with pytest.raises(RuntimeError, match="private moto method"):
        lambda_runtime.check_moto_version()


def test_a_direct_invoke_runs_the_real_handler_with_the_function_environment(aws: Aws) -> None:
    event = {"input": {"period": "2026-11", "issue_date": "2026-12-01"}, "execution": "direct-1"}

    result, error = aws.invoke("billing-invoice-prepare", event)

    assert error is None, result
    assert result["run_id"] == "run-2026-11"
    assert result["manifest_bucket"] == aws.stack.bucket_names["Work"]
    assert result["shards"] == 4
    manifest = aws.read_json(result["manifest_key"])
    assert manifest == [{"shard": n} for n in range(4)]


def test_a_handler_error_comes_back_as_a_function_error_with_its_type(aws: Aws) -> None:
    result, error = aws.invoke("billing-invoice-worker", {"shard": -1})

    assert error == "Handled"
    assert result["errorType"] == "ValidationError"
    assert "run_id" in result["errorMessage"]


def test_the_handler_output_lands_in_the_function_log_group_not_on_stdout(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"input": {"period": "2026-11", "issue_date": "2026-12-01"}, "execution": "logs-1"}

    aws.invoke("billing-invoice-prepare", event)

    assert "invoice run prepared" not in capsys.readouterr().out
    logs = aws.clients("logs")
    group = "/aws/lambda/billing-invoice-prepare"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    records = [json.loads(m) for m in messages if m.startswith("{")]
    prepared = [r for r in records if r.get("message") == "invoice run prepared"]
    assert prepared, messages
    assert prepared[0]["run_id"] == "run-2026-11"
    assert prepared[0]["service"] == "invoice_run"


def test_the_shared_loggers_are_the_callers_again_after_an_invocation(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["shared", "shared.invoicing.starter"]
    for name in names:
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    event = {"input": {"period": "2026-11", "issue_date": "2026-12-01"}, "execution": "lent-1"}

    aws.invoke("billing-invoice-prepare", event)

    assert [logging.getLogger(name).handlers for name in names] == [[], []]
    assert all(logging.getLogger(name).propagate for name in names)
