import hashlib
import io
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from shared.customers import Address
from shared.delivery.print_batch import merge_pdfs
from shared.invoicing.compose import compose_invoice
from shared.invoicing.corrections import reversed_draft
from shared.invoicing.model import Correction, Invoice
from shared.invoicing.pdf import Attachment, DirectDebit, render_invoice, writer
from shared.invoicing.pdf.fonts import BOLD_FILE, REGULAR_FILE, bold, font_bytes, regular
from shared.periods import Period
from shared.tax import REVERSE_CHARGE_NOTE, TaxCategory
from tests.unit.fakes import SELLER, customer, position

ROOT = Path(__file__).resolve().parents[2]
PERIOD = Period(2026, 11)
SAMPLE_XML = (Path(__file__).parent / "data" / "sample-cii-en16931.xml").read_bytes()
FACTUR_X = Attachment(filename="factur-x.xml", xml=SAMPLE_XML, conformance="EN 16931")
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


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


def cancellation_of(original: Invoice) -> Invoice:
    return original.model_copy(
        update={
            "document_type": "cancellation",
            "correction": Correction(
                refers_to=original.number,
                refers_to_date=original.issue_date,
                reason="Doppelt berechnet",
            ),
            "number": "SR-2026-00000007",
            "issue_date": date(2026, 12, 20),
            "due_date": date(2026, 12, 20),
            "draft": reversed_draft(original.draft),
        }
    )


def with_buyer(issued: Invoice, **changes: Any) -> Invoice:
    buyer = issued.draft.buyer.model_copy(update=changes)
    return issued.model_copy(update={"draft": issued.draft.model_copy(update={"buyer": buyer})})


def reader(body: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(body), strict=True)


