"""Lambda entry points of the invoice run state machine: prepare, bill a shard, finalize."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.invoicing.run import FinalizeRequest, ShardRequest
from shared.invoicing.service import InvoiceRunService, PrepareRequest
from shared.settings import load_settings
from shared.wiring import invoice_run_service

logger = Logger(service="invoice_run")
metrics = Metrics(service="invoice_run")
tracer = Tracer(service="invoice_run")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})


@cache
def service() -> InvoiceRunService:
    load_settings.cache_clear()
    return invoice_run_service(load_settings())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def prepare(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PrepareRequest.model_validate(event.get("input") or {})
    prepared = service().prepare(request, execution=str(event["execution"]))
    logger.append_keys(run_id=prepared["run_id"])
    metrics.add_metric(name="InvoiceRunsStarted", unit=MetricUnit.Count, value=1)
    return prepared


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def bill_shard(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ShardRequest.model_validate(event)
    logger.append_keys(run_id=request.run_id, shard=request.shard)
    result = service().bill_shard(request)
    if not request.dry_run:
        metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=result.new_invoices)
    metrics.add_metric(name="InvoiceFailures", unit=MetricUnit.Count, value=len(result.failed))
    return {"shard": result.shard, "invoices": result.invoices, "failed": len(result.failed)}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def finalize(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FinalizeRequest.model_validate(event)
    logger.append_keys(run_id=request.run_id)
    report = service().finalize(request)
    metrics.add_metric(name="InvoiceRunsFinished", unit=MetricUnit.Count, value=1)
    return {
        "run_id": report.run_id,
        "status": report.status,
        "report_key": f"runs/{report.run_id}/report.json",
    }
