"""What the archive API's OpenAPI document says of its answers, so that clients can rely on it.

The handler returns plain dictionaries; these models only describe them (the schemathesis test
checks every answer against this description). Every route states its refusals too, in the
one error shape, and the JWT authorizer's own 401 body.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.archive import DOCUMENT_TYPES

# shared.archive.DOCUMENT_TYPES, as a type (a unit test keeps the two equal).
DocumentType = Literal["invoice", "cancellation", "dunning", "order"]

NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
CUSTOMER_PATTERN = r"^C[0-9]{7,12}$"
LIMIT_PATTERN = r"^(100|[1-9][0-9]?)$"
CURSOR_PATTERN = r"^[A-Za-z0-9_=-]{0,2048}$"
_ONE_TYPE = "(" + "|".join(DOCUMENT_TYPES) + ")"
TYPES_PATTERN = "^" + _ONE_TYPE + "(," + _ONE_TYPE + ")*$"
AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Document(_Closed):
    number: str = Field(pattern=NUMBER_PATTERN)
    document_type: DocumentType
    issue_date: str = Field(json_schema_extra={"format": "date"})
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")
    gross: str = Field(pattern=AMOUNT_PATTERN, description="a decimal string, two places")
    pdf: str = Field(description="the PDF route of this document, with ?customer= for staff")
    xml: str = Field(description="the e-invoice route of this document")


class DocumentPage(_Closed):
    documents: list[Document]
    next_cursor: str | None = Field(description="give it as cursor for the next page")


class DownloadLink(_Closed):
    url: str = Field(description="a presigned URL; it answers the PDF as an attachment")
    expires_in: int = Field(description="seconds the URL stays valid")


class OpenItem(_Closed):
    item: str = Field(description="the invoice number, or the id of a fee")
    document_number: str | None
    kind: str = Field(description="what opened it: invoice, return_fee, dunning_fee, ...")
    opened_on: str = Field(json_schema_extra={"format": "date"})
    due_on: str | None = Field(json_schema_extra={"format": "date"})
    amount: str = Field(pattern=AMOUNT_PATTERN, description="what it was opened with")
    open: str = Field(pattern=AMOUNT_PATTERN, description="what is left to pay")
    status: Literal["open", "partially_paid", "returned"]
    return_reason: str | None = Field(description="why a debit came back (AC04, MD06, ...)")


class Account(_Closed):
    customer_id: str = Field(pattern=CUSTOMER_PATTERN)
    currency: Literal["EUR"]
    balance: str = Field(
        pattern=AMOUNT_PATTERN, description="what the customer owes; negative: what we owe them"
    )
    open_items: list[OpenItem]


class ErrorDetail(_Closed):
    code: Literal[
        "bad_request",
        "invalid_parameter",
        "not_signed_in",
        "forbidden",
        "not_found",
        "internal_error",
    ]
    message: str


class ErrorBody(_Closed):
    error: ErrorDetail


class GatewayRefusal(_Closed):
    """What API Gateway's JWT authorizer answers itself."""

    message: str


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def _unauthorized() -> OpenAPIResponse:
    schema = {
        "anyOf": [
            {"$ref": "#/components/schemas/ErrorBody"},
            {"$ref": "#/components/schemas/GatewayRefusal"},
        ]
    }
    return {
        "description": "no valid token (the authorizer), or one that names no customer",
        "content": {"application/json": {"schema": schema}},
    }


def refusals() -> dict[int, OpenAPIResponse]:
    """What every signed-in route may answer instead, in the one error shape."""
    return {
        400: _error("a parameter is invalid; the message names it"),
        401: _unauthorized(),
        403: _error("a customer token named a customer"),
        404: _error("no such document for this reader"),
        500: _error("an unexpected failure; the answer tells nothing of it"),
    }


def json_answer(model: type[BaseModel], description: str) -> dict[int, OpenAPIResponse]:
    return {200: {"description": description, "content": {"application/json": {"model": model}}}}


PDF_ANSWERS: dict[int, OpenAPIResponse] = {
    **json_answer(DownloadLink, "with Accept: application/json, the download URL itself"),
    302: {
        "description": "a redirect to a five-minute presigned URL of the PDF",
        "headers": {"Location": {"schema": {"type": "string"}}},
        "content": {},
    },
}
XML_ANSWERS: dict[int, OpenAPIResponse] = {
    200: {
        "description": "the EN 16931 e-invoice (CII)",
        "content": {"application/xml": {"schema": {"type": "string"}}},
    }
}
OPENAPI_ANSWERS: dict[int, OpenAPIResponse] = {
    200: {
        "description": "this document",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def without_validation_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Drop the 422 the resolver adds to every route: its validation errors answer 400 here."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    return document