def pages_text(body: bytes) -> list[str]:
    return [page.extract_text() for page in reader(body).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def xmp_of(body: bytes) -> ET.Element:
    metadata = resolved(reader(body).trailer["/Root"]["/Metadata"])
    return ET.fromstring(metadata.get_data())  # noqa: S314 - the packet we wrote


def xmp_value(root: ET.Element, path: str) -> str | None:
    found = root.find(f".//{path}", NS)
    return None if found is None else found.text


def attachment_spec(body: bytes) -> DictionaryObject:
    names = reader(body).trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[0] == "factur-x.xml"
    spec: DictionaryObject = resolved(names[1])
    return spec


def amount(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


# What the invoice says


def test_typical_invoice_is_a_one_page_pdf_1_7() -> None:
    body = render_invoice(invoice(), FACTUR_X)

    assert body.startswith(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    assert body.endswith(b"%%EOF\n")
    assert len(reader(body).pages) == 1


def test_pdf_states_what_the_law_asks_for() -> None:
    issued = invoice()

    text = flat(pages_text(render_invoice(issued, FACTUR_X))[0])

    assert issued.draft.gross == Decimal("1083.85")
    for expected in (
        "Rechnung RE-2026-00000042",
        "Rechnungsnummer RE-2026-00000042",
        "Jürgen Müller Hauptstraße 1 10115 Berlin",
        "Nordlicht Hosting GmbH · Speicherstraße 7 · 20457 Hamburg",
        "Rechnungsdatum 01.12.2026",
        "Kundennummer C0000001",
        "Abrechnungsmonat November 2026",
        "Leistungszeitraum 01.11.2026 \N{EN DASH} 30.11.2026",
        "Fällig am 15.12.2026",
        "Pos. Leistung Menge Einzelpreis USt. Netto",
        "2 Leistung 2 3 0,99 € 19 % 2,97 €",
        "Summe netto 911,45 €",
        "USt. 19 % auf 904,95 € 171,94 €",
        "USt. 7 % auf 6,50 € 0,46 €",
        "Rechnungsbetrag 1.083,85 €",
        "bis zum 15.12.2026",
        "IBAN DE02 2005 0550 1015 8713 93",
        "Geschäftsführung: Karin Voß",
        "Amtsgericht Hamburg HRB 123456",
        "USt-IdNr.: DE287654321",
        "Seite 1 von 1",
    ):
        assert expected in text


def test_names_beyond_latin1_keep_every_letter_and_the_euro_sign() -> None:
    lodz = Address(street="ulica Piotrkowska 5", postal_code="90-001", city="Łódź", country="PL")
    issued = with_buyer(invoice(name="Antonín Dvořák"), address=lodz)

    text = flat(pages_text(render_invoice(issued, FACTUR_X))[0])

    assert "Antonín Dvořák ulica Piotrkowska 5 90-001 Łódź PL" in text
    assert "1.083,85 €" in text


def test_letters_the_font_lacks_fall_back_without_a_missing_glyph() -> None:
    body = render_invoice(invoice(name="Юрий Ǒtani 山田"), FACTUR_X)

    text = flat(pages_text(body)[0])
    glyphs = [
        shown[i : i + 4]
        for content in content_streams(body)
        for shown in re.findall(rb"<([0-9A-F]+)> Tj", content)
        for i in range(0, len(shown), 4)
    ]

    assert "???? Otani ??" in text
    assert b"0000" not in glyphs


# Latin letters of Western, Central and South-Eastern Europe the fonts show as they are.
SHOWN = (
    "Jürgen Müller, Zoë, Björn, Voß",
    "Łukasz Dąbrowski, Şahin Ağa, Đorđe Œuvre",
    "Ștefan Țurcanu „quoted“ \N{EN DASH} 5 €",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [*((shown, shown) for shown in SHOWN), ("Ǎ Ȟ", "A H"), ("Юрий", "????")],
)
def test_fitting_keeps_what_the_fonts_show_and_replaces_the_rest(text: str, expected: str) -> None:
    assert regular().fit(text) == expected
    assert bold().fit(text) == expected


def test_a_buyer_abroad_gets_the_country_and_the_vat_id() -> None:
    abroad = Address(street="Ringstraße 3", postal_code="1010", city="Wien", country="AT")
    moved = with_buyer(invoice(), address=abroad, vat_id="ATU12345678")

    text = pages_text(render_invoice(moved))[0]

    assert "1010 Wien\nAT" in text
    assert "Ihre USt-IdNr. ATU12345678" in text


def test_reverse_charge_note_is_printed_in_full() -> None:
    issued = invoice()
    noted = issued.model_copy(
        update={"draft": issued.draft.model_copy(update={"notes": (REVERSE_CHARGE_NOTE,)})}
    )

    text = flat(pages_text(render_invoice(noted))[0])

    assert REVERSE_CHARGE_NOTE in text


def test_a_cancellation_refers_to_the_original_with_negated_amounts() -> None:
    text = flat(pages_text(render_invoice(cancellation_of(invoice()), FACTUR_X))[0])

    assert "Stornorechnung SR-2026-00000007" in text
    assert "Storno zu RE-2026-00000042 vom 01.12.2026" in text
    assert "stornieren wir die Rechnung RE-2026-00000042 vom 01.12.2026" in text
    assert "Grund: Doppelt berechnet" in text
    assert "Rechnungsbetrag -1.083,85 €" in text
    assert "hebt die Rechnung RE-2026-00000042 auf" in text
    assert "Bitte überweisen" not in text


def test_a_direct_debit_names_the_mandate_and_the_creditor_instead_of_a_transfer() -> None:
    debit = DirectDebit(
        mandate_reference="M-C0000001-01",
        creditor_id="DE98ZZZ09999999999",
        debtor_iban="DE89370400440532013000",
    )

    text = flat(pages_text(render_invoice(invoice(), FACTUR_X, direct_debit=debit))[0])

    assert "per SEPA-Lastschrift von Ihrem Konto IBAN DE89 XXXX XXXX XXXX XX30 00" in text
    assert "Mandatsreferenz: M-C0000001-01" in text
    assert "Gläubiger-Identifikationsnummer: DE98ZZZ09999999999" in text
    assert "Bitte überweisen" not in text


# Pages and carry-overs


ROW = re.compile(r"^(\d+) .* (-?[\d.]+,\d\d) €$")
CARRIED_DOWN = re.compile(r"^Übertrag (-?[\d.]+,\d\d) €$")
GROSS = re.compile(r"^Rechnungsbetrag -?[\d.]+,\d\d €$")
CARRIED_UP = re.compile(r"^Übertrag von Seite (\d+) (-?[\d.]+,\d\d) €$")


def test_three_hundred_domains_paginate_with_headers_and_carry_overs_that_add_up() -> None:
    issued = invoice(300)

    pages = pages_text(render_invoice(issued, FACTUR_X))

    count = len(pages)
    assert count > 5
    positions: list[int] = []
    carried = Decimal(0)
    for number, text in enumerate(pages, start=1):
        lines = text.splitlines()
        assert "Pos. Leistung Menge Einzelpreis USt. Netto" in lines
        assert f"Seite {number} von {count}" in lines
        assert "USt-IdNr.: DE287654321" in lines
        rows = [match for line in lines if (match := ROW.match(line))]
        positions += [int(row.group(1)) for row in rows]
        page_net = sum((amount(row.group(2)) for row in rows), Decimal(0))
        up = [m for line in lines if (m := CARRIED_UP.match(line))]
        down = [m for line in lines if (m := CARRIED_DOWN.match(line))]
        if number > 1:
            assert [(int(up[0].group(1)), amount(up[0].group(2)))] == [(number - 1, carried)]
        carried += page_net
        if number < count:
            assert [amount(m.group(1)) for m in down] == [carried]
        else:
            assert down == []
    assert positions == list(range(1, 301))
    assert carried == issued.draft.net
    assert "Rechnungsbetrag" in pages[-1]
    assert "Rechnungsbetrag" not in pages[0]


@pytest.mark.parametrize("lines", range(18, 34))
def test_wherever_the_page_breaks_every_line_and_the_totals_are_there_once(lines: int) -> None:
    pages = pages_text(render_invoice(invoice(lines)))

    lines_of = [text.splitlines() for text in pages]
    rows = [int(m.group(1)) for page in lines_of for line in page if (m := ROW.match(line))]
    gross = [sum(bool(GROSS.match(line)) for line in page) for page in lines_of]

    assert rows == list(range(1, lines + 1))
    assert gross == [0] * (len(pages) - 1) + [1]
    assert "Summe netto" in pages[-1]


# PDF/A-3b and Factur-X


def test_xmp_declares_pdfa_3b_and_the_factur_x_fields_with_their_schema() -> None:
    root = xmp_of(render_invoice(invoice(), FACTUR_X))

    assert xmp_value(root, "pdfaid:part") == "3"
    assert xmp_value(root, "pdfaid:conformance") == "B"
    assert xmp_value(root, "fx:DocumentType") == "INVOICE"
    assert xmp_value(root, "fx:DocumentFileName") == "factur-x.xml"
    assert xmp_value(root, "fx:Version") == "1.0"
    assert xmp_value(root, "fx:ConformanceLevel") == "EN 16931"
    assert xmp_value(root, "pdfaSchema:namespaceURI") == NS["fx"]
    assert xmp_value(root, "pdfaSchema:prefix") == "fx"
    described = [e.text for e in root.iterfind(".//pdfaProperty:name", NS)]
    assert described == ["DocumentFileName", "DocumentType", "Version", "ConformanceLevel"]


def test_info_dictionary_and_xmp_say_the_same() -> None:
    body = render_invoice(invoice(), FACTUR_X)
    metadata = reader(body).metadata
    root = xmp_of(body)

    assert metadata is not None
    assert metadata.title == "Rechnung RE-2026-00000042"
    assert metadata.author == SELLER.name
    assert metadata.creation_date == datetime(2026, 12, 1, tzinfo=UTC)
    assert metadata.modification_date == metadata.creation_date
    assert xmp_value(root, "dc:title/rdf:Alt/rdf:li") == metadata.title
    assert xmp_value(root, "dc:creator/rdf:Seq/rdf:li") == metadata.author
    assert xmp_value(root, "dc:description/rdf:Alt/rdf:li") == metadata.subject
    assert xmp_value(root, "xmp:CreatorTool") == metadata.creator
    assert xmp_value(root, "xmp:CreateDate") == "2026-12-01T00:00:00+00:00"
    assert xmp_value(root, "xmp:ModifyDate") == "2026-12-01T00:00:00+00:00"


def test_the_attachment_comes_back_byte_for_byte_as_associated_data() -> None:
    body = render_invoice(invoice(), FACTUR_X)
    spec = attachment_spec(body)
    stream = resolved(spec["/EF"]["/F"])
    catalog_files = reader(body).trailer["/Root"]["/AF"]

    assert stream.get_data() == SAMPLE_XML
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert stream["/Subtype"] == "/text/xml"
    assert stream["/Params"]["/Size"] == len(SAMPLE_XML)
    assert stream["/Params"]["/ModDate"] == "D:20261201000000+00'00'"
    assert [ref.idnum for ref in catalog_files] == [spec.indirect_reference.idnum]


def test_an_xrechnung_attachment_is_declared_as_such() -> None:
    xrechnung = Attachment("xrechnung.xml", SAMPLE_XML, "XRECHNUNG", relationship="Alternative")
    body = render_invoice(invoice(), xrechnung)
    names = reader(body).trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    root = xmp_of(body)

    assert names[0] == "xrechnung.xml"
    assert resolved(names[1])["/AFRelationship"] == "/Alternative"
    assert xmp_value(root, "fx:DocumentFileName") == "xrechnung.xml"
    assert xmp_value(root, "fx:ConformanceLevel") == "XRECHNUNG"


def test_without_an_attachment_the_document_is_pdfa_without_factur_x() -> None:
    body = render_invoice(invoice())
    catalog = reader(body).trailer["/Root"]

    assert xmp_value(xmp_of(body), "pdfaid:part") == "3"
    assert xmp_value(xmp_of(body), "fx:DocumentType") is None
    assert "/AF" not in catalog
    assert "/Names" not in catalog


@pytest.mark.parametrize(
    "attachment",
    [
        {"filename": "invoice.xml", "xml": b"<x/>", "conformance": "EN 16931"},
        {"filename": "factur-x.xml", "xml": b"", "conformance": "EN 16931"},
        {"filename": "factur-x.xml", "xml": b"<x/>", "conformance": "", "relationship": "Nope"},
    ],
)
def test_an_attachment_the_standard_does_not_know_is_refused(attachment: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"attachment|AFRelationship"):
        Attachment(**attachment)


def test_every_font_is_the_embedded_truetype_and_no_core_font_is_used() -> None:
    body = render_invoice(invoice(60), FACTUR_X)

    for page in reader(body).pages:
        used = page["/Resources"]["/Font"]
        for reference in used.values():
            font = resolved(reference)
            assert font["/Subtype"] == "/Type0"
            assert font["/Encoding"] == "/Identity-H"
            assert "/ToUnicode" in font
            descendant = resolved(font["/DescendantFonts"][0])
            assert descendant["/Subtype"] == "/CIDFontType2"
            program = resolved(descendant["/FontDescriptor"]["/FontFile2"])
            assert program["/Length1"] == len(program.get_data())
            assert descendant["/CIDToGIDMap"] == "/Identity"
    assert b"/Type1" not in body
    assert b"Helvetica" not in body


def embedded_program(body: bytes, resource: str) -> bytes:
    font = resolved(reader(body).pages[0]["/Resources"]["/Font"][resource])
    descriptor = resolved(font["/DescendantFonts"][0])["/FontDescriptor"]
    data: bytes = resolved(descriptor["/FontFile2"]).get_data()
    return data


@pytest.mark.parametrize(("resource", "file_name"), [("/F1", REGULAR_FILE), ("/F2", BOLD_FILE)])
def test_font_programs_keep_the_outlines_shown_and_drop_the_others(
    resource: str, file_name: str
) -> None:
    body = render_invoice(invoice(name="Dvořák Łódź"), FACTUR_X)
    data = embedded_program(body, resource)
    cut = TTFont(io.BytesIO(data))
    shipped = TTFont(io.BytesIO(font_bytes(file_name)))
    names = shipped.getBestCmap()

    def outline(font: TTFont, character: str) -> bytes:
        glyf = font["glyf"]
        compiled: bytes = glyf[names[ord(character)]].compile(glyf)
        return compiled

    assert cut.getGlyphOrder() == shipped.getGlyphOrder()
    assert sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF == 0xB1B0AFBA
    shown = "Rechnung" if resource == "/F2" else "Dvořák Łódź €"
    for character in shown:
        assert outline(cut, character) == outline(shipped, character)
        for part in getattr(shipped["glyf"][names[ord(character)]], "components", []):
            kept = cut["glyf"][part.glyphName]
            assert kept.numberOfContours == shipped["glyf"][part.glyphName].numberOfContours
    for character in "ŽŦ¾":
        assert cut["glyf"][names[ord(character)]].numberOfContours == 0


def test_glyph_widths_match_the_font_program() -> None:
    body = render_invoice(invoice())
    font = resolved(reader(body).pages[0]["/Resources"]["/Font"]["/F1"])
    descendant = resolved(font["/DescendantFonts"][0])
    widths = [int(w) for w in descendant["/W"][1]]
    program = TTFont(io.BytesIO(font_bytes(REGULAR_FILE)))
    scale = 1000 / program["head"].unitsPerEm
    metrics = program["hmtx"].metrics

    assert descendant["/W"][0] == 0
    assert widths == [round(metrics[name][0] * scale) for name in program.getGlyphOrder()]


def test_the_output_intent_is_srgb_with_its_icc_profile() -> None:
    catalog = reader(render_invoice(invoice())).trailer["/Root"]
    intents = catalog["/OutputIntents"]
    profile = resolved(resolved(intents[0])["/DestOutputProfile"])

    assert len(intents) == 1
    assert resolved(intents[0])["/S"] == "/GTS_PDFA1"
    assert profile["/N"] == 3
    assert profile.get_data() == (ROOT / "shared" / "data" / "sRGB2014.icc").read_bytes()


def test_nothing_is_transparent_or_encrypted() -> None:
    body = render_invoice(invoice(60), FACTUR_X)
    pdf = reader(body)

    assert not pdf.is_encrypted
    for page in pdf.pages:
        assert "/Group" not in page
        assert "/ExtGState" not in page["/Resources"]
    for needle in (b"/SMask", b"/ca ", b"/CA ", b"/Encrypt", b"/JavaScript"):
        assert needle not in body


def test_the_cross_reference_table_points_at_every_object() -> None:
    body = render_invoice(invoice(60), FACTUR_X)
    start = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    header, *rows = body[start:].split(b"trailer")[0].splitlines()[1:]
    first, count = (int(part) for part in header.split())

    assert body[start:].startswith(b"xref\n")
    assert (first, count) == (0, len(rows))
    for number, row in enumerate(rows[1:], start=1):
        assert len(row) == 19
        offset = int(row[:10])
        assert body[offset:].startswith(b"%d 0 obj\n" % number)


def test_the_document_id_is_fixed_by_the_number() -> None:
    def file_id(body: bytes) -> ArrayObject:
        identifiers: ArrayObject = reader(body).trailer["/ID"]
        return identifiers

    first = file_id(render_invoice(invoice(number=1)))

    assert first[0] == first[1]
    assert len(first[0]) == 16
    assert file_id(render_invoice(invoice(number=1), FACTUR_X)) == first
    assert file_id(render_invoice(invoice(number=2))) != first


# Determinism and the print batch


def test_rendering_twice_gives_the_same_bytes() -> None:
    issued = invoice(60)

    assert render_invoice(issued, FACTUR_X) == render_invoice(issued, FACTUR_X)


def test_rendering_in_another_process_gives_the_same_bytes() -> None:
    script = (
        "import hashlib\n"
        "from tests.unit.test_pdf import FACTUR_X, invoice\n"
        "from shared.invoicing.pdf import render_invoice\n"
        "print(hashlib.sha256(render_invoice(invoice(60), FACTUR_X)).hexdigest())\n"
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

    expected = hashlib.sha256(render_invoice(invoice(60), FACTUR_X)).hexdigest()
    assert done.stdout.strip() == expected


def test_a_font_program_kept_for_one_document_serves_only_the_same_characters() -> None:
    ascii_name = render_invoice(invoice(name="Jonas Klein"))
    polish_name = render_invoice(invoice(name="Łukasz Żółć"))
    writer._font_programs.clear()

    assert render_invoice(invoice(name="Łukasz Żółć")) == polish_name
    assert render_invoice(invoice(name="Jonas Klein")) == ascii_name
    assert len(writer._font_programs) == 3  # the name is regular; the bold headings are shared


def test_font_programs_kept_are_bounded_and_the_oldest_go_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer, "FONT_PROGRAMS_KEPT", 2)
    writer._font_programs.clear()
    first = render_invoice(invoice(name="Anna Xaver"))

    render_invoice(invoice(name="Björn Quast"))
    render_invoice(invoice(name="Zoë Jäger"))

    assert len(writer._font_programs) == 2
    assert render_invoice(invoice(name="Anna Xaver")) == first


def test_another_number_gives_another_document() -> None:
    assert render_invoice(invoice(number=1)) != render_invoice(invoice(number=2))


def test_print_batches_merge_the_rendered_documents() -> None:
    documents = [render_invoice(invoice(60), FACTUR_X), render_invoice(invoice(), FACTUR_X)]

    body, pages = merge_pdfs(documents, title="Druckstapel run-2026-11")

    assert pages == sum(len(reader(document).pages) for document in documents)
    assert "RE-2026-00000042" in reader(body).pages[-1].extract_text()


def content_streams(body: bytes) -> list[bytes]:
    return [page.get_contents().get_data() for page in reader(body).pages]
