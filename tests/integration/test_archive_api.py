"""The archive API over real HTTP: local front end, Lambda Invoke in moto, the real handler.

Presigned URLs point at S3's public host name; in process, moto serves requests to that host
through its patch of ``requests``, so the test fetches the redirect target exactly as a browser
would, without a network.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from botocore.client import BaseClient

from cli.seed import archive_customer, monthly_invoice
from localaws.embedded import client_factory, in_process
from localaws.http_api import LocalHttpApi, LocalIssuer, serve
from shared.invoicing.documents import xml_key
from shared.invoicing.model import Correction
from shared.invoicing.pdf import Attachment, render_invoice
from shared.invoicing.service import document_key
from shared.periods import Period
from shared.settings import Settings
from shared.wiring import document_archive, documents_store
from tests.integration.conftest import LOCALSTACK_CANNOT

ALICE = "C0000001"
BOB = "C0000002"
TIMEOUT = 30


@dataclass(frozen=True)
class Archive:
    url: str
    issuer: LocalIssuer
    numbers: dict[str, list[str]]
    pdfs: dict[str, bytes]
    xml: dict[str, bytes]

    def get(self, path: str, token: str | None, **params: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(
            self.url + path, headers=headers, params=params, allow_redirects=False, timeout=TIMEOUT
        )

    def as_customer(self, customer_id: str) -> str:
        return self.issuer.token(customer_id)


Seeded = tuple[dict[str, list[str]], dict[str, bytes], dict[str, bytes]]


def _seed(settings: Settings) -> Seeded:
    """Alice gets three monthly invoices, Bob two and a cancellation, numbers interleaved.

    Alice's first e-invoice lies beside its PDF as XML of its own, her second is embedded in a
    real PDF/A-3, her third PDF carries none.
    """
    store = documents_store(settings)
    archive = document_archive(settings)
    retain = datetime(2040, 1, 1, tzinfo=UTC)
    plan = [(ALICE, 1), (BOB, 1), (ALICE, 2), (BOB, 2), (ALICE, 3)]
    numbers: dict[str, list[str]] = {ALICE: [], BOB: []}
    pdfs: dict[str, bytes] = {}
    xml: dict[str, bytes] = {}
    for sequence, (customer_id, month) in enumerate(plan, start=1):
        customer = archive_customer(customer_id, f"Kunde {customer_id}")
        number = f"RE-2026-{sequence:08d}"
        invoice = monthly_invoice(customer, number, Period(2026, month), settings.seller)
        key = document_key(customer_id, number)
        pdfs[number] = f"%PDF-1.7 {number} {customer_id}".encode()
        if sequence == 1:
            xml[number] = f"<Invoice>{number}</Invoice>".encode()
            assert archive.store_xml(xml_key(key), xml[number], retain_until=retain)
        if sequence == 3:
            xml[number] = f"<rsm:CrossIndustryInvoice>{number}</rsm:CrossIndustryInvoice>".encode()
            attachment = Attachment("factur-x.xml", xml[number], "EN 16931")
            pdfs[number] = render_invoice(invoice, attachment)
        assert archive.store_pdf(key, pdfs[number], retain_until=retain)
        assert store.issue_invoice(invoice, shard=customer.shard, pdf_key=key)
        numbers[customer_id].append(number)

    cancelled = monthly_invoice(
        archive_customer(BOB, f"Kunde {BOB}"), "ST-2026-00000001", Period(2026, 2), settings.seller
    )
    correction = Correction(
        refers_to="RE-2026-00000004", refers_to_date=cancelled.issue_date, reason="cancelled"
    )
    cancellation = cancelled.model_copy(
        update={"document_type": "cancellation", "correction": correction}
    )
    key = document_key(BOB, cancellation.number)
    assert archive.store_pdf(key, b"%PDF-1.7 cancellation", retain_until=retain)
    assert store.issue_correction(cancellation, pdf_key=key)
    numbers[BOB].append(cancellation.number)
    return numbers, pdfs, xml


@pytest.fixture(scope="module")
def archive_api() -> Iterator[Archive]:
    yield from served_archive()


def served_archive() -> Iterator[Archive]:
    """The seeded archive behind the local front end, for one module's tests."""
    if os.environ.get("BILLING_TEST_TARGET") == "localstack":
        pytest.skip(LOCALSTACK_CANNOT)
    with in_process() as _stack:
        numbers, pdfs, xml = _seed(Settings())
        issuer = LocalIssuer.generate()
        server: LocalHttpApi = serve(0, lambda: client_factory()("lambda"), issuer)
        try:
            yield Archive(server.url, issuer, numbers, pdfs, xml)
        finally:
            server.shutdown()


