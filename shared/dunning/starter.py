"""Starting a day's dunning run: one run per day, however often and by whom it is started.

Finance starts it by hand (`billing dunning run --date D`), the daily schedule starts it on its
own. A start while an execution of the same day is still going joins it. A day started again
afterwards runs again and changes nothing already done (every step is found, not repeated), but
takes in what happened since: a payment posted meanwhile settles its case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from shared.dunning.run import run_id_for
from shared.invoicing.starter import ExecutionExistsError, Executions, ScheduledStart, StartedRun

logger = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class DunningStarter:
    executions: Executions
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def start(self, day: date) -> StartedRun:
        run_id = run_id_for(day)
        running = self.executions.running(f"{run_id}-")
        if running is not None:
            logger.info("dunning run joined", extra={"run_id": run_id, "execution": running.name})
            return StartedRun(run_id, running.name, running.arn, joined=True)
        name = f"{run_id}-{self.clock():%Y%m%dT%H%M%S%f}"
        started = self.executions.start(name, {"run_date": day.isoformat()})
        logger.info("dunning run started", extra={"run_id": run_id, "execution": name})
        return StartedRun(run_id, started.name, started.arn, joined=False)

    def start_scheduled(self, event: ScheduledStart) -> StartedRun:
        """The run of the day (in Berlin) the schedule fired on; a delivery twice starts one."""
        day = event.scheduled_time.astimezone(BERLIN).date()
        run_id = run_id_for(day)
        running = self.executions.running(f"{run_id}-")
        if running is not None:
            return StartedRun(run_id, running.name, running.arn, joined=True)
        name = f"{run_id}-scheduled"
        try:
            started = self.executions.start(name, {"run_date": day.isoformat()})
        except ExecutionExistsError:
            logger.info("scheduled dunning run delivered again", extra={"run_id": run_id})
            known = self.executions.named(name)
            return StartedRun(run_id, known.name, known.arn, joined=True)
        logger.info("scheduled dunning run started", extra={"run_id": run_id, "execution": name})
        return StartedRun(run_id, started.name, started.arn, joined=False)
