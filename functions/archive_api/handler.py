"""Lambda entry point of the archive API: a signed-in customer's documents, PDFs and XML, and
their account (balance and open items).

The customer id comes only from the claims the API Gateway JWT authorizer verified; a customer
cannot name another customer anywhere in path or query. Staff name the customer in the
``customer`` query parameter, and every staff read is logged. Another customer's document
answers exactly like a number that does not exist.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError, ParamValidationError

from functions.archive_api import errors, schema
from functions.archive_api.errors import (
    DocumentNotFoundError,
    InvalidParameterError,
    NotSignedInError,
)
from shared.accounts.model import Account, OpenItem
from shared.accounts.ports import Ledger
from shared.archive import (
    ArchiveRequestError,
    customer_to_read,
    document_query,
    einvoice_xml,
    reader_from_claims,
)
from shared.ports import (
    DocumentArchive,
    DocumentPage,
    DocumentQuery,
    DocumentStore,
    DocumentSummary,
)
from shared.settings import load_settings
from shared.wiring import document_archive, documents_store, ledger

# infra.spec.JWT_CUSTOMER_CLAIM; infra is not part of the function bundle.
CUSTOMER_CLAIM = "sub"
ROLE_CLAIM = "billing_role"
DOWNLOAD_URL_SECONDS = 300
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_PAGE_SIZE = re.compile(r"[0-9]{1,3}")
_CURSOR = re.compile(r"[A-Za-z0-9_=-]{1,2048}")

logger = Logger(service="archive_api")
metrics = Metrics(service="archive_api")
tracer = Tracer(service="archive_api")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})

app = APIGatewayHttpResolver(enable_validation=True)
errors.register(app)

API_TITLE = "Billing document archive"
API_VERSION = "1"
SECURITY_SCHEME = "customerJwt"
# Staff only: the customer whose documents a staff token reads.
StaffCustomer = Annotated[
    str | None,
    Query(
        description="staff only: the customer id to read",
        json_schema_extra={"pattern": schema.CUSTOMER_PATTERN},
    ),
]
# The path parameter as documented; a number of another shape answers like a missing one.
DocumentNumber = Annotated[str, Path(json_schema_extra={"pattern": schema.NUMBER_PATTERN})]
_SIGNED_IN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
_TYPES_RULE = schema.TYPES_PATTERN
_CURSOR_RULE = schema.CURSOR_PATTERN


@dataclass(frozen=True)
class Archive:
    documents: DocumentStore
    files: DocumentArchive
    accounts: Ledger


@cache
def archive() -> Archive:
    load_settings.cache_clear()
    settings = load_settings()
    return Archive(
        documents=documents_store(settings),
        files=document_archive(settings),
        accounts=ledger(settings),
    )


def _documented(description: str, alias: str | None = None, **rules: str) -> Any:
    """A query parameter whose ``rules`` (JSON schema keywords) the handler checks itself, with
    its own messages; the resolver's validation would answer with its own."""
    return Query(alias=alias, description=description, json_schema_extra=dict(rules))


@app.get(
    "/documents",
    summary="the signed-in customer's documents, newest first",
    security=_SIGNED_IN,
    responses=schema.json_answer(schema.DocumentPage, "one page") | schema.refusals(),
)
def list_documents(
    customer: StaffCustomer = None,
    document_types: Annotated[
        str | None,
        _documented("comma-separated: invoice, cancellation, ...", "type", pattern=_TYPES_RULE),
    ] = None,
    issued_from: Annotated[str | None, _documented("YYYY-MM-DD", "from", format="date")] = None,
    issued_to: Annotated[str | None, _documented("YYYY-MM-DD", "to", format="date")] = None,
    limit: Annotated[
        str | None, _documented("1 to 100, default 20", pattern=schema.LIMIT_PATTERN)
    ] = None,
    cursor: Annotated[
        str | None,
        _documented("next_cursor of the page before; empty: the first", pattern=_CURSOR_RULE),
    ] = None,
) -> dict[str, Any]:
    customer_id = reading_customer(customer)
    page_limit = page_size(limit)
    start = page_cursor(cursor)
    query = document_query(document_types, issued_from, issued_to)

    page = _documents_page(customer_id, page_limit, start, query)

    logger.info("documents listed", extra={"documents": len(page.documents)})
    metrics.add_metric(name="DocumentListings", unit=MetricUnit.Count, value=1)
    return {
        "documents": [_listed(document, staff_reads=customer) for document in page.documents],
        "next_cursor": page.cursor,
    }


@app.get(
    "/documents/<number>",
    summary="one document's metadata",
    security=_SIGNED_IN,
    responses=schema.json_answer(schema.Document, "the document") | schema.refusals(),
)
def document_metadata(number: DocumentNumber, customer: StaffCustomer = None) -> dict[str, str]:
    document = _own_document(reading_customer(customer), number)

    logger.info("document read")
    metrics.add_metric(name="DocumentReads", unit=MetricUnit.Count, value=1)
    return _listed(document, staff_reads=customer)


@app.get(
    "/documents/<number>/xml",
    summary="the document's e-invoice XML",
    security=_SIGNED_IN,
    responses=schema.XML_ANSWERS | schema.refusals(),
)
def document_xml(number: DocumentNumber, customer: StaffCustomer = None) -> Response[str]:
    document = _own_document(reading_customer(customer), number)
    xml = einvoice_xml(archive().files, document.pdf_key)
    if xml is None:
        logger.warning("document without an e-invoice")
        raise DocumentNotFoundError("no e-invoice for this document")

    logger.info("e-invoice read", extra={"bytes": len(xml)})
    metrics.add_metric(name="EInvoiceDownloads", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type="application/xml",
        headers={
            "Content-Disposition": 'attachment; filename="' + document.number + '.xml"',
            "Cache-Control": "no-store",
        },
        body=xml.decode("utf-8"),
    )


