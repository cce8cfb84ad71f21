"""The archive API's OpenAPI document states what the handler answers, and nothing it does not."""

from __future__ import annotations

import json
from typing import Any, get_args

from functions.archive_api.handler import openapi_json
from functions.archive_api.schema import DocumentType
from shared.archive import DOCUMENT_TYPES


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi_json())
    return document


def test_the_documented_document_types_are_the_archives() -> None:
    assert set(get_args(DocumentType)) == set(DOCUMENT_TYPES)


def test_no_route_promises_the_422_the_api_never_answers() -> None:
    document = _document()

    statuses = {
        status
        for operations in document["paths"].values()
        for operation in operations.values()
        for status in operation["responses"]
    }
    assert "422" not in statuses
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_every_signed_in_route_documents_its_refusals() -> None:
    for path, operations in _document()["paths"].items():
        for operation in operations.values():
            if operation.get("security"):
                assert {"400", "401", "403", "404", "500"} <= set(operation["responses"]), path


def test_the_pdf_route_documents_the_redirect_and_the_json_link() -> None:
    responses = _document()["paths"]["/documents/{number}/pdf"]["get"]["responses"]

    assert responses["302"]["headers"]["Location"]["schema"] == {"type": "string"}
    assert responses["302"]["content"] == {}
    assert "DownloadLink" in responses["200"]["content"]["application/json"]["schema"]["$ref"]
