"""The notice letter: PDF/A-3b like the invoices, what it says, and how it runs over pages."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader

from shared.dunning.model import Notice, NoticeLine
from shared.dunning.pdf import render_notice
from tests.unit.dunning_fakes import World, person
from tests.unit.test_dunning_scenarios import STEP_DAYS, unpaid
from tests.unit.test_pdf import flat, resolved, xmp_of, xmp_value


def second_notice(**kind: str) -> Notice:
    world = World()
    customer = unpaid(world, 1, **kind)
    world.run_days(STEP_DAYS["reminder"], STEP_DAYS["first_notice"])
    return world.notices.of(customer.customer_id)[-1]


def text_of(body: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(io.BytesIO(body)).pages]


def test_a_notice_is_pdfa_3b_with_embedded_fonts_and_the_srgb_intent() -> None:
    body = render_notice(second_notice())
    catalog = PdfReader(io.BytesIO(body), strict=True).trailer["/Root"]

    assert body.startswith(b"%PDF-1.7")
    assert (
        xmp_value(xmp_of(body), "pdfaid:part"),
        xmp_value(xmp_of(body), "pdfaid:conformance"),
    ) == ("3", "B")
    assert resolved(catalog["/OutputIntents"][0])["/S"] == "/GTS_PDFA1"
    assert catalog["/Lang"] == "de-DE"
    assert b"Helvetica" not in body
    assert "/EmbeddedFiles" not in str(catalog.get("/Names", ""))


def test_the_same_notice_gives_the_same_bytes() -> None:
    notice = second_notice()

    assert render_notice(notice) == render_notice(notice)
    assert render_notice(notice) != render_notice(notice.model_copy(update={"number": "MA-X"}))


def test_the_letter_shows_items_charges_total_deadline_interest_and_legal_texts() -> None:
    (page,) = text_of(render_notice(second_notice()))

    for expected in (
        "Mahnungsnummer MA-2026-00000002",
        "Zahlbar bis 12.02.2026",
        "1. Mahnung",
        "Rechnung RE-2026-00000001 15.01.2026 119,00 € 0,00 € 119,00 €",
        "Mahngebühr 2,50 €",
        "Verzugszinsen 0,22 €",
        "Zu zahlen 121,72 €",
        "RE-2026-00000001, 23.01.2026 - 02.02.2026: 119,00 € \N{MULTIPLICATION SIGN} 6,27 % "
        "(1,27 % + 5) \N{MULTIPLICATION SIGN} 11/365 = 0,2249 €",
        "IBAN DE02 2005 0550 1015 8713 93",
        "§ 288 Abs. 1 BGB: 5 Prozentpunkte über dem Basiszinssatz",
        "Seite 1 von 1",
    ):
        assert expected in page


def test_an_english_letter_is_tagged_english() -> None:
    body = render_notice(second_notice(country="NL"))

    assert PdfReader(io.BytesIO(body)).trailer["/Root"]["/Lang"] == "en-GB"
    (page,) = text_of(body)
    assert "First dunning notice" in page
    assert "Amount to pay EUR 121.72" in page
    assert "Page 1 of 1" in page


def test_a_long_claim_runs_over_pages_with_every_item_once() -> None:
    notice = second_notice()
    lines = tuple(
        NoticeLine(
            item=f"RE-2026-{n:08d}",
            kind="invoice",
            document_number=f"RE-2026-{n:08d}",
            due_on=date(2025, 1, 15) + timedelta(days=30 * n),
            amount=Decimal("9.99"),
            credited=Decimal("0.00"),
            open=Decimal("9.99"),
        )
        for n in range(1, 81)
    )
    long = notice.model_copy(update={"lines": lines})

    pages = text_of(render_notice(long))

    assert len(pages) >= 2
    assert all(f"Seite {n} von {len(pages)}" in page for n, page in enumerate(pages, 1))
    found = [
        f"RE-2026-{n:08d}" for n in range(1, 81) if any(f"RE-2026-{n:08d} " in p for p in pages)
    ]
    assert len(found) == 80
    assert pages[1].startswith("Nordlicht Hosting GmbH")
    assert f"Zu zahlen {long.total:.2f}".replace(".", ",") in " ".join(pages)


def test_a_post_customer_gets_the_same_letter() -> None:
    world = World()
    customer = world.add(person(1, delivery="post"))
    world.invoice(
        customer, "RE-2026-00000001", "119.00", issued=date(2026, 1, 1), due=date(2026, 1, 15)
    )
    world.run(STEP_DAYS["reminder"])

    (notice,) = world.notices.of(customer.customer_id)
    assert notice.recipient.delivery == "post"
    assert "Zahlungserinnerung" in world.pdf_text(notice)