@app.get(
    "/documents/<number>/pdf",
    summary="a redirect to a five-minute download URL of the PDF",
    description=(
        "With `Accept: application/json` the answer is the URL itself (200), for a page "
        "whose script cannot read a redirect's target."
    ),
    security=_SIGNED_IN,
    responses=schema.PDF_ANSWERS | schema.refusals(),
)
def document_pdf(number: DocumentNumber, customer: StaffCustomer = None) -> Response[Any]:
    document = _own_document(reading_customer(customer), number)
    url = archive().files.download_url(
        document.pdf_key, expires_in=DOWNLOAD_URL_SECONDS, filename=document.number + ".pdf"
    )

    logger.info("document download granted")
    metrics.add_metric(name="DocumentDownloads", unit=MetricUnit.Count, value=1)
    if _wants_json():
        return Response(
            status_code=HTTPStatus.OK.value,
            content_type=content_types.APPLICATION_JSON,
            headers={"Cache-Control": "no-store"},
            body={"url": url, "expires_in": DOWNLOAD_URL_SECONDS},
        )
    return Response(
        status_code=HTTPStatus.FOUND.value,
        headers={"Location": url, "Cache-Control": "no-store"},
        body="",
    )


@app.get(
    "/account",
    summary="the signed-in customer's balance and open items (amounts as decimal strings)",
    security=_SIGNED_IN,
    responses=schema.json_answer(schema.Account, "balance and open items") | schema.refusals(),
)
def customer_account(customer: StaffCustomer = None) -> dict[str, Any]:
    account = archive().accounts.account(reading_customer(customer))

    logger.info("account read", extra={"open_items": len(account.open_items())})
    metrics.add_metric(name="AccountReads", unit=MetricUnit.Count, value=1)
    return account_body(account)


def account_body(account: Account) -> dict[str, Any]:
    """Balance: what the customer owes (negative when we owe them); open items oldest first."""
    return {
        "customer_id": account.customer_id,
        "currency": "EUR",
        "balance": str(account.balance),
        "open_items": [_open_item(item) for item in account.open_items()],
    }


def _open_item(item: OpenItem) -> dict[str, str | None]:
    return {
        "item": item.item,
        "document_number": item.document_number,
        "kind": item.kind,
        "opened_on": item.opened_on.isoformat(),
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "amount": str(item.amount),
        "open": str(item.open),
        "status": item.status,
        "return_reason": item.return_reason,
    }


def _wants_json() -> bool:
    accepted = app.current_event.headers.get("accept") or ""
    return any(
        part.split(";")[0].strip().lower() == content_types.APPLICATION_JSON
        for part in accepted.split(",")
    )


@app.get(
    "/openapi.json",
    summary="this document",
    include_in_schema=True,
    responses=schema.OPENAPI_ANSWERS,
)
def openapi_document() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=content_types.APPLICATION_JSON,
        headers={"Cache-Control": "max-age=300"},
        body=openapi_json(),
    )


@cache
def openapi_json() -> str:
    """The OpenAPI 3.1 document of the routes above, built once per process."""
    document = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            description="A customer's invoices, credit notes and their e-invoices.",
            security_schemes={SECURITY_SCHEME: HTTPBearer(bearerFormat="JWT")},
        )
    )
    return json.dumps(schema.without_validation_answers(document), separators=(",", ":"))


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


def reading_customer(requested: str | None) -> str:
    """Whose documents the request reads, from the verified claims; added to later log lines.

    A customer reads their own; staff name the customer, and their read is logged.
    """
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    reader = reader_from_claims(claims, subject_claim=CUSTOMER_CLAIM, role_claim=ROLE_CLAIM)
    if reader is None:
        logger.warning("request without a verified customer id")
        raise NotSignedInError("sign in as a customer to read documents")

    try:
        customer_id = customer_to_read(reader, requested)
    except ArchiveRequestError:
        logger.warning("customer parameter refused", extra={"staff": reader.staff})
        raise

    logger.append_keys(customer_id=customer_id)
    if reader.staff:
        logger.append_keys(staff_id=reader.subject)
        logger.info(
            "staff read",
            extra={
                "what": app.current_event.route_key,
                "path": app.current_event.raw_path,
            },
        )
        metrics.add_metric(name="StaffReads", unit=MetricUnit.Count, value=1)
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


def _documents_page(
    customer_id: str, limit: int, cursor: str | None, query: DocumentQuery
) -> DocumentPage:
    store = archive().documents
    if cursor is None:
        return store.customer_documents(customer_id, limit=limit, cursor=None, query=query)
    try:
        return store.customer_documents(customer_id, limit=limit, cursor=cursor, query=query)
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


def _listed(document: DocumentSummary, *, staff_reads: str | None) -> dict[str, str]:
    """The document as listed; ``staff_reads`` (the staff's customer parameter) goes into its
    links, which a staff token could not follow without it."""
    query = "" if staff_reads is None else "?" + urlencode({"customer": staff_reads})
    return {
        "number": document.number,
        "document_type": document.document_type,
        "issue_date": document.issue_date,
        "period": document.period,
        "gross": str(document.gross),
        "pdf": f"/documents/{document.number}/pdf{query}",
        "xml": f"/documents/{document.number}/xml{query}",
    }
