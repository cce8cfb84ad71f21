"""Lambda entry point of the archive API: a signed-in customer's documents and their PDFs.

The customer id comes only from the claims the API Gateway JWT authorizer verified; nothing in
path or query can name another customer. Another customer's document answers exactly like a
number that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError, ParamValidationError

from functions.archive_api import errors
from functions.archive_api.errors import (
    DocumentNotFoundError,
    InvalidParameterError,
    NotSignedInError,
)
from shared.ports import DocumentArchive, DocumentPage, DocumentStore, DocumentSummary
from shared.settings import load_settings
from shared.wiring import document_archive, documents_store

# infra.spec.JWT_CUSTOMER_CLAIM; infra is not part of the function bundle.
CUSTOMER_CLAIM = "sub"
DOWNLOAD_URL_SECONDS = 300
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_CUSTOMER_ID = re.compile(r"C[0-9]{7,12}")
_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_PAGE_SIZE = re.compile(r"[0-9]{1,3}")
_CURSOR = re.compile(r"[A-Za-z0-9_=-]{1,2048}")

logger = Logger(service="archive_api")
metrics = Metrics(service="archive_api")
tracer = Tracer(service="archive_api")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})

app = APIGatewayHttpResolver()
errors.register(app)


@dataclass(frozen=True)
class Archive:
    documents: DocumentStore
    files: DocumentArchive


@cache
def archive() -> Archive:
    load_settings.cache_clear()
    settings = load_settings()
    return Archive(documents=documents_store(settings), files=document_archive(settings))


@app.get("/documents")
def list_documents() -> dict[str, Any]:
    customer_id = signed_in_customer()
    limit = page_size(app.current_event.get_query_string_value("limit"))
    cursor = page_cursor(app.current_event.get_query_string_value("cursor"))

    page = _documents_page(customer_id, limit, cursor)

    logger.info("documents listed", extra={"documents": len(page.documents)})
    metrics.add_metric(name="DocumentListings", unit=MetricUnit.Count, value=1)
    return {
        "documents": [_listed(document) for document in page.documents],
        "next_cursor": page.cursor,
    }


@app.get("/documents/<number>/pdf")
def document_pdf(number: str) -> Response[str]:
    customer_id = signed_in_customer()
    document = _own_document(customer_id, number)
    url = archive().files.download_url(document.pdf_key, expires_in=DOWNLOAD_URL_SECONDS)

    logger.info("document download granted")
    metrics.add_metric(name="DocumentDownloads", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.FOUND.value,
        headers={"Location": url, "Cache-Control": "no-store"},
        body="",
    )


@logger.inject_lambda_context(
    clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_HTTP
)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = app.resolve(event, context)
    if answer["statusCode"] >= HTTPStatus.BAD_REQUEST:
        metrics.add_metric(name="ArchiveRequestsRefused", unit=MetricUnit.Count, value=1)
    return answer


def signed_in_customer() -> str:
    """The customer id from the verified JWT claims, added to every later log line."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    customer_id = claims.get(CUSTOMER_CLAIM)
    if not isinstance(customer_id, str) or not _CUSTOMER_ID.fullmatch(customer_id):
        logger.warning("request without a verified customer id")
        raise NotSignedInError("sign in as a customer to read documents")

    logger.append_keys(customer_id=customer_id)
    return customer_id


def page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not _PAGE_SIZE.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidParameterError("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def page_cursor(raw: str | None) -> str | None:
    if not raw:
        return None
    if not _CURSOR.fullmatch(raw):
        raise InvalidParameterError("cursor", "is not one this API handed out")
    return raw


def _documents_page(customer_id: str, limit: int, cursor: str | None) -> DocumentPage:
    store = archive().documents
    if cursor is None:
        return store.customer_documents(customer_id, limit=limit, cursor=None)
    try:
        return store.customer_documents(customer_id, limit=limit, cursor=cursor)
    except (ValueError, ParamValidationError) as error:
        raise InvalidParameterError("cursor", "is not one this API handed out") from error
    except ClientError as error:
        # DynamoDB refuses a start key outside the customer's partition.
        if error.response.get("Error", {}).get("Code") != "ValidationException":
            raise
        raise InvalidParameterError("cursor", "is not one this API handed out") from error


def _own_document(customer_id: str, number: str) -> DocumentSummary:
    document = None
    if _DOCUMENT_NUMBER.fullmatch(number):
        logger.append_keys(invoice_number=number)
        document = archive().documents.find_by_number(number)

    if document is not None and document.customer_id != customer_id:
        logger.warning("document of another customer requested")
        metrics.add_metric(name="ForeignDocumentRequests", unit=MetricUnit.Count, value=1)
        document = None
    if document is None:
        raise DocumentNotFoundError("no document with this number")
    return document


def _listed(document: DocumentSummary) -> dict[str, str]:
    return {
        "number": document.number,
        "document_type": document.document_type,
        "issue_date": document.issue_date,
        "period": document.period,
        "gross": str(document.gross),
        "pdf": f"/documents/{document.number}/pdf",
    }