def test_a_customer_pages_through_exactly_their_documents_newest_first(archive_api: Archive):
    token = archive_api.as_customer(ALICE)

    first = archive_api.get("/documents", token, limit="2")
    assert first.status_code == 200
    first_page = first.json()
    second = archive_api.get("/documents", token, limit="2", cursor=first_page["next_cursor"])
    assert second.status_code == 200
    second_page = second.json()

    listed = [doc["number"] for doc in first_page["documents"] + second_page["documents"]]
    assert len(first_page["documents"]) == 2
    assert first_page["next_cursor"]
    assert second_page["next_cursor"] is None
    assert listed == list(reversed(archive_api.numbers[ALICE]))
    issue_dates = [doc["issue_date"] for doc in first_page["documents"] + second_page["documents"]]
    assert issue_dates == sorted(issue_dates, reverse=True)


def test_the_default_page_lists_every_document_with_its_amount(archive_api: Archive):
    answer = archive_api.get("/documents", archive_api.as_customer(BOB))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    documents = answer.json()["documents"]
    assert [doc["number"] for doc in documents] == list(reversed(archive_api.numbers[BOB]))
    assert {doc["gross"] for doc in documents} == {"5.94"}
    assert [doc["document_type"] for doc in documents] == ["cancellation", "invoice", "invoice"]
    assert documents[0]["pdf"] == f"/documents/{documents[0]['number']}/pdf"


def test_the_pdf_link_redirects_to_a_url_that_serves_the_archived_pdf(archive_api: Archive):
    number = archive_api.numbers[ALICE][0]

    answer = archive_api.get(f"/documents/{number}/pdf", archive_api.as_customer(ALICE))

    assert answer.status_code == 302
    location = answer.headers["location"]
    assert "X-Amz-Signature=" in location
    assert "X-Amz-Expires=300" in location
    download = requests.get(location, timeout=TIMEOUT)
    assert download.status_code == 200
    assert download.content == archive_api.pdfs[number]


def test_another_customers_document_is_indistinguishable_from_a_missing_one(
    archive_api: Archive,
):
    token = archive_api.as_customer(ALICE)
    bobs_number = archive_api.numbers[BOB][0]

    foreign = archive_api.get(f"/documents/{bobs_number}/pdf", token)
    missing = archive_api.get("/documents/RE-2026-99999999/pdf", token)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert "location" not in foreign.headers
    assert foreign.json() == {
        "error": {"code": "not_found", "message": "no document with this number"}
    }
    assert bobs_number not in foreign.text
    assert BOB not in foreign.text


def test_a_token_with_a_changed_subject_is_refused_before_the_function(archive_api: Archive):
    header, payload, signature = archive_api.as_customer(ALICE).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = BOB
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{header}.{forged_payload}.{signature}"

    answer = archive_api.get("/documents", forged)

    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert answer.headers["apigw-requestid"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="no token"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(LocalIssuer.generate().token(ALICE), id="other issuer key"),
    ],
)
def test_requests_without_a_valid_token_get_api_gateways_401(
    archive_api: Archive, token: str | None
):
    answer = archive_api.get(f"/documents/{archive_api.numbers[ALICE][0]}/pdf", token)

    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}


def test_an_expired_token_is_refused(archive_api: Archive):
    expired = archive_api.issuer.token(ALICE, expires_in=-60)

    answer = archive_api.get("/documents", expired)

    assert answer.status_code == 401
    assert "the token has expired" in answer.headers["www-authenticate"]


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", ""])
def test_a_bad_limit_is_a_400_naming_the_field(archive_api: Archive, limit: str):
    answer = archive_api.get("/documents", archive_api.as_customer(ALICE), limit=limit)

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith("limit:")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("%%%", id="not base64"),
        pytest.param(base64.urlsafe_b64encode(b"[1, 2]").decode(), id="not a key"),
        pytest.param(
            base64.urlsafe_b64encode(b'{"pk": 1, "sk": 2}').decode(), id="not attribute values"
        ),
    ],
)
def test_a_cursor_the_api_did_not_hand_out_is_a_400(archive_api: Archive, cursor: str):
    answer = archive_api.get("/documents", archive_api.as_customer(ALICE), cursor=cursor)

    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("cursor:")


