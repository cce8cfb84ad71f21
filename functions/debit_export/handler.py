"""Lambda entry point of the daily schedule: the debit export for the next business day."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.payments.debit_export import ScheduledExport
from shared.settings import load_settings
from shared.wiring import debit_export_service, ledger

logger = Logger(service="debit_export")
metrics = Metrics(service="debit_export")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def export(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A refused request (no creditor id) fails the invocation, as does another export at work:
    the schedule retries, and a retry collects nothing twice."""
    request = ScheduledExport.model_validate(event).request()
    load_settings.cache_clear()
    settings = load_settings()
    service = debit_export_service(settings, ledger(settings))
    result = service.export(request)
    logger.append_keys(collection_date=request.collection_date.isoformat())
    items = result.new_file.items if result.new_file else 0
    metrics.add_metric(name="DebitItemsCollected", unit=MetricUnit.Count, value=items)
    logger.info("debit export done", extra={"items": items, "files": len(result.files)})
    return {
        "collection_date": request.collection_date.isoformat(),
        "new_file": result.new_file.key if result.new_file else None,
        "items": items,
        "files": [summary.key for summary in result.files],
    }
