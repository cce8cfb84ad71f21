"""Lambda entry point of the monthly schedule: starts last month's invoice run."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.invoicing.starter import ScheduledStart
from shared.settings import load_settings
from shared.wiring import run_starter

logger = Logger(service="invoice_run")
metrics = Metrics(service="invoice_run")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def start(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = ScheduledStart.model_validate(event)
    load_settings.cache_clear()
    started = run_starter(load_settings()).start_scheduled(scheduled)
    logger.append_keys(run_id=started.run_id)
    outcome = "ScheduledRunsJoined" if started.joined else "ScheduledRunsStarted"
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    return {"run_id": started.run_id, "execution": started.execution, "joined": started.joined}
