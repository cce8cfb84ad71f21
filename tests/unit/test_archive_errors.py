"""The archive API handler with in-memory stores: who may see what, and the one error shape."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from functions.archive_api.errors import (
    ArchiveApiError,
    DocumentNotFoundError,
    InvalidParameterError,
    NotSignedInError,
    answer_for,
)
from infra import spec
from localaws.http_api import IncomingRequest, build_event, match_route
from shared.archive import reader_from_claims
from shared.ports import DocumentPage, DocumentQuery, DocumentSummary
from tests.unit.ledger_fakes import MemoryLedger

ALICE = "C0000001"
BOB = "C0000002"


def _document(customer_id: str, number: str, issue_date: str) -> DocumentSummary:
    return DocumentSummary(
        customer_id=customer_id,
        number=number,
        document_type="invoice",
        issue_date=issue_date,
        period=issue_date[:7],
        gross=Decimal("11.90"),
        pdf_key=f"documents/x/{customer_id}/{number}.pdf",
    )


DOCUMENTS = [
    _document(ALICE, "RE-2026-00000001", "2026-01-01"),
    _document(BOB, "RE-2026-00000002", "2026-01-01"),
    _document(ALICE, "RE-2026-00000003", "2026-02-01"),
    _document(ALICE, "RE-2026-00000005", "2026-03-01"),
]


@dataclass
class FakeDocuments:
    documents: list[DocumentSummary]
    failure: Exception | None = None
    lookups: list[str] = field(default_factory=list)
    queries: list[DocumentQuery | None] = field(default_factory=list)

    def customer_documents(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None,
        query: DocumentQuery | None = None,
    ) -> DocumentPage:
        self.queries.append(query)
        if self.failure:
            raise self.failure
        mine = sorted(
            (d for d in self.documents if d.customer_id == customer_id),
            key=lambda d: d.issue_date,
            reverse=True,
        )
        start = int(cursor) if cursor else 0
        rest = mine[start : start + limit]
        more = start + limit < len(mine)
        return DocumentPage(tuple(rest), str(start + limit) if more else None)

    def find_by_number(self, number: str) -> DocumentSummary | None:
        self.lookups.append(number)
        return next((d for d in self.documents if d.number == number), None)


@dataclass
class FakeFiles:
    granted: list[tuple[str, int]] = field(default_factory=list)

    def download_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        self.granted.append((key, expires_in))
        return f"https://archive.example/{key}?expires={expires_in}"


@dataclass
class Context:
    function_name: str = spec.ARCHIVE_API.local_name
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-central-1:123456789012:function:archive"
    aws_request_id: str = "req-1"


@dataclass
class Api:
    module: ModuleType
    documents: FakeDocuments
    files: FakeFiles

    def call(self, target: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
        request = IncomingRequest(method="GET", target=target, headers=[("Host", "localhost")])
        match = match_route("GET", request.raw_path)
        assert match is not None
        event = build_event(
            request, match, {"sub": ALICE} if claims is None else claims, request_id="req-1"
        )
        answer: dict[str, Any] = self.module.handle(event, Context())
        return answer


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Billing")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    module = importlib.import_module("functions.archive_api.handler")
    documents, files = FakeDocuments(list(DOCUMENTS)), FakeFiles()
    archive = module.Archive(documents=documents, files=files, accounts=MemoryLedger())
    monkeypatch.setattr(module, "archive", lambda: archive)
    return Api(module, documents, files)


def _error(answer: dict[str, Any]) -> dict[str, str]:
    body = json.loads(answer["body"])
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    error: dict[str, str] = body["error"]
    return error


# --- the mapping ---


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (NotSignedInError("sign in"), 401, "not_signed_in", "sign in"),
        (InvalidParameterError("limit", "too big"), 400, "invalid_parameter", "limit: too big"),
        (DocumentNotFoundError("none here"), 404, "not_found", "none here"),
        (ArchiveApiError("refused"), 400, "bad_request", "refused"),
    ],
)
def test_each_error_type_has_its_status_code_and_message(
    error: ArchiveApiError, status: int, code: str, message: str
):
    response = answer_for(error)

    assert response.status_code == status
    assert response.body == {"error": {"code": code, "message": message}}


def test_a_subclass_is_answered_like_its_parent():
    class ArchivedElsewhereError(DocumentNotFoundError):
        pass

    assert answer_for(ArchivedElsewhereError("gone")).status_code == 404


def test_the_handler_reads_the_claim_the_authorizer_is_configured_for(api: Api):
    assert api.module.CUSTOMER_CLAIM == spec.JWT_CUSTOMER_CLAIM
    assert api.module.ROLE_CLAIM == spec.JWT_ROLE_CLAIM


# --- the handler ---


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({}, id="no claims"),
        pytest.param({"billing_role": "customer"}, id="no sub"),
        pytest.param({"sub": "admin"}, id="not a customer id"),
        pytest.param({"sub": "C0000001#DOC"}, id="key injection"),
    ],
)
def test_without_a_customer_claim_the_answer_is_401(api: Api, claims: dict[str, Any]):
    answer = api.call("/documents", claims)

    assert answer["statusCode"] == 401
    assert _error(answer)["code"] == "not_signed_in"
    assert api.documents.lookups == []


def test_the_list_holds_only_the_signed_in_customers_documents_newest_first(api: Api):
    answer = api.call("/documents?limit=2")

    body = json.loads(answer["body"])
    assert answer["statusCode"] == 200
    assert [doc["number"] for doc in body["documents"]] == ["RE-2026-00000005", "RE-2026-00000003"]
    assert body["documents"][0] == {
        "number": "RE-2026-00000005",
        "document_type": "invoice",
        "issue_date": "2026-03-01",
        "period": "2026-03",
        "gross": "11.90",
        "pdf": "/documents/RE-2026-00000005/pdf",
        "xml": "/documents/RE-2026-00000005/xml",
    }
    assert body["next_cursor"] == "2"


def test_the_cursor_reaches_the_store_unchanged(api: Api):
    body = json.loads(api.call("/documents?limit=2&cursor=2")["body"])

    assert [doc["number"] for doc in body["documents"]] == ["RE-2026-00000001"]
    assert body["next_cursor"] is None


def test_a_cursor_the_store_refuses_is_a_400_naming_the_cursor(api: Api):
    api.documents.failure = ValueError("cursor is not one this API handed out")

    answer = api.call("/documents?cursor=abc")

    assert answer["statusCode"] == 400
    assert _error(answer)["message"].startswith("cursor:")


def test_the_pdf_of_an_own_document_is_a_redirect_to_a_five_minute_url(api: Api):
    answer = api.call("/documents/RE-2026-00000003/pdf")

    assert answer["statusCode"] == 302
    key = f"documents/x/{ALICE}/RE-2026-00000003.pdf"
    assert answer["headers"]["Location"] == f"https://archive.example/{key}?expires=300"
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert api.files.granted == [(key, 300)]


def test_another_customers_pdf_answers_like_a_missing_number(api: Api):
    foreign = api.call("/documents/RE-2026-00000002/pdf")
    missing = api.call("/documents/RE-2026-00000099/pdf")

    assert foreign["statusCode"] == missing["statusCode"] == 404
    assert foreign["body"] == missing["body"]
    assert "Location" not in (foreign.get("headers") or {})
    assert api.files.granted == []


def test_a_number_of_impossible_shape_is_not_looked_up(api: Api):
    answer = api.call("/documents/%2E%2E%3Bx/pdf")

    assert answer["statusCode"] == 404
    assert api.documents.lookups == []


def test_an_unexpected_failure_is_a_500_that_tells_nothing_inside(api: Api):
    api.documents.failure = RuntimeError("table billing-documents is on fire")

    answer = api.call("/documents")

    assert answer["statusCode"] == 500
    assert _error(answer) == {
        "code": "internal_error",
        "message": "the request could not be served",
    }
    assert "fire" not in answer["body"]


# --- staff ---

STAFF = {"sub": "anna.schmidt", "billing_role": "staff"}


@pytest.fixture
def log_lines(api: Api) -> Iterator[list[dict[str, Any]]]:
    """The archive API's JSON log lines of one test."""
    handler = api.module.logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    lines: list[dict[str, Any]] = []
    yield lines
    handler.setStream(previous)


