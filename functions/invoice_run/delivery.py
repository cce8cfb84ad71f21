"""Lambda entry point of the paced sender: batches of announced invoices from the queue.

Each message is delivered on its own; the answer names the messages that failed for now, so only
those come back (and after the queue's last attempt go to its dead-letter queue). A permanent
rejection is recorded as failed and its message is done.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.delivery.model import DeliveryRequest
from shared.delivery.service import DeliveryService, Outcome
from shared.settings import load_settings
from shared.wiring import delivery_service

logger = Logger(service="delivery")
metrics = Metrics(service="delivery")
tracer = Tracer(service="delivery")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
processor = BatchProcessor(event_type=EventType.SQS)

METRIC_OF_OUTCOME = {
    "sent": "InvoiceEmailsSent",
    "failed": "InvoiceEmailsFailed",
    "skipped": "InvoiceEmailsSkipped",
}


@cache
def service() -> DeliveryService:
    load_settings.cache_clear()
    return delivery_service(load_settings())


def deliver_record(record: SQSRecord) -> Outcome:
    request = DeliveryRequest.model_validate_json(record.body)
    logger.append_keys(
        run_id=request.run_id, customer_id=request.customer_id, invoice_number=request.number
    )
    outcome = service().deliver(request)
    metrics.add_metric(name=METRIC_OF_OUTCOME[outcome], unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=deliver_record, processor=processor, context=context
        )
    )