def test_a_cursor_into_another_customers_partition_reveals_nothing(archive_api: Archive):
    bobs_first = archive_api.get("/documents", archive_api.as_customer(BOB), limit="1")
    bobs_cursor = bobs_first.json()["next_cursor"]

    answer = archive_api.get("/documents", archive_api.as_customer(ALICE), cursor=bobs_cursor)

    assert answer.status_code in {200, 400}
    assert not set(archive_api.numbers[BOB]) & {
        doc["number"] for doc in answer.json().get("documents", [])
    }


def test_unknown_routes_get_api_gateways_404(archive_api: Archive):
    token = archive_api.as_customer(ALICE)

    number = archive_api.numbers[ALICE][0]
    for path in ("/documents/", "/invoices", f"/documents/{number}/json", "/documents//pdf"):
        answer = archive_api.get(path, token)
        assert answer.status_code == 404, path
        assert answer.json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"type": "cancellation"}, ["ST-2026-00000001"], id="cancellations"),
        pytest.param({"type": "invoice"}, ["RE-2026-00000004", "RE-2026-00000002"], id="invoices"),
        pytest.param(
            {"type": "invoice,cancellation"},
            ["ST-2026-00000001", "RE-2026-00000004", "RE-2026-00000002"],
            id="both types",
        ),
        pytest.param(
            {"from": "2026-03-01"}, ["ST-2026-00000001", "RE-2026-00000004"], id="from a day"
        ),
        pytest.param({"to": "2026-02-28"}, ["RE-2026-00000002"], id="up to a day"),
        pytest.param(
            {"from": "2026-03-01", "to": "2026-03-01", "type": "invoice"},
            ["RE-2026-00000004"],
            id="one day, one type",
        ),
        pytest.param({"type": "order"}, [], id="a type not issued yet"),
    ],
)
def test_the_list_filters_by_type_and_issue_dates(
    archive_api: Archive, params: dict[str, str], expected: list[str]
):
    answer = archive_api.get("/documents", archive_api.as_customer(BOB), **params)

    assert answer.status_code == 200
    assert [doc["number"] for doc in answer.json()["documents"]] == expected


def test_a_filtered_list_pages_with_its_cursor(archive_api: Archive):
    token = archive_api.as_customer(ALICE)
    window = {"from": "2026-02-01", "to": "2026-03-31"}

    first = archive_api.get("/documents", token, limit="1", **window).json()
    second = archive_api.get(
        "/documents", token, limit="1", cursor=first["next_cursor"], **window
    ).json()

    listed = [doc["number"] for doc in first["documents"] + second["documents"]]
    assert listed == ["RE-2026-00000003", "RE-2026-00000001"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "receipt"}, "type"),
        ({"type": ""}, "type"),
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(
    archive_api: Archive, params: dict[str, str], field: str
):
    answer = archive_api.get("/documents", archive_api.as_customer(ALICE), **params)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_parameter"
    assert answer.json()["error"]["message"].startswith(field + ":")


def test_one_documents_metadata(archive_api: Archive):
    number = archive_api.numbers[ALICE][1]

    answer = archive_api.get(f"/documents/{number}", archive_api.as_customer(ALICE))

    assert answer.status_code == 200
    assert answer.json() == {
        "number": number,
        "document_type": "invoice",
        "issue_date": "2026-03-01",
        "period": "2026-02",
        "gross": "5.94",
        "pdf": f"/documents/{number}/pdf",
        "xml": f"/documents/{number}/xml",
    }


@pytest.mark.parametrize("which", [0, 1], ids=["xml archived beside the pdf", "xml in the pdf"])
def test_the_einvoice_xml_of_an_own_document(archive_api: Archive, which: int):
    number = archive_api.numbers[ALICE][which]

    answer = archive_api.get(f"/documents/{number}/xml", archive_api.as_customer(ALICE))

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert f'filename="{number}.xml"' in answer.headers["content-disposition"]
    assert answer.content == archive_api.xml[number]


def test_a_pdf_without_an_einvoice_answers_404(archive_api: Archive):
    number = archive_api.numbers[ALICE][2]

    answer = archive_api.get(f"/documents/{number}/xml", archive_api.as_customer(ALICE))

    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "not_found",
        "message": "no e-invoice for this document",
    }


