"""The monthly schedule starts last month's run through the same function AWS would invoke."""

from __future__ import annotations

from typing import Any

from infra import spec
from tests.integration.conftest import Aws

FIRED = {"scheduled_time": "2026-12-01T02:00:00Z"}


def _executions(aws: Aws) -> list[str]:
    listed = aws.stepfunctions.list_executions(stateMachineArn=aws.stack.invoice_run_arn)
    return sorted(execution["name"] for execution in listed["executions"])


def _wait(aws: Aws, execution: str) -> dict[str, Any]:
    prefix = aws.stack.invoice_run_arn.replace(":stateMachine:", ":execution:")
    return aws._wait(f"{prefix}:{execution}")


def test_the_schedule_starts_and_finishes_last_months_run(aws: Aws) -> None:
    hoster = aws.seed(12)

    answer, error = aws.invoke(spec.INVOICE_SCHEDULE.local_name, FIRED)

    assert error is None, answer
    assert answer == {
        "run_id": "run-2026-11",
        "execution": "run-2026-11-scheduled",
        "joined": False,
    }
    execution = _wait(aws, answer["execution"])
    assert execution["status"] == "SUCCEEDED"
    report = aws.read_json("runs/run-2026-11/run-2026-11-scheduled/report.json")
    assert report["issue_date"] == "2026-12-01"
    assert report["new_invoices"] == len(aws.invoices()) == len(hoster.customers)


def test_a_second_delivery_of_the_schedule_starts_nothing_new(aws: Aws) -> None:
    aws.seed(6)
    first, _ = aws.invoke(spec.INVOICE_SCHEDULE.local_name, FIRED)
    _wait(aws, first["execution"])
    issued = len(aws.invoices())

    answer, error = aws.invoke(spec.INVOICE_SCHEDULE.local_name, FIRED)

    assert error is None, answer
    assert answer["joined"] is True
    assert _executions(aws) == ["run-2026-11-scheduled"]
    assert len(aws.invoices()) == issued


def test_the_schedule_leaves_a_run_alone_that_finance_started(aws: Aws) -> None:
    aws.seed(6)
    aws.run("run-2026-11-by-finance")

    answer, error = aws.invoke(spec.INVOICE_SCHEDULE.local_name, FIRED)

    assert error is None, answer
    assert answer == {
        "run_id": "run-2026-11",
        "execution": "run-2026-11-by-finance",
        "joined": True,
    }
    assert _executions(aws) == ["run-2026-11-by-finance"]


def test_the_schedule_is_provisioned_as_in_the_stack(aws: Aws) -> None:
    schedule = aws.clients("scheduler").get_schedule(Name=spec.MONTHLY_INVOICE_RUN.local_name)

    assert schedule["ScheduleExpression"] == "cron(0 3 1 * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["Target"]["Arn"] == aws.stack.function_arns[spec.INVOICE_SCHEDULE.id]