def _read_lines(api: Api, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    buffer = api.module.logger.registered_handler.stream
    lines.extend(json.loads(line) for line in buffer.getvalue().splitlines() if line.strip())
    return lines


def test_staff_list_the_customer_they_name(api: Api):
    answer = api.call(f"/documents?customer={BOB}", STAFF)

    assert answer["statusCode"] == 200
    assert [doc["number"] for doc in json.loads(answer["body"])["documents"]] == [
        "RE-2026-00000002"
    ]


def test_every_staff_read_is_logged_with_staff_customer_and_what(
    api: Api, log_lines: list[dict[str, Any]]
):
    api.call(f"/documents?customer={BOB}", STAFF)
    api.call(f"/documents/RE-2026-00000002/pdf?customer={BOB}", STAFF)

    reads = [line for line in _read_lines(api, log_lines) if line["message"] == "staff read"]
    assert [(line["staff_id"], line["customer_id"], line["what"]) for line in reads] == [
        ("anna.schmidt", BOB, "GET /documents"),
        ("anna.schmidt", BOB, "GET /documents/{number}/pdf"),
    ]
    assert reads[1]["path"] == "/documents/RE-2026-00000002/pdf"
    assert reads[0]["level"] == "INFO"


def test_a_customers_own_read_is_no_staff_read(api: Api, log_lines: list[dict[str, Any]]):
    api.call("/documents")

    assert not [line for line in _read_lines(api, log_lines) if "staff_id" in line]


def test_staff_read_a_document_only_under_its_customer(api: Api):
    own = api.call(f"/documents/RE-2026-00000002?customer={BOB}", STAFF)
    elsewhere = api.call(f"/documents/RE-2026-00000002?customer={ALICE}", STAFF)

    assert own["statusCode"] == 200
    assert elsewhere["statusCode"] == 404


@pytest.mark.parametrize("target", ["/documents", "/documents?customer=bob", "/documents/X-1"])
def test_staff_without_a_valid_customer_get_a_400(api: Api, target: str):
    answer = api.call(target, STAFF)

    assert answer["statusCode"] == 400
    assert _error(answer)["message"].startswith("customer:")
    assert api.documents.lookups == []


@pytest.mark.parametrize(
    "target",
    [
        f"/documents?customer={BOB}",
        f"/documents?customer={ALICE}",
        "/documents?customer=C9999999",
        "/documents?customer=",
        f"/documents/RE-2026-00000002?customer={BOB}",
        f"/documents/RE-2026-00000002/pdf?customer={BOB}",
        f"/documents/RE-2026-00000002/xml?customer={BOB}",
        f"/documents/RE-2026-00000099/xml?customer={BOB}",
    ],
)
def test_a_customer_naming_a_customer_is_refused_alike_whoever_it_is(api: Api, target: str):
    answer = api.call(target, {"sub": ALICE, "billing_role": "customer"})

    assert answer["statusCode"] == 403
    assert _error(answer) == {
        "code": "forbidden",
        "message": "customers read only their own documents",
    }
    assert api.documents.lookups == []
    assert api.documents.queries == []
    assert api.files.granted == []


def test_a_staff_role_claim_on_a_customer_id_is_still_staff_only_with_the_role():
    claims = {"sub": ALICE, "billing_role": "Staff"}
    reader = reader_from_claims(claims, subject_claim="sub", role_claim="billing_role")

    assert reader is not None
    assert not reader.staff


# --- the OpenAPI document ---


def test_the_openapi_document_is_served_without_claims(api: Api):
    request = IncomingRequest(method="GET", target="/openapi.json")
    match = match_route("GET", request.raw_path)
    assert match is not None
    event = build_event(request, match, None, request_id="req-1")

    answer = api.module.handle(event, Context())

    assert answer["statusCode"] == 200
    document = json.loads(answer["body"])
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["customerJwt"]["scheme"] == "bearer"


def test_every_archive_route_of_the_spec_is_in_the_openapi_document(api: Api):
    paths = json.loads(api.module.openapi_json())["paths"]

    for route in spec.ROUTES:
        if route.api == "archive":
            assert route.method.lower() in paths.get(route.path, {}), route.path
            needs_jwt = bool(paths[route.path][route.method.lower()].get("security"))
            assert needs_jwt == route.authorized, route.path


def test_the_openapi_document_names_the_query_parameters(api: Api):
    paths = json.loads(api.module.openapi_json())["paths"]

    listed = {parameter["name"] for parameter in paths["/documents"]["get"]["parameters"]}
    one = {parameter["name"] for parameter in paths["/documents/{number}/xml"]["get"]["parameters"]}

    assert listed == {"customer", "type", "from", "to", "limit", "cursor"}
    assert one == {"number", "customer"}
