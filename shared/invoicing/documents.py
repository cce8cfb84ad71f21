"""The files an issued document is archived as: its PDF/A-3b and, where asked for, its XML.

Factur-X and embedded-XRechnung customers get one PDF with the CII XML inside; customers who
take the XRechnung as XML alone get that XML as a file of its own, beside a PDF without an
attachment for people to read. The XML is the legally binding part in both cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.invoicing.einvoice import einvoice_for
from shared.invoicing.model import Invoice
from shared.invoicing.pdf import Attachment, DirectDebit, render_invoice

XML_SUFFIX = ".xml"


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    pdf: bytes
    # The XRechnung on its own, for customers who asked for the XML alone.
    xml: bytes | None = None


def render_document(invoice: Invoice) -> RenderedDocument:
    """Raises EInvoiceError where the e-invoice lacks data its rules require."""
    einvoice = einvoice_for(invoice)
    direct_debit = direct_debit_of(invoice)
    if not einvoice.embedded:
        return RenderedDocument(render_invoice(invoice, direct_debit=direct_debit), einvoice.xml)

    attachment = Attachment(einvoice.filename, einvoice.xml, einvoice.conformance)
    return RenderedDocument(render_invoice(invoice, attachment, direct_debit=direct_debit))


def direct_debit_of(invoice: Invoice) -> DirectDebit | None:
    mandate = invoice.draft.buyer.mandate
    creditor_id = invoice.seller.creditor_id
    if mandate is None or creditor_id is None or invoice.document_type != "invoice":
        return None
    return DirectDebit(mandate.reference, creditor_id, mandate.iban)


def xml_key(pdf_key: str) -> str:
    """Where the XML of a document that has one of its own lies, beside its PDF."""
    return pdf_key.removesuffix(".pdf") + XML_SUFFIX
