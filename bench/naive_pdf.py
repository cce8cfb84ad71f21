"""The invoice as fpdf2 renders it when used the documented way, for the PDF bench to compare with.

Every document adds the TrueType fonts (fpdf2 parses them, and subsets them when writing),
lays out the lines with ``table()``, declares PDF/A-3B through ``enforce_compliance`` and
attaches the XML with ``embed_file``. It shows the same facts as our renderer, not its layout.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from fpdf import FPDF

from shared.invoicing.model import Invoice
from shared.invoicing.pdf import Attachment
from shared.invoicing.pdf.fonts import BOLD_FILE, REGULAR_FILE
from shared.invoicing.pdf.layout import facts, group_label, percent, unit_price
from shared.money import format_eur

FONTS = Path(__file__).resolve().parent.parent / "shared" / "data" / "fonts"


def render_naive(invoice: Invoice, attachment: Attachment) -> bytes:
    pdf = FPDF(format="A4", enforce_compliance="PDF/A-3B")
    pdf.add_font("DejaVu", "", FONTS / REGULAR_FILE)
    pdf.add_font("DejaVu", "B", FONTS / BOLD_FILE)
    issued = datetime.combine(invoice.issue_date, time(), tzinfo=UTC)
    pdf.set_creation_date(issued)
    pdf.set_title(f"{invoice.title} {invoice.number}")
    pdf.set_author(invoice.seller.name)
    pdf.add_page()

    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(text=invoice.seller.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    buyer = invoice.draft.buyer
    address = buyer.address
    for line in (buyer.name, address.street, f"{address.postal_code} {address.city}"):
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    for label, value in facts(invoice):
        pdf.cell(text=f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")

    with pdf.table(col_widths=(10, 77, 14, 24, 14, 26)) as table:
        table.row(["Pos.", "Leistung", "Menge", "Einzelpreis", "USt.", "Netto"])
        for index, item in enumerate(invoice.draft.lines, start=1):
            cells = (item.description, str(item.quantity), unit_price(item.unit_net))
            table.row([str(index), *cells, percent(item.tax_rate), format_eur(item.net)])

    draft = invoice.draft
    totals = [("Summe netto", draft.net)]
    totals += [(f"{group_label(g)} auf {format_eur(g.net)}", g.vat) for g in draft.vat_groups]
    totals.append(("Rechnungsbetrag", draft.gross))
    for label, amount in totals:
        pdf.cell(text=f"{label} {format_eur(amount)}", new_x="LMARGIN", new_y="NEXT")
    seller = invoice.seller
    register = f"{seller.trade_register}, USt-IdNr.: {seller.vat_id}, IBAN {seller.iban}"
    pdf.multi_cell(0, text=register)

    pdf.embed_file(
        bytes=attachment.xml,
        basename=attachment.filename,
        modification_date=issued,
        associated_file_relationship="Data",
        mime_type="text/xml",
        compress=True,
    )
    return bytes(pdf.output())
