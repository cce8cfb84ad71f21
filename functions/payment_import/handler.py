"""Lambda entry point of the statement import: S3's notices of statement files, from SQS.

Each notice names a file under ``statements/`` in the work bucket; the file is read, imported
(``shared.payments.importing``) and its report written to ``statement-reports/<name>.json``. A
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

from shared.payments.importing import ImportReport, PaymentImport
from shared.payments.statement import StatementError
from shared.payments.statements import read_statement
from shared.s3_notices import objects_named
from shared.settings import load_settings
from shared.wiring import client, payment_import

# infra.spec.STATEMENT_PREFIX and STATEMENT_REPORTS_PREFIX; infra is not in the function bundle.
STATEMENT_PREFIX = "statements/"
REPORTS_PREFIX = "statement-reports/"

logger = Logger(service="payment_import")
metrics = Metrics(service="payment_import")
tracer = Tracer(service="payment_import")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def importer() -> tuple[PaymentImport, Any, str]:
    load_settings.cache_clear()
    settings = load_settings()
    return payment_import(settings), client("s3"), settings.work_bucket


def handle_record(record: SQSRecord) -> None:
    objects = objects_named(record.body)
    if objects is None:
        raise ValueError("the message is no S3 event notification")
    for bucket, key in objects:
        if key.startswith(STATEMENT_PREFIX):
            import_file(bucket, key)


def import_file(bucket: str, key: str) -> ImportReport | None:
    use_case, s3, work_bucket = importer()
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    report_key = REPORTS_PREFIX + key.removeprefix(STATEMENT_PREFIX) + ".json"
    logger.append_keys(statement_key=key)
    try:
        statement = read_statement(data)
    except StatementError as error:
        logger.warning(
            "statement file refused", extra={"field": error.field, "reason": error.reason}
        )
        metrics.add_metric(name="StatementFilesRefused", unit=MetricUnit.Count, value=1)
        refusal = {"key": key, "error": {"field": error.field, "reason": error.reason}}
        s3.put_object(Bucket=work_bucket, Key=report_key, Body=json.dumps(refusal).encode())
        return None

    report = use_case.run(statement)
    s3.put_object(
        Bucket=work_bucket, Key=report_key, Body=report.model_dump_json(indent=1).encode()
    )
    _count(report)
    logger.info(
        "statement file imported",
        extra={"entries": report.entries, "matched": report.matched, "unmatched": report.unmatched},
    )
    return report


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
