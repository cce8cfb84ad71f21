"""Who starts a run and how often does not matter: one run per period, never billed twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.invoicing.starter import (
    Execution,
    ExecutionExistsError,
    RunStarter,
    ScheduledStart,
)
from shared.periods import Period

ARN = "arn:aws:states:eu-central-1:123456789012:execution:billing-invoice-run:"


class FakeExecutions:
    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.running_names: list[str] = []

    def running(self, name_prefix: str) -> Execution | None:
        for name in self.running_names:
            if name.startswith(name_prefix):
                return Execution(name, ARN + name)
        return None

    def start(self, name: str, payload: dict[str, Any]) -> Execution:
        if any(started == name for started, _ in self.started):
            raise ExecutionExistsError(name)
        self.started.append((name, payload))
        return Execution(name, ARN + name)

    def named(self, name: str) -> Execution:
        return Execution(name, ARN + name)


class FakeRuns:
    def __init__(self, runs: dict[str, dict[str, Any]] | None = None) -> None:
        self.runs = runs or {}

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self.runs.get(run_id)


def _starter(runs: FakeRuns | None = None) -> tuple[RunStarter, FakeExecutions]:
    executions = FakeExecutions()
    clock = lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # noqa: E731
    return RunStarter(executions, runs or FakeRuns(), clock=clock), executions


def _fired(at: str) -> ScheduledStart:
    return ScheduledStart.model_validate({"scheduled_time": at})


def test_finance_starts_a_new_execution_named_after_the_run() -> None:
    starter, executions = _starter()

    started = starter.start(Period(2026, 11), issue_date=date(2026, 12, 1))

    assert not started.joined
    assert started.run_id == "run-2026-11"
    assert executions.started == [
        (
            "run-2026-11-20261201T093000000000",
            {"period": "2026-11", "issue_date": "2026-12-01", "dry_run": False},
        )
    ]


def test_a_start_while_the_run_is_going_joins_it() -> None:
    starter, executions = _starter()
    executions.running_names = ["run-2026-10-x", "run-2026-11-20261201T080000000000"]

    started = starter.start(Period(2026, 11), issue_date=date(2026, 12, 1))

    assert started.joined
    assert started.execution == "run-2026-11-20261201T080000000000"
    assert executions.started == []


def test_a_dry_run_says_so_in_its_execution_name() -> None:
    starter, executions = _starter()

    starter.start(Period(2026, 11), issue_date=date(2026, 12, 1), dry_run=True)

    assert executions.started[0][0].startswith("run-2026-11-dry-")
    assert executions.started[0][1]["dry_run"] is True


@pytest.mark.parametrize(
    ("fired_at", "run_id", "issue_date"),
    [
        ("2026-12-01T02:00:00Z", "run-2026-11", "2026-12-01"),
        ("2027-01-01T02:00:00+00:00", "run-2026-12", "2027-01-01"),
        ("2027-03-01T03:00:00+01:00", "run-2027-02", "2027-03-01"),
    ],
)
def test_the_schedule_bills_the_month_before_it_fired(
    fired_at: str, run_id: str, issue_date: str
) -> None:
    starter, executions = _starter()

    started = starter.start_scheduled(_fired(fired_at))

    assert (started.run_id, started.execution, started.joined) == (
        run_id,
        run_id + "-scheduled",
        False,
    )
    assert executions.started[0][1]["issue_date"] == issue_date


def test_a_schedule_delivered_twice_starts_one_execution() -> None:
    starter, executions = _starter()

    first = starter.start_scheduled(_fired("2026-12-01T02:00:00Z"))
    second = starter.start_scheduled(_fired("2026-12-01T02:00:00Z"))

    assert [name for name, _ in executions.started] == ["run-2026-11-scheduled"]
    assert not first.joined
    assert second.joined
    assert second.execution_arn == first.execution_arn


def test_the_schedule_leaves_a_run_alone_that_finance_started_before() -> None:
    runs = FakeRuns({"run-2026-11": {"execution": "run-2026-11-20261130T170000", "dry_run": False}})
    starter, executions = _starter(runs)

    started = starter.start_scheduled(_fired("2026-12-01T02:00:00Z"))

    assert started.joined
    assert started.execution == "run-2026-11-20261130T170000"
    assert executions.started == []


def test_the_schedule_joins_a_run_finance_is_running_now() -> None:
    starter, executions = _starter()
    executions.running_names = ["run-2026-11-20261201T010000000000"]

    started = starter.start_scheduled(_fired("2026-12-01T02:00:00Z"))

    assert started.joined
    assert executions.started == []


def test_an_earlier_dry_run_does_not_stop_the_schedule() -> None:
    runs = FakeRuns({"run-2026-11": {"execution": "run-2026-11-dry-1", "dry_run": True}})
    starter, executions = _starter(runs)
    executions.running_names = ["run-2026-11-dry-2"]

    started = starter.start_scheduled(_fired("2026-12-01T02:00:00Z"))

    assert not started.joined
    assert [name for name, _ in executions.started] == ["run-2026-11-scheduled"]


def test_a_schedule_event_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="scheduled_time"):
        _fired("2026-12-01T02:00:00")