@pytest.mark.parametrize("suffix", ["", "/pdf", "/xml"])
def test_another_customers_document_by_any_route_is_a_missing_one(
    archive_api: Archive, suffix: str
):
    token = archive_api.as_customer(ALICE)

    foreign = archive_api.get(f"/documents/{archive_api.numbers[BOB][0]}{suffix}", token)
    missing = archive_api.get(f"/documents/RE-2026-99999999{suffix}", token)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_staff_read_any_customer_they_name_through_the_front_end(archive_api: Archive):
    staff = archive_api.issuer.token("anna.schmidt", staff=True)
    number = archive_api.numbers[BOB][0]

    listed = archive_api.get("/documents", staff, customer=BOB)
    xml_of_alice = archive_api.get(
        f"/documents/{archive_api.numbers[ALICE][0]}/xml", staff, customer=ALICE
    )
    pdf = archive_api.get(f"/documents/{number}/pdf", staff, customer=BOB)

    assert [doc["number"] for doc in listed.json()["documents"]] == list(
        reversed(archive_api.numbers[BOB])
    )
    assert xml_of_alice.content == archive_api.xml[archive_api.numbers[ALICE][0]]
    assert pdf.status_code == 302


def test_a_customer_token_cannot_use_the_customer_parameter(archive_api: Archive):
    token = archive_api.as_customer(ALICE)

    foreign = archive_api.get("/documents", token, customer=BOB)
    own = archive_api.get("/documents", token, customer=ALICE)

    assert foreign.status_code == own.status_code == 403
    assert foreign.content == own.content
    assert BOB not in foreign.text


@pytest.mark.parametrize("token", [None, "not-a-jwt"], ids=["no token", "garbage token"])
def test_the_openapi_document_needs_no_token(archive_api: Archive, token: str | None):
    answer = archive_api.get("/openapi.json", token)

    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert {"/documents", "/documents/{number}/xml", "/openapi.json"} <= set(paths)


def test_a_filtered_page_is_one_dynamodb_query(
    archive_api: Archive, monkeypatch: pytest.MonkeyPatch
):
    operations: list[str] = []
    original = BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        operations.append(operation)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    token = archive_api.as_customer(BOB)

    first = archive_api.get("/documents", token, limit="1", type="invoice", to="2026-03-31")
    queries_first = operations.count("Query")
    archive_api.get(
        "/documents",
        token,
        limit="1",
        type="invoice",
        to="2026-03-31",
        cursor=first.json()["next_cursor"],
    )

    assert first.status_code == 200
    assert queries_first == 1
    assert operations.count("Query") == 2
    assert "Scan" not in operations


def test_staff_links_name_the_customer_so_a_staff_token_can_follow_them(archive_api: Archive):
    staff = archive_api.issuer.token("anna.schmidt", staff=True)

    listed = archive_api.get("/documents", staff, customer=BOB).json()["documents"]
    one = archive_api.get(f"/documents/{archive_api.numbers[BOB][0]}", staff, customer=BOB).json()

    assert {doc["pdf"] for doc in listed} == {
        f"/documents/{number}/pdf?customer={BOB}" for number in archive_api.numbers[BOB]
    }
    assert one["xml"] == f"/documents/{archive_api.numbers[BOB][0]}/xml?customer={BOB}"
    followed = requests.get(
        archive_api.url + listed[-1]["pdf"],
        headers={"Authorization": f"Bearer {staff}"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert followed.status_code == 302


def test_a_customers_own_links_carry_no_customer_parameter(archive_api: Archive):
    listed = archive_api.get("/documents", archive_api.as_customer(ALICE)).json()["documents"]

    assert all("?" not in doc["pdf"] and "?" not in doc["xml"] for doc in listed)


def test_a_script_asking_for_json_gets_the_download_url_of_the_pdf(archive_api: Archive):
    number = archive_api.numbers[ALICE][1]

    answer = requests.get(
        f"{archive_api.url}/documents/{number}/pdf",
        headers={
            "Authorization": f"Bearer {archive_api.as_customer(ALICE)}",
            "Accept": "application/json",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    link = answer.json()
    assert link["expires_in"] == 300
    download = requests.get(link["url"], timeout=TIMEOUT)
    assert download.content == archive_api.pdfs[number]
    assert download.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
