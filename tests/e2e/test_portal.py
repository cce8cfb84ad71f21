"""The customer portal in a real headless Chromium, against the local stack in this process.

The embedded AWS runs as a moto server (as under ``billing local up``), the local front end
serves the portal and the archive API on one port, and the page is opened as
``http://localhost:PORT/portal/`` while its config.json names ``http://127.0.0.1:PORT``: two
origins, so every API call of the page is a real cross-origin request and passes through CORS
and the page's Content-Security-Policy. PDFs download from the presigned URL of moto's S3.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from cli.seed import archive_customer, monthly_invoice
from localaws import embedded
from localaws.http_api import LocalHttpApi, LocalIssuer, serve
from localaws.process_env import environment
from shared.accounts.model import Posting
from shared.archive import embedded_einvoice
from shared.invoicing.documents import render_document
from shared.invoicing.model import Correction
from shared.invoicing.service import document_key
from shared.periods import Period
from shared.settings import Settings
from shared.wiring import document_archive, documents_store, ledger

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ALICE = "C0000101"
BOB = "C0000102"
# Alice: twelve monthly invoices and one cancellation; more than the portal's page of ten.
ALICE_MONTHS = [Period(2025, 12), *(Period(2026, month) for month in range(1, 12))]
PAGE_SIZE = 10
PACKAGE = ("HOST-L", "Webhosting L", Decimal("1037.00"))

pytestmark = pytest.mark.xdist_group("portal")
# Two cores shared with the rest of the suite: wait for the page longer than Playwright's 5 s.
expect.set_options(timeout=20_000)


@dataclass(frozen=True)
class Portal:
    url: str
    api_url: str
    issuer: LocalIssuer
    numbers: dict[str, list[str]]
    pdfs: dict[str, bytes]
    xml: dict[str, bytes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _issue(settings: Settings) -> tuple[dict[str, list[str]], dict[str, bytes], dict[str, bytes]]:
    """Real documents as a run issues them: rendered PDF/A-3 with Factur-X, archived, recorded."""
    store, archive = documents_store(settings), document_archive(settings)
    retain = datetime(2040, 1, 1, tzinfo=UTC)
    plan = [(ALICE, period) for period in ALICE_MONTHS] + [(BOB, Period(2026, 10))]
    numbers: dict[str, list[str]] = {ALICE: [], BOB: []}
    pdfs: dict[str, bytes] = {}
    xml: dict[str, bytes] = {}
    for sequence, (customer_id, period) in enumerate(plan, start=1):
        customer = archive_customer(
            customer_id, "Anna Weber" if customer_id == ALICE else "Ben Kurz"
        )
        invoice = monthly_invoice(
            customer, f"RE-2026-{sequence:08d}", period, settings.seller, package=PACKAGE
        )
        pdf = render_document(invoice).pdf
        key = document_key(customer_id, invoice.number)
        assert archive.store_pdf(key, pdf, retain_until=retain)
        assert store.issue_invoice(invoice, shard=customer.shard, pdf_key=key)
        numbers[customer_id].append(invoice.number)
        pdfs[invoice.number] = pdf
        xml[invoice.number] = embedded_einvoice(pdf) or b""

    original = monthly_invoice(
        archive_customer(ALICE, "Anna Weber"),
        "ST-2026-00000001",
        Period(2026, 11),
        settings.seller,
        package=PACKAGE,
    )
    cancellation = original.model_copy(
        update={
            "document_type": "cancellation",
            "correction": Correction(
                refers_to=numbers[ALICE][-1], refers_to_date=original.issue_date, reason="storno"
            ),
        }
    )
    key = document_key(ALICE, cancellation.number)
    pdfs[cancellation.number] = b"%PDF-1.7 cancellation " + cancellation.number.encode()
    assert archive.store_pdf(key, pdfs[cancellation.number], retain_until=retain)
    assert store.issue_correction(cancellation, pdf_key=key)
    numbers[ALICE].append(cancellation.number)
    _pay_part_of(settings, numbers[BOB][0])
    return numbers, pdfs, xml


def _pay_part_of(settings: Settings, number: str) -> None:
    """Bob paid 234.03 of his 1,234.03: 1,000.00 stay open."""
    payment = Posting(
        posting_id=f"test-payment:{number}",
        customer_id=BOB,
        booked_on=date(2026, 11, 5),
        kind="payment",
        amount=Decimal("-234.03"),
        item=number,
        document_number=number,
        source="manual:portal-test",
    )
    assert ledger(settings).post([payment]) == 1


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    port = _free_port()
    with embedded.server(port=port) as (stack, endpoint):
        client_env = stack.exports() | {"AWS_ENDPOINT_URL": endpoint}
        with environment(client_env):
            numbers, pdfs, xml = _issue(Settings())
        issuer = LocalIssuer.generate()
        api: LocalHttpApi = serve(0, lambda: embedded.client_factory(endpoint)("lambda"), issuer)
        try:
            page_url = f"http://localhost:{api.port}/portal/"
            yield Portal(page_url, api.url, issuer, numbers, pdfs, xml)
        finally:
            api.shutdown()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: `make test` installs it (apt-get install -y chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh profile per test, so no token or language survives from another test."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        accept_downloads=True,
        downloads_path=str(tmp_path / "downloads"),
        locale="de-DE",
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Page:
    page = browser.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda message: _note_console(problems, message))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.problems = problems  # type: ignore[attr-defined]
    return page


def _note_console(problems: list[str], message: ConsoleMessage) -> None:
    """Errors the page logs."""
    if message.type == "error":
        problems.append(message.text + " " + message.location.get("url", ""))


def sign_in(page: Page, portal: Portal, token: str) -> None:
    page.goto(portal.url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    page.get_by_label("Zugangstoken").fill(token)
    page.get_by_role("button", name="Anmelden").click()


def listed_numbers(page: Page) -> list[str]:
    expect(page.locator("#documents[aria-busy=false]")).to_be_attached()
    return page.locator("#document-rows tr th").all_inner_texts()


def newest_first(portal: Portal, customer_id: str) -> list[str]:
    """The cancellation is issued on the day of the last invoice, after it."""
    return list(reversed(portal.numbers[customer_id]))


def test_a_customer_signs_in_and_sees_their_newest_documents_first(
    page: Page, portal: Portal
) -> None:
    sign_in(page, portal, portal.issuer.token(ALICE))

    expect(page.locator("#session-who")).to_have_text(f"Angemeldet als Kunde {ALICE}")
    assert listed_numbers(page) == newest_first(portal, ALICE)[:PAGE_SIZE]
    first = page.locator("#document-rows tr").first
    expect(first).to_contain_text("Gutschrift / Storno")
    expect(page.locator("#status")).to_have_text(f"{PAGE_SIZE} Dokumente geladen.")
    # 1.037,00 net plus 19 % VAT: the German amount and date formats.
    row = page.locator(f"#document-rows tr[data-number='{portal.numbers[ALICE][-2]}']")
    expect(row).to_contain_text("1.234,03\u00a0€")
    expect(row).to_contain_text("01.12.2026")
    expect(row).to_contain_text("November 2026")
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_token_stays_in_session_storage_and_never_in_the_url(
    page: Page, portal: Portal
) -> None:
    token = portal.issuer.token(ALICE)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    sign_in(page, portal, token)
    listed_numbers(page)

    assert page.evaluate("sessionStorage.getItem('portal.token')") == token
    assert page.evaluate("localStorage.getItem('portal.token')") is None
    assert not any(token in url for url in requested)
    page.reload()
    assert listed_numbers(page) == newest_first(portal, ALICE)[:PAGE_SIZE]

    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_label("Zugangstoken")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('portal.token')") is None


def test_pages_follow_the_apis_cursor_forward_and_back(page: Page, portal: Portal) -> None:
    sign_in(page, portal, portal.issuer.token(ALICE))
    first = listed_numbers(page)

    page.get_by_role("button", name="Nächste Seite").click()
    second = listed_numbers(page)

    assert first + second == newest_first(portal, ALICE)
    expect(page.locator("#page-number")).to_have_text("Seite 2")
    expect(page.get_by_role("button", name="Nächste Seite")).to_be_disabled()
    page.get_by_role("button", name="Vorherige Seite").click()
    assert listed_numbers(page) == first
    expect(page.get_by_role("button", name="Vorherige Seite")).to_be_disabled()


def test_the_list_filters_by_type_and_issue_dates(page: Page, portal: Portal) -> None:
    sign_in(page, portal, portal.issuer.token(ALICE))
    listed_numbers(page)

    page.get_by_label("Art", exact=True).select_option("cancellation")
    page.get_by_role("button", name="Filtern").click()
    assert listed_numbers(page) == ["ST-2026-00000001"]

    page.get_by_label("Art", exact=True).select_option("invoice")
    page.get_by_label("Ausgestellt ab").fill("2026-03-01")
    page.get_by_label("Ausgestellt bis").fill("2026-05-31")
    page.get_by_role("button", name="Filtern").click()
    # Invoices of February, March and April, issued on the first of the month after.
    assert listed_numbers(page) == [portal.numbers[ALICE][i] for i in (4, 3, 2)]

    page.get_by_label("Ausgestellt ab").fill("2026-06-01")
    page.get_by_label("Ausgestellt bis").fill("2026-05-01")
    page.get_by_role("button", name="Filtern").click()
    expect(page.get_by_role("alert")).to_have_text("Das Datum „ab“ liegt nach dem Datum „bis“.")

    page.get_by_role("button", name="Zurücksetzen").click()
    assert listed_numbers(page) == newest_first(portal, ALICE)[:PAGE_SIZE]


def test_the_pdf_and_the_einvoice_download_as_archived(page: Page, portal: Portal) -> None:
    number = portal.numbers[ALICE][-2]
    sign_in(page, portal, portal.issuer.token(ALICE))
    listed_numbers(page)

    with page.expect_download() as pdf_download:
        page.get_by_role("button", name=f"PDF von {number} herunterladen").click()
    with page.expect_download() as xml_download:
        page.get_by_role("button", name=f"E-Rechnung (XML) von {number} herunterladen").click()

    assert pdf_download.value.suggested_filename == f"{number}.pdf"
    assert Path(pdf_download.value.path()).read_bytes() == portal.pdfs[number]
    assert xml_download.value.suggested_filename == f"{number}.xml"
    assert Path(xml_download.value.path()).read_bytes() == portal.xml[number]
    assert b"CrossIndustryInvoice" in portal.xml[number]
    expect(page.locator("#status")).to_have_text(f"{number}.xml heruntergeladen.")


def test_english_switches_texts_formats_and_the_lang_attribute(page: Page, portal: Portal) -> None:
    number = portal.numbers[ALICE][-2]
    sign_in(page, portal, portal.issuer.token(ALICE))
    listed_numbers(page)
    assert page.locator("html").get_attribute("lang") == "de"

    page.get_by_role("button", name="English").click()

    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    row = page.locator(f"#document-rows tr[data-number='{number}']")
    expect(row).to_contain_text("€1,234.03")
    expect(row).to_contain_text("1 Dec 2026")
    expect(row).to_contain_text("November 2026")
    expect(page.locator("#document-rows tr").first).to_contain_text("Credit note / cancellation")
    assert page.title() == "Customer portal"
    expect(page.locator("#status")).to_have_text(f"{PAGE_SIZE} documents loaded.")
    page.get_by_label("Issued from").fill("2026-06-01")
    page.get_by_label("Issued until").fill("2026-05-01")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("The “from” date lies after the “until” date.")
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("alert")).to_have_text("Das Datum „ab“ liegt nach dem Datum „bis“.")
    page.get_by_role("button", name="English").click()
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"


def test_another_customers_token_sees_none_of_these_documents(page: Page, portal: Portal) -> None:
    sign_in(page, portal, portal.issuer.token(BOB))

    assert listed_numbers(page) == portal.numbers[BOB]
    assert not set(portal.numbers[ALICE]) & set(page.locator("#document-rows").inner_text().split())

    nobody = "C0000999"
    page.get_by_role("button", name="Abmelden").click()
    sign_in(page, portal, portal.issuer.token(nobody))
    assert listed_numbers(page) == []
    expect(page.get_by_text("Keine Dokumente für diese Auswahl.")).to_be_visible()


def test_a_bad_token_is_refused_with_a_clear_message(page: Page, portal: Portal) -> None:
    sign_in(page, portal, LocalIssuer.generate().token(ALICE))

    expect(page.get_by_role("alert")).to_contain_text("ungültig oder abgelaufen")
    expect(page.get_by_label("Zugangstoken")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('portal.token')") is None


def test_the_balance_and_open_items_come_from_the_customers_account(
    page: Page, portal: Portal
) -> None:
    sign_in(page, portal, portal.issuer.token(BOB))
    listed_numbers(page)

    expect(page.locator("#balance-text")).to_have_text("Offener Betrag: 1.000,00\u00a0€")
    rows = page.locator("#items-body tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(portal.numbers[BOB][0])
    expect(rows.first).to_contain_text("teilweise bezahlt")
    expect(rows.first).to_contain_text("1.234,03\u00a0€")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#balance-text")).to_have_text("Amount due: €1,000.00")


def test_staff_choose_a_customer_and_follow_the_links_the_api_gives(
    page: Page, portal: Portal
) -> None:
    sign_in(page, portal, portal.issuer.token("anna.schmidt", staff=True))
    expect(page.locator("#session-who")).to_have_text("Angemeldet als Mitarbeiter anna.schmidt")

    page.get_by_label("Kundennummer").fill(BOB)
    page.get_by_role("button", name="Anzeigen").click()

    assert listed_numbers(page) == portal.numbers[BOB]
    number = portal.numbers[BOB][0]
    with page.expect_download() as download:
        page.get_by_role("button", name=f"PDF von {number} herunterladen").click()
    assert Path(download.value.path()).read_bytes() == portal.pdfs[number]


def test_the_page_is_usable_with_the_keyboard_alone(page: Page, portal: Portal) -> None:
    page.goto(portal.url)
    expect(page.locator("body[data-ready=true]")).to_be_attached()

    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Zum Inhalt springen")
    focused = _tab_until(page, "#token")
    assert focused
    page.keyboard.insert_text(portal.issuer.token(ALICE))
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Anmelden")
    page.keyboard.press("Enter")
    listed_numbers(page)

    number = portal.numbers[ALICE][-2]
    assert _tab_until(page, f"[aria-label='PDF von {number} herunterladen']")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert Path(download.value.path()).read_bytes() == portal.pdfs[number]


def _tab_until(page: Page, selector: str, presses: int = 60) -> bool:
    for _ in range(presses):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return True
        page.keyboard.press("Tab")
    return False


def test_accessibility_basics(page: Page, portal: Portal) -> None:
    sign_in(page, portal, portal.issuer.token(ALICE))
    listed_numbers(page)

    facts: dict[str, Any] = page.evaluate(
        """() => {
        const unlabelled = [...document.querySelectorAll('input, select, textarea')]
          .filter((field) => field.labels.length === 0 && !field.getAttribute('aria-label'))
          .map((field) => field.id);
        const tables = [...document.querySelectorAll('table')].map((table) => ({
          caption: table.caption?.textContent.trim() ?? '',
          headers: [...table.querySelectorAll('thead th')].map((th) => th.scope),
          rowHeaders: [...table.querySelectorAll('tbody th')].map((th) => th.scope),
        }));
        return {
          unlabelled,
          tables,
          landmarks: ['header', 'main', 'footer', 'nav']
            .filter((tag) => document.querySelector(tag)),
          live: [...document.querySelectorAll('[aria-live]')].map((e) => e.getAttribute('role')),
          unnamedButtons: [...document.querySelectorAll('button')]
            .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).length,
          lang: document.documentElement.lang,
        };
    }"""
    )

    assert facts["unlabelled"] == []
    assert len(facts["tables"]) == 2
    for table in facts["tables"]:
        assert table["caption"]
        assert table["headers"]
        assert set(table["headers"]) == {"col"}
        assert set(table["rowHeaders"]) <= {"row"}
    documents = next(t for t in facts["tables"] if t["caption"].startswith("Ihre Rechnungen"))
    assert len(documents["rowHeaders"]) == PAGE_SIZE
    assert facts["landmarks"] == ["header", "main", "footer", "nav"]
    assert sorted(facts["live"]) == ["alert", "status"]
    assert facts["unnamedButtons"] == 0
    assert facts["lang"] == "de"


def test_the_portal_is_served_with_its_content_types_and_security_headers(
    page: Page, portal: Portal
) -> None:
    answers = {
        name: page.request.get(portal.url + name)
        for name in ("", "portal.js", "texts.js", "portal.css", "config.json")
    }

    types = {name: answer.headers["content-type"] for name, answer in answers.items()}
    assert types == {
        "": "text/html; charset=utf-8",
        "portal.js": "text/javascript; charset=utf-8",
        "texts.js": "text/javascript; charset=utf-8",
        "portal.css": "text/css; charset=utf-8",
        "config.json": "application/json",
    }
    assert answers["config.json"].json() == {"api_url": portal.api_url}
    headers = answers[""].headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert f"connect-src 'self' {portal.api_url}" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert page.request.get(portal.url + "../openapi.json").status == 200
    assert page.request.get(portal.url + ".hidden").status == 404
    assert page.request.get(portal.url + "%2e%2e/infra/spec.py").status == 404


def test_no_file_of_the_portal_comes_from_another_host(portal: Portal) -> None:
    root = Path(__file__).resolve().parents[2] / "portal"
    for path in root.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "innerHTML" not in text, path.name
