"""Wires the correction use case for the CLI from resource names."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from infra import spec
from shared.invoicing.corrections import Cancelled, CorrectionError, CorrectionService
from shared.storage.dynamodb import DynamoDocuments, DynamoNumberRanges
from shared.storage.s3 import S3Archive
from shared.wiring import client


def cancel_invoice(resources: dict[str, str], *, number: str, reason: str) -> Cancelled:
    settings = spec.default_settings() | {
        key: value for key, value in os.environ.items() if key.startswith("BILLING_")
    }
    dynamodb = client("dynamodb")
    service = CorrectionService(
        documents=DynamoDocuments(dynamodb, resources[spec.DOCUMENTS.env_var]),
        ranges=DynamoNumberRanges(dynamodb, resources[spec.CONTROL.env_var]),
        archive=S3Archive(client("s3"), resources[spec.ARCHIVE.env_var]),
        credit_prefix=settings["BILLING_CREDIT_NOTE_PREFIX"],
        retention_years=int(settings["BILLING_RETENTION_YEARS"]),
    )
    try:
        return service.cancel(number, reason=reason, today=datetime.now(UTC).date())
    except CorrectionError as error:
        raise ValueError(str(error)) from error
