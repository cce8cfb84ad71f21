"""Builds the use cases from settings and boto3 clients: the one place that knows both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from shared.settings import Settings
from shared.storage.dynamodb import DynamoContracts, DynamoDocuments, DynamoNumberRanges, DynamoRuns
from shared.storage.s3 import S3Archive, S3WorkStore

if TYPE_CHECKING:
    from shared.invoicing.service import InvoiceRunService

_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=32)


def client(service: str) -> Any:
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def documents_store(settings: Settings, dynamodb: Any | None = None) -> DynamoDocuments:
    return DynamoDocuments(dynamodb or client("dynamodb"), settings.documents_table)


def document_archive(settings: Settings, s3: Any | None = None) -> S3Archive:
    return S3Archive(s3 or client("s3"), settings.archive_bucket)


def invoice_run_service(settings: Settings) -> InvoiceRunService:
    from shared.invoicing.service import InvoiceRunService, RunPolicy  # keeps fpdf out of others

    dynamodb = client("dynamodb")
    s3 = client("s3")
    return InvoiceRunService(
        contracts=DynamoContracts(dynamodb, settings.contracts_table),
        ranges=DynamoNumberRanges(dynamodb, settings.control_table),
        documents=documents_store(settings, dynamodb),
        archive=S3Archive(s3, settings.archive_bucket),
        runs=DynamoRuns(dynamodb, settings.control_table),
        work=S3WorkStore(s3, settings.work_bucket),
        policy=RunPolicy(
            seller=settings.seller,
            invoice_prefix=settings.invoice_prefix,
            payment_term_days=settings.payment_term_days,
            retention_years=settings.retention_years,
            shard_count=settings.shard_count,
        ),
    )
