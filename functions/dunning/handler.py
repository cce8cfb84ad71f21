"""Lambda entry points of the dunning run: prepare, one shard, finalize, and the daily start."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.dunning.run import DunningFinalizeRequest, DunningPrepareRequest, DunningShardRequest
from shared.dunning.runner import DunningRunService, report_key
from shared.dunning.service import DunningService
from shared.invoicing.starter import ScheduledStart
from shared.settings import load_settings
from shared.wiring import dunning_run_service, dunning_service, dunning_starter

logger = Logger(service="dunning")
metrics = Metrics(service="dunning")
tracer = Tracer(service="dunning")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})


@cache
def service() -> DunningService:
    load_settings.cache_clear()
    return dunning_service(load_settings())


@cache
def run_service() -> DunningRunService:
    load_settings.cache_clear()
    return dunning_run_service(load_settings())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def prepare(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DunningPrepareRequest.model_validate(event.get("input") or {})
    prepared = run_service().prepare(request, execution=str(event["execution"]))
    logger.append_keys(run_id=prepared["run_id"])
    metrics.add_metric(name="DunningRunsStarted", unit=MetricUnit.Count, value=1)
    return prepared


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def run_shard(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DunningShardRequest.model_validate(event)
    logger.append_keys(run_id=request.run_id, shard=request.shard)
    result = service().run_shard(request)
    metrics.add_metric(name="DunningNotices", unit=MetricUnit.Count, value=len(result.notices))
    metrics.add_metric(name="DunningSuspensions", unit=MetricUnit.Count, value=result.suspensions)
    metrics.add_metric(name="DunningFailures", unit=MetricUnit.Count, value=len(result.failed))
    return {"shard": result.shard, "notices": len(result.notices), "failed": len(result.failed)}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def finalize(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DunningFinalizeRequest.model_validate(event)
    logger.append_keys(run_id=request.run_id)
    report = run_service().finalize(request)
    metrics.add_metric(name="DunningRunsFinished", unit=MetricUnit.Count, value=1)
    return {
        "run_id": report.run_id,
        "status": report.status,
        "report_key": report_key(report.run_id),
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def start_scheduled(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = ScheduledStart.model_validate(event)
    load_settings.cache_clear()
    started = dunning_starter(load_settings()).start_scheduled(scheduled)
    logger.append_keys(run_id=started.run_id)
    outcome = "ScheduledDunningRunsJoined" if started.joined else "ScheduledDunningRunsStarted"
    metrics.add_metric(name=outcome, unit=MetricUnit.Count, value=1)
    return {"run_id": started.run_id, "execution": started.execution, "joined": started.joined}
