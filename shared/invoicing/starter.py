"""Starting an invoice run: one run per period, however often and by whom it is started.

Finance starts a run by hand (`billing run start`), the monthly schedule starts it on its own.
A start while an execution of the same run is still going joins that execution. The schedule
names its execution after the run, so a schedule delivered twice starts one execution, and it
leaves a run alone that finance has already started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.invoicing.run import run_id_for
from shared.periods import Period

logger = logging.getLogger(__name__)


class ExecutionExistsError(Exception):
    """An execution of this name exists already (running or closed)."""


@dataclass(frozen=True)
class Execution:
    name: str
    arn: str


class Executions(Protocol):
    """The executions of the invoice run state machine."""

    def running(self, name_prefix: str) -> Execution | None: ...

    def start(self, name: str, payload: dict[str, Any]) -> Execution: ...

    def named(self, name: str) -> Execution: ...


class RunLookup(Protocol):
    def get_run(self, run_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class StartedRun:
    run_id: str
    execution: str
    execution_arn: str
    joined: bool


class ScheduledStart(BaseModel):
    """What the schedule sends: the time it was due (EventBridge Scheduler fills it in)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scheduled_time: AwareDatetime


@dataclass
class RunStarter:
    executions: Executions
    runs: RunLookup
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def start(self, period: Period, *, issue_date: date, dry_run: bool = False) -> StartedRun:
        """Start the period's run, or join an execution of it that is still running."""
        run_id = run_id_for(period)
        running = self.executions.running(f"{run_id}-")
        if running is not None:
            logger.info("invoice run joined", extra={"run_id": run_id, "execution": running.name})
            return StartedRun(run_id, running.name, running.arn, joined=True)

        stamp = self.clock().strftime("%Y%m%dT%H%M%S%f")
        name = f"{run_id}-{'dry-' if dry_run else ''}{stamp}"
        started = self.executions.start(name, _payload(period, issue_date, dry_run))
        logger.info("invoice run started", extra={"run_id": run_id, "execution": name})
        return StartedRun(run_id, started.name, started.arn, joined=False)

    def start_scheduled(self, event: ScheduledStart) -> StartedRun:
        """Bill the month before the one the schedule fired in, issued on the day it fired.

        The schedule fires early on the 1st in Europe/Berlin, which is still the 1st in UTC.
        """
        issue_date = event.scheduled_time.astimezone(UTC).date()
        period = Period.previous(issue_date)
        run_id = run_id_for(period)
        earlier = self._earlier_start(run_id)
        if earlier is not None:
            logger.info("scheduled run already started", extra={"run_id": run_id})
            return earlier

        name = f"{run_id}-scheduled"
        try:
            started = self.executions.start(name, _payload(period, issue_date, dry_run=False))
        except ExecutionExistsError:
            logger.info("scheduled run delivered again", extra={"run_id": run_id})
            known = self.executions.named(name)
            return StartedRun(run_id, known.name, known.arn, joined=True)

        logger.info("scheduled run started", extra={"run_id": run_id, "execution": name})
        return StartedRun(run_id, started.name, started.arn, joined=False)

    def _earlier_start(self, run_id: str) -> StartedRun | None:
        """A real (not dry) execution of the run that finance or the schedule started before."""
        running = self.executions.running(f"{run_id}-")
        if running is not None and "-dry-" not in running.name:
            return StartedRun(run_id, running.name, running.arn, joined=True)

        run = self.runs.get_run(run_id)
        if run is None or run.get("dry_run") or not run.get("execution"):
            return None
        known = self.executions.named(str(run["execution"]))
        return StartedRun(run_id, known.name, known.arn, joined=True)


def _payload(period: Period, issue_date: date, dry_run: bool) -> dict[str, Any]:
    return {"period": str(period), "issue_date": issue_date.isoformat(), "dry_run": dry_run}
