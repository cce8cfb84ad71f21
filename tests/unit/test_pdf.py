import hashlib
import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from shared.customers import Address
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import Invoice
from shared.invoicing.pdf import plain, render_invoice
from shared.periods import Period
from shared.tax import TaxCategory
from tests.unit.fakes import SELLER, customer, position

ROOT = Path(__file__).resolve().parents[2]
PERIOD = Period(2026, 11)


def invoice(lines: int = 5, *, name: str = "Jürgen Müller", number: int = 42) -> Invoice:
    buyer = customer(1, name=name)
    positions = [
        position(buyer.customer_id, 1, unit_net="899.00"),
        position(buyer.customer_id, 2, unit_net="0.99", quantity=3),
        position(buyer.customer_id, 3, unit_net="6.50", category=TaxCategory.REDUCED),
    ]
    positions += [position(buyer.customer_id, i, unit_net="1.49") for i in range(4, lines + 1)]
    draft = compose_invoice(buyer, positions[:lines], PERIOD)
    assert draft is not None
    return Invoice(
        number=f"RE-2026-{number:08d}",
        run_id="run-2026-11",
        issue_date=date(2026, 12, 1),
        due_date=date(2026, 12, 15),
        seller=SELLER,
        draft=draft,
    )


def pages_text(body: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def test_typical_invoice_is_a_readable_one_page_pdf() -> None:
    body = render_invoice(invoice())

    assert body.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(body)).pages) == 1


def test_pdf_states_what_the_law_asks_for() -> None:
    issued = invoice()

    text = pages_text(render_invoice(issued))[0]

    assert issued.draft.gross == Decimal("1083.85")
    assert "RE-2026-00000042" in text
    assert "Jürgen Müller" in text
    assert "Hauptstraße 1" in text
    assert "Rechnungsbetrag 1.083,85 EUR" in text
    assert "USt-IdNr.: DE287654321" in text
    assert "Nordlicht Hosting GmbH" in text
    assert "01.12.2026" in text
    assert "01.11.2026 - 30.11.2026" in text
    assert "USt. 19 % auf 904,95 EUR 171,94 EUR" in text
    assert "USt. 7 % auf 6,50 EUR 0,46 EUR" in text


def test_metadata_names_the_invoice_and_its_issue_date() -> None:
    metadata = PdfReader(io.BytesIO(render_invoice(invoice()))).metadata

    assert metadata is not None
    assert metadata.title == "Rechnung RE-2026-00000042"
    assert metadata.author == SELLER.name
    assert metadata.creation_date == datetime(2026, 12, 1, tzinfo=UTC)


def test_sixty_lines_run_over_pages_with_the_column_header_on_each() -> None:
    pages = pages_text(render_invoice(invoice(60)))

    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "Pos. Leistung Menge Einzelpreis USt. Netto" in text
        assert f"Seite {number}" in text
        assert "USt-IdNr.: DE287654321" in text
    rows = [re.match(r"(\d+) Leistung ", row) for text in pages for row in text.splitlines()]
    assert [int(row.group(1)) for row in rows if row] == list(range(1, 61))
    assert "Rechnungsbetrag" in pages[-1]
    assert "Rechnungsbetrag" not in pages[0]


def test_a_buyer_abroad_gets_the_country() -> None:
    issued = invoice()
    abroad = Address(street="Ringstraße 3", postal_code="1010", city="Wien", country="AT")
    buyer = issued.draft.buyer.model_copy(update={"address": abroad, "vat_id": "ATU12345678"})
    moved = issued.model_copy(update={"draft": issued.draft.model_copy(update={"buyer": buyer})})

    text = pages_text(render_invoice(moved))[0]

    assert "1010 Wien\nAT" in text
    assert "Ihre USt-IdNr. ATU12345678" in text


def test_rendering_twice_gives_the_same_bytes() -> None:
    issued = invoice(60)

    assert render_invoice(issued) == render_invoice(issued)


def test_rendering_in_another_process_gives_the_same_bytes() -> None:
    script = (
        "import hashlib\n"
        "from tests.unit.test_pdf import invoice\n"
        "from shared.invoicing.pdf import render_invoice\n"
        "print(hashlib.sha256(render_invoice(invoice(60))).hexdigest())\n"
    )
    environment = os.environ | {"PYTHONHASHSEED": "12345", "TZ": "Pacific/Kiritimati"}

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.strip() == hashlib.sha256(render_invoice(invoice(60))).hexdigest()


def test_another_number_gives_another_document() -> None:
    assert render_invoice(invoice(number=1)) != render_invoice(invoice(number=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jürgen Müller, Zoë, Björn, Voß", "Jürgen Müller, Zoë, Björn, Voß"),
        ("Šmerda Čapek", "Smerda Capek"),
        ("Şahin Ağa", "Sahin Aga"),
    ],
)
def test_plain_keeps_latin1_and_replaces_letters_it_cannot_show(text: str, expected: str) -> None:
    assert plain(text) == expected


@pytest.mark.parametrize(
    ("name", "shown"),
    [("Łukasz Dąbrowski", "Lukasz Dabrowski"), ("Đorđe Œuvre", "Dorde OEuvre")],
)
def test_buyer_names_keep_every_letter(name: str, shown: str) -> None:
    text = pages_text(render_invoice(invoice(name=name)))[0]

    assert shown in text or name in text


def test_plain_keeps_latin1_accents_next_to_others() -> None:
    assert plain("Jürgen Dvořák") == "Jürgen Dvorák"
