"""Renders an issued invoice as a PDF with fpdf2: the layout finance and customers expect."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time
from decimal import Decimal

from fpdf import FPDF

from shared.invoicing.model import Invoice, InvoiceLine, VatGroup
from shared.money import format_eur
from shared.periods import Period

FONT = "Helvetica"
LEFT = 20
WIDTH = 170
COLUMNS = (
    (12, "Pos."),
    (76, "Leistung"),
    (14, "Menge"),
    (26, "Einzelpreis"),
    (14, "USt."),
    (28, "Netto"),
)


def render_invoice(invoice: Invoice) -> bytes:
    pdf = _document(invoice)
    _letterhead(pdf, invoice)
    _addresses(pdf, invoice)
    _facts(pdf, invoice)
    _lines(pdf, invoice)
    _totals(pdf, invoice)
    _payment(pdf, invoice)
    return bytes(pdf.output())


_NO_DECOMPOSITION = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Œ": "OE",
        "œ": "oe",
        "Ħ": "H",
        "ħ": "h",
        "€": "EUR",
        "\u0131": "i",  # dotless i
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u201a": "'",  # low single quote
        "\u2018": "'",
        "\u2019": "'",
        "\u201e": '"',
        "\u201c": '"',
        "\u201d": '"',
    }
)


def plain(text: str) -> str:
    """Text in the core font's Latin-1, letter by letter: Latin-1 letters stay as they are,
    others lose their accents ("Dvořák" becomes "Dvorák") and unknown signs become "?"."""
    if _fits_latin1(text):
        return text

    return "".join(_latin1_letter(c) for c in text.translate(_NO_DECOMPOSITION))


def _latin1_letter(character: str) -> str:
    if _fits_latin1(character):
        return character

    base = "".join(
        c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c)
    )
    return base if base and _fits_latin1(base) else "?"


def _fits_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _eur(amount: Decimal) -> str:
    return format_eur(amount).replace("€", "EUR")


def _unit_price(amount: Decimal) -> str:
    """Unit prices keep up to four decimals, so quantity times price is what the line shows."""
    if amount == amount.quantize(Decimal("0.01")):
        return _eur(amount)

    whole, _, fraction = f"{amount.normalize():f}".partition(".")
    return f"{int(whole):,}".replace(",", ".") + "," + fraction + " EUR"


def _percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %".replace(".", ",")


def _document(invoice: Invoice) -> FPDF:
    pdf = _InvoicePdf(invoice)
    pdf.set_creation_date(datetime.combine(invoice.issue_date, time(), tzinfo=UTC))
    pdf.set_title(f"{invoice.title} {invoice.number}")
    pdf.set_author(plain(invoice.seller.name))
    pdf.set_margins(LEFT, 20, LEFT)
    pdf.set_auto_page_break(auto=True, margin=32)
    pdf.add_page()
    return pdf


class _InvoicePdf(FPDF):
    def __init__(self, invoice: Invoice) -> None:
        super().__init__(format="A4")
        self._invoice = invoice

    def footer(self) -> None:
        seller = self._invoice.seller
        self.set_y(-26)
        self.set_font(FONT, size=7)
        self.set_text_color(90)
        lines = (
            f"{seller.name} - {seller.address.street} - {seller.address.postal_code} "
            f"{seller.address.city}",
            f"{seller.trade_register} - Geschäftsführung: {seller.managing_director} - "
            f"USt-IdNr.: {seller.vat_id}",
            f"IBAN {seller.iban} - BIC {seller.bic} - {seller.email} - Seite {self.page_no()}",
        )
        for line in lines:
            self.cell(WIDTH, 3.5, plain(line), align="C", new_x="LMARGIN", new_y="NEXT")


def _letterhead(pdf: FPDF, invoice: Invoice) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.cell(WIDTH, 8, plain(invoice.seller.name), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    address = invoice.seller.address
    sender = f"{invoice.seller.name} - {address.street} - {address.postal_code} {address.city}"
    pdf.set_y(45)
    pdf.cell(WIDTH, 4, plain(sender), new_x="LMARGIN", new_y="NEXT")


def _addresses(pdf: FPDF, invoice: Invoice) -> None:
    buyer = invoice.draft.buyer
    pdf.set_font(FONT, size=10)
    lines = [buyer.name, buyer.address.street, f"{buyer.address.postal_code} {buyer.address.city}"]
    if buyer.address.country != "DE":
        lines.append(buyer.address.country)
    for line in lines:
        pdf.cell(90, 5, plain(line), new_x="LMARGIN", new_y="NEXT")


def _facts(pdf: FPDF, invoice: Invoice) -> None:
    draft = invoice.draft
    pdf.set_y(80)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(WIDTH, 8, f"{invoice.title} {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    facts = [
        ("Rechnungsdatum", invoice.issue_date.strftime("%d.%m.%Y")),
        ("Kundennummer", draft.buyer.customer_id),
        ("Leistungszeitraum", _service_period(draft.lines)),
        ("Fällig am", invoice.due_date.strftime("%d.%m.%Y")),
    ]
    if draft.buyer.vat_id:
        facts.append(("Ihre USt-IdNr.", draft.buyer.vat_id))
    if invoice.correction is not None:
        original = invoice.correction
        facts.insert(
            1,
            ("Storno zu", f"Rechnung {original.refers_to} vom {original.refers_to_date:%d.%m.%Y}"),
        )
        facts.append(("Grund", original.reason))
    for label, value in facts:
        pdf.cell(40, 5, plain(label))
        pdf.cell(80, 5, plain(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _service_period(lines: tuple[InvoiceLine, ...]) -> str:
    start = min(line.service_start for line in lines)
    end = max(line.service_end for line in lines)
    return f"{start:%d.%m.%Y} - {end:%d.%m.%Y}"


def _lines(pdf: FPDF, invoice: Invoice) -> None:
    lines = invoice.draft.lines
    month = Period.parse(invoice.draft.period)
    _line_header(pdf)
    pdf.set_font(FONT, size=9)
    for index, line in enumerate(lines, start=1):
        if pdf.will_page_break(9):
            pdf.add_page()
            _line_header(pdf)
            pdf.set_font(FONT, size=9)
        values = (
            str(index),
            plain(line.description),
            str(line.quantity),
            _unit_price(line.unit_net),
            _tax_column(line),
            _eur(line.net),
        )
        _row(pdf, values)
        if (line.service_start, line.service_end) != (month.start, month.end):
            _service_row(pdf, line)


def _tax_column(line: InvoiceLine) -> str:
    return _percent(line.tax_rate) if line.tax_code == "S" else line.tax_code


def _service_row(pdf: FPDF, line: InvoiceLine) -> None:
    """The line's own service period, and the share of the cycle when it is prorated."""
    text = f"Leistungszeitraum {line.service_start:%d.%m.%Y} - {line.service_end:%d.%m.%Y}"
    if line.prorated:
        text += f", anteilig {line.service_days} von {line.cycle_days} Tagen"
    pdf.set_font(FONT, size=7)
    pdf.cell(COLUMNS[0][0], 3.5, "")
    pdf.cell(WIDTH - COLUMNS[0][0], 3.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)


