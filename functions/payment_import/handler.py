"""Lambda entry points of the statement import: S3's notices of statement files, from SQS, and
the steps of the state machine that imports large files in parts.

Each notice names a file under ``statements/`` in the work bucket. A file of up to
``BILLING_STATEMENT_PARTS_FROM_BYTES`` is read, imported (``shared.payments.importing``) and its
report written to ``statement-reports/<name>.json``; a larger one starts the statement import's
state machine (``shared.payments.import_run``), named by the object (bucket, key, ETag: the
file is not read here), which imports it in parts by customer on workers of their own and
writes the same report. A
file that is no statement gets a report naming the field and the reason and fails nothing: it
will not read better next time. Anything else (storage, another import holding the lock) fails
the message, which comes again after its visibility timeout and, after five receives, goes to
the dead-letter queue. Importing a file again posts nothing twice.
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

from shared.payments.import_run import (
    STATEMENT_PREFIX,
    FinalizeRequest,
    PartRequest,
    PrepareRequest,
    StatementImportRun,
    object_digest,
    refusal,
    report_key,
    start_in_parts,
)
from shared.payments.importing import ImportReport, PaymentImport
from shared.payments.statement import StatementError
from shared.payments.statements import read_statement
from shared.s3_notices import objects_named
from shared.settings import Settings, load_settings
from shared.wiring import (
    client,
    payment_import,
    statement_import_executions,
    statement_import_run,
)

logger = Logger(service="payment_import")
metrics = Metrics(service="payment_import")
tracer = Tracer(service="payment_import")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def importer() -> tuple[PaymentImport, Any, Settings]:
    load_settings.cache_clear()
    settings = load_settings()
    return payment_import(settings), client("s3"), settings


@cache
def import_run() -> StatementImportRun:
    load_settings.cache_clear()
    return statement_import_run(load_settings())


def handle_record(record: SQSRecord) -> None:
    objects = objects_named(record.body)
    if objects is None:
        raise ValueError("the message is no S3 event notification")
    for bucket, key in objects:
        if key.startswith(STATEMENT_PREFIX):
            import_file(bucket, key)


def import_file(bucket: str, key: str) -> ImportReport | None:
    """Import the file here, or start its import in parts; None when it was refused or
    handed to the state machine."""
    use_case, s3, settings = importer()
    logger.append_keys(statement_key=key)
    head = s3.head_object(Bucket=bucket, Key=key)
    if head["ContentLength"] > settings.statement_parts_from_bytes:
        _start_in_parts(settings, bucket, key, object_digest(bucket, key, head["ETag"]))
        return None
    data = s3.get_object(Bucket=bucket, Key=key, IfMatch=head["ETag"])["Body"].read()
    try:
        statement = read_statement(data)
    except StatementError as error:
        _refused(error)
        s3.put_object(
            Bucket=settings.work_bucket,
            Key=report_key(key),
            Body=json.dumps(refusal(key, error)).encode(),
        )
        return None

    report = use_case.run(statement)
    s3.put_object(
        Bucket=settings.work_bucket,
        Key=report_key(key),
        Body=report.model_dump_json(indent=1).encode(),
    )
    _count(report)
    logger.info(
        "statement file imported",
        extra={"entries": report.entries, "matched": report.matched, "unmatched": report.unmatched},
    )
    return report


def _start_in_parts(settings: Settings, bucket: str, key: str, digest: str) -> None:
    started = start_in_parts(statement_import_executions(settings), digest, bucket, key)
    if started is None:
        logger.info("statement file already imported or being imported", extra={"object": digest})
        return
    logger.info("statement file handed to the import in parts", extra={"execution": started})


def _refused(error: StatementError) -> None:
    logger.warning("statement file refused", extra={"field": error.field, "reason": error.reason})
    metrics.add_metric(name="StatementFilesRefused", unit=MetricUnit.Count, value=1)


def _count(report: ImportReport) -> None:
    metrics.add_metric(name="PaymentsMatched", unit=MetricUnit.Count, value=report.matched)
    metrics.add_metric(name="PaymentsUnmatched", unit=MetricUnit.Count, value=report.unmatched)
    metrics.add_metric(name="DebitsReturned", unit=MetricUnit.Count, value=report.returns)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=handle_record, processor=processor, context=context
        )
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def prepare(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PrepareRequest.model_validate(event.get("input") or {})
    execution = str(event["execution"])
    logger.append_keys(statement_key=request.key, execution=execution)
    prepared = import_run().prepare(request, execution=execution)
    if prepared["parts"] == 0:
        metrics.add_metric(name="StatementFilesRefused", unit=MetricUnit.Count, value=1)
    return prepared


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def import_part(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PartRequest.model_validate(event)
    logger.append_keys(execution=request.execution, part=request.part)
    report = import_run().import_part(request)
    return {"part": request.part, "entries": report.entries}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def finalize(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FinalizeRequest.model_validate(event)
    logger.append_keys(execution=request.execution)
    report = import_run().finalize(request)
    if report is None:
        return {"execution": request.execution, "status": "refused"}
    _count(report)
    status = "completed_with_failures" if report.missing_parts else "succeeded"
    logger.info(
        "statement file imported in parts",
        extra={"entries": report.entries, "matched": report.matched, "status": status},
    )
    return {"execution": request.execution, "status": status, "entries": report.entries}
