"""Invoices and cancellations as PDF/A-3b documents with the e-invoice XML attached.

``render_invoice(invoice, attachment)`` lays the invoice out (``layout``), draws each page with
the two embedded DejaVu fonts (``canvas``, ``fonts``) and writes the file with the XMP metadata
(``xmp``) and the attachment (``writer``). The same invoice gives the same bytes: dates come
from the issue date and the document ID from the number, never from the clock.

Why a writer of our own and not fpdf2 (measured on one core of the 2 vCPU build machine, a
typical five-line invoice, median of repeated renders):

* the renderer this replaces (fpdf2 2.8.9, core font Helvetica, no font embedded, not PDF/A):
  4.4 ms, of which 65 ``cell()`` calls are two thirds and ``output()`` about 1 ms;
* fpdf2 as the documentation suggests (``add_font`` per document, ``table()``, PDF/A-3B through
  ``enforce_compliance``, ``embed_file``): 125 ms for a short page with the full DejaVu Sans,
  42.6 ms with the Latin subset shipped here, 55 to 75 ms for the whole invoice (``bench``);
  in the profile ``add_font`` parses the TTF files, ``output`` subsets and recompiles them with
  fontTools, and ``table()`` breaks lines;
* today's layout with the subset font embedded: adding the fonts 6.3 ms, the ``cell()`` calls
  alone 4.9 ms, ``output()`` 22.9 ms: the layout alone misses the 4 ms target;
* the best case fpdf2 allows without rewriting it: fonts parsed once and cloned into each
  document, per-document subsetting patched out, ``text()`` at 11 µs a call instead of
  ``cell()`` at 55 µs: layout 1.4 ms, ``output()`` still 14 ms, most of it compressing the font
  programs and the 128 KiB CIDToGIDMap fpdf2 builds per font and document, all inside the
  private ``OutputProducer._add_fonts``. Reaching 4 ms meant replacing that method and fpdf2's
  text path: everything but its object serializer, pinned to its internals.

This writer serializes what every document shares (font dictionaries with widths and ToUnicode
maps, ICC profile, output intent) once per process. Per document it draws about a hundred text
runs (0.5 to 0.6 ms, glyph ids and widths from dictionaries built once), cuts each font program
to the glyphs shown and deflates only the part that is the document's own (``truetype``), then
deflates the page contents and the XML (0.9 ms for all of that): about 1.5 ms and 32 KB for the
typical invoice. Embedding the two programs whole had been 0.9 ms but 49.5 KB; cutting them and
deflating each whole cut program per document 2 ms. The first document of a process also pays
about 0.25 s for fontTools and the fonts (the old renderer's ``import fpdf`` alone took 1.3 s).
``make bench`` (``pdf render``) prints the current figures next to fpdf2 used the documented way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.invoicing.model import Invoice
from shared.invoicing.pdf import layout, xmp
from shared.invoicing.pdf.layout import DirectDebit
from shared.invoicing.pdf.writer import DocumentInfo, EmbeddedXml, write_pdf

__all__ = ["Attachment", "DirectDebit", "render_invoice"]

ATTACHMENT_NAMES = ("factur-x.xml", "xrechnung.xml")
RELATIONSHIPS = ("Data", "Alternative", "Source")
CREATOR = "mass-billing"


@dataclass(frozen=True)
class Attachment:
    """The e-invoice XML to embed: its file name, its bytes and its Factur-X conformance level
    (``fx:ConformanceLevel``, such as "EN 16931" or "XRECHNUNG")."""

    filename: str
    xml: bytes
    conformance: str
    relationship: str = "Data"

    def __post_init__(self) -> None:
        if self.filename not in ATTACHMENT_NAMES:
            raise ValueError(f"attachment must be named one of {ATTACHMENT_NAMES}")
        if self.relationship not in RELATIONSHIPS:
            raise ValueError(f"AFRelationship must be one of {RELATIONSHIPS}")
        if not self.xml:
            raise ValueError("the attachment has no XML")


def render_invoice(
    invoice: Invoice,
    attachment: Attachment | None = None,
    *,
    direct_debit: DirectDebit | None = None,
) -> bytes:
    info = document_info(invoice)
    factur_x = xmp.FacturX(attachment.filename, attachment.conformance) if attachment else None
    embedded = embedded_xml(invoice, attachment) if attachment else None
    pages = layout.pages(invoice, direct_debit)
    return write_pdf(pages, info, xmp.packet(info, factur_x), embedded)


def document_info(invoice: Invoice) -> DocumentInfo:
    label = f"{invoice.title} {invoice.number}"
    return DocumentInfo(
        title=label,
        author=invoice.seller.name,
        subject=f"{label}, Kundennummer {invoice.customer_id}",
        creator=CREATOR,
        created=invoice.issue_date,
        file_id=document_id(invoice),
    )


def document_id(invoice: Invoice) -> bytes:
    """The trailer /ID: the same for every rendering of a document, another for each number."""
    key = f"{invoice.document_type}:{invoice.number}:{invoice.issue_date.isoformat()}"
    return hashlib.sha256(key.encode()).digest()[:16]


def embedded_xml(invoice: Invoice, attachment: Attachment) -> EmbeddedXml:
    return EmbeddedXml(
        filename=attachment.filename,
        data=attachment.xml,
        description=f"E-Rechnung zu {invoice.title} {invoice.number}",
        relationship=attachment.relationship,
        modified=invoice.issue_date,
    )
