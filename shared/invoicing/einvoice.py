"""Which e-invoice an issued document gets, as the customer chose it (Customer.einvoice).

Factur-X customers get a PDF with the CII XML embedded as factur-x.xml; XRechnung customers get
xrechnung.xml, embedded in the PDF or on its own. `conformance` is the level the PDF's Factur-X
metadata declares for the attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.invoicing.cii import cii_xml
from shared.invoicing.model import Invoice


@dataclass(frozen=True, slots=True)
class EInvoice:
    filename: Literal["factur-x.xml", "xrechnung.xml"]
    xml: bytes
    embedded: bool
    conformance: Literal["EN 16931", "XRECHNUNG"]


def einvoice_for(invoice: Invoice) -> EInvoice:
    """Raises EInvoiceError where an XRechnung lacks data the German rules require."""
    choice = invoice.draft.buyer.einvoice
    if choice == "factur-x":
        xml = cii_xml(invoice, syntax="factur-x")
        return EInvoice("factur-x.xml", xml, embedded=True, conformance="EN 16931")

    xml = cii_xml(invoice, syntax="xrechnung")
    embedded = choice == "xrechnung-embedded"
    return EInvoice("xrechnung.xml", xml, embedded=embedded, conformance="XRECHNUNG")
