"""Lambda entry point of the bulk feed: batches from the feed queue, with partial failures.

A message is either one order record (JSON) or S3's notice of a JSON Lines file under the feed
prefix of the work bucket. Every record is accepted or rejected on its own; the rejects of a
file go to ``feeds/rejects/<file>.rejects.jsonl``, those of single messages to
``feeds/rejects/messages/<message id>.json``. Only a failure to store fails the message, so the
queue brings it back and, after its last attempt, moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
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

from shared.orders.feed import FeedIntake, FeedSummary, RecordResult, jsonl_lines
from shared.s3_notices import objects_named
from shared.settings import load_settings
from shared.wiring import client, contract_changes, order_service

# infra.spec.FEED_PREFIX and FEED_REJECTS_PREFIX; infra is not part of the function bundle.
FEED_PREFIX = "feeds/incoming/"
REJECTS_PREFIX = "feeds/rejects/"

logger = Logger(service="order_feed")
metrics = Metrics(service="order_feed")
tracer = Tracer(service="order_feed")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def feed() -> tuple[FeedIntake, Any, str]:
    load_settings.cache_clear()
    settings = load_settings()
    dynamodb = client("dynamodb")
    intake = FeedIntake(order_service(settings, dynamodb), contract_changes(settings, dynamodb))
    return intake, client("s3"), settings.work_bucket


def handle_record(record: SQSRecord) -> None:
    objects = objects_named(record.body)
    if objects is not None:
        for bucket, key in objects:
            _apply_file(bucket, key)
        return
    intake, s3, bucket = feed()
    result = intake.apply(record.body)
    _count([result])
    if result.outcome == "rejected":
        document = result.reject_document() | {"message_id": record.message_id}
        key = f"{REJECTS_PREFIX}messages/{record.message_id}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())


def _apply_file(bucket: str, key: str) -> None:
    if not key.startswith(FEED_PREFIX):
        return
    intake, s3, work_bucket = feed()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    summary = intake.apply_lines(jsonl_lines(body))
    _count(summary.results)
    _write_rejects(s3, work_bucket, key, summary)
    logger.info(
        "feed file applied",
        extra={"key": key, "accepted": summary.accepted, "rejected": len(summary.rejected)},
    )


def _write_rejects(s3: Any, bucket: str, key: str, summary: FeedSummary) -> None:
    """The same file gives the same rejects file: a retried batch writes it again, unchanged."""
    name = key.removeprefix(FEED_PREFIX)
    lines = "".join(json.dumps(r.reject_document()) + "\n" for r in summary.rejected)
    s3.put_object(Bucket=bucket, Key=f"{REJECTS_PREFIX}{name}.rejects.jsonl", Body=lines.encode())


def _count(results: list[RecordResult]) -> None:
    accepted = sum(result.outcome == "accepted" for result in results)
    metrics.add_metric(name="FeedRecordsAccepted", unit=MetricUnit.Count, value=accepted)
    metrics.add_metric(
        name="FeedRecordsRejected", unit=MetricUnit.Count, value=len(results) - accepted
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    )