def _line_header(pdf: FPDF) -> None:
    pdf.set_font(FONT, "B", 9)
    pdf.set_fill_color(235)
    _row(pdf, tuple(title for _, title in COLUMNS), fill=True)


def _row(pdf: FPDF, values: tuple[str, ...], *, fill: bool = False) -> None:
    for (width, _), value, align in zip(COLUMNS, values, "LLRRRR", strict=True):
        pdf.cell(width, 5, _clip(pdf, value, width), align=align, fill=fill)
    pdf.ln(5)


def _clip(pdf: FPDF, text: str, width: float) -> str:
    while text and pdf.get_string_width(text) > width - 2:
        text = text[:-1]
    return text


def _totals(pdf: FPDF, invoice: Invoice) -> None:
    draft = invoice.draft
    pdf.ln(2)
    pdf.set_font(FONT, size=9)
    _total_row(pdf, "Summe netto", draft.net)
    for group in draft.vat_groups:
        _total_row(pdf, f"{_group_label(group)} auf {_eur(group.net)}", group.vat)
    pdf.set_font(FONT, "B", 10)
    _total_row(pdf, "Rechnungsbetrag", draft.gross)
    _notes(pdf, draft.notes)


_GROUP_LABELS = {
    "AE": "Steuerschuldnerschaft des Leistungsempfängers (AE)",
    "O": "Nicht steuerbar (O)",
    "E": "Steuerfrei (E)",
}


def _group_label(group: VatGroup) -> str:
    if group.category_code == "S":
        return f"USt. {_percent(group.rate)}"
    return _GROUP_LABELS.get(group.category_code, group.category_code)


def _notes(pdf: FPDF, notes: tuple[str, ...]) -> None:
    """Legal notes of the VAT treatment: reverse charge, not subject, exemption."""
    if not notes:
        return
    pdf.ln(2)
    pdf.set_font(FONT, size=8)
    for note in notes:
        pdf.cell(WIDTH, 4, _clip(pdf, plain(note), WIDTH + 2), new_x="LMARGIN", new_y="NEXT")


def _total_row(pdf: FPDF, label: str, amount: Decimal) -> None:
    pdf.cell(WIDTH - 28, 5, label, align="R")
    pdf.cell(28, 5, _eur(amount), align="R", new_x="LMARGIN", new_y="NEXT")


def _payment(pdf: FPDF, invoice: Invoice) -> None:
    """Short fixed lines: fpdf2's automatic line breaking costs more than the rest of a page."""
    pdf.ln(6)
    pdf.set_font(FONT, size=9)
    if invoice.correction is not None:
        lines = [
            f"Diese Stornorechnung hebt die Rechnung {invoice.correction.refers_to} auf.",
            "Bereits gezahlte Beträge schreiben wir Ihrem Kundenkonto gut.",
        ]
    else:
        lines = [
            f"Bitte überweisen Sie den Rechnungsbetrag bis zum {invoice.due_date:%d.%m.%Y} auf "
            f"das Konto IBAN {invoice.seller.iban}",
            f"(BIC {invoice.seller.bic}) unter Angabe der Rechnungsnummer {invoice.number}.",
        ]
    for line in lines:
        pdf.cell(WIDTH, 4.5, plain(line), new_x="LMARGIN", new_y="NEXT")
