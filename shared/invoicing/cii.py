"""An issued document as an EN 16931 e-invoice in UN/CEFACT CII syntax.

Two flavours of the same content: Factur-X/ZUGFeRD 2.x profile EN 16931 ("COMFORT") and the
CII syntax of XRechnung 3.0, which adds the German CIUS rules (BR-DE-*) and Peppol's. No I/O;
the same invoice gives the same bytes. How the rules shaped the mapping:

- Credit notes. A cancellation (Stornorechnung) is stored with every amount negated, so that it
  and the original add up to zero. EN 16931 and ZUGFeRD state a credit note, type code 381,
  with positive amounts: the code says which way the money goes. So a cancellation becomes a 381
  with its signs turned back, and it names the original (BG-3: BT-25 number, BT-26 date). Its
  payment means is 97, clearing between partners: the PDF promises to credit what was paid to
  the customer's account, and a transfer to the seller's IBAN (58) would point the wrong way.
- BR-27: a net price is never negative. A credit line (negative net) carries its sign in the
  quantity, with the price positive.
- PEPPOL-EN16931-R120 (XRechnung): a line's net is its quantity times price per base quantity,
  within two cents. A prorated line is therefore stated in days: quantity = units x service
  days (DAY), price = the cycle price per base quantity = days of the cycle (DAY). The product is
  the rating's exact amount before it was rounded to the cent. Full cycles are units (C62).
- PEPPOL-EN16931-R110/R111: line periods lie inside the invoicing period, so BG-14 runs from the
  earliest line start to the latest line end (a yearly domain reaches far past the month).
- BR-O-02: a document with a line "not subject to VAT" (O) shows no VAT id, neither the seller's
  nor the buyer's; the seller's tax number (BT-32, scheme FC) stands in (§ 14 (4) UStG asks for
  one of the two). No rate is given for O (BR-O-05). BR-O-11: O is the only VAT group there,
  which shared.tax guarantees for buyers outside the EU.
- BR-AE-02: reverse charge shows the seller's VAT id and the buyer's, validated in compose.
- PEPPOL-EN16931-R001: XRechnung names the business process (BT-23), Peppol's billing process.
- BR-DE-2/5/6/7: XRechnung needs a seller contact with name, phone and e-mail; PEPPOL R010/R020
  electronic addresses for both parties, here their e-mail addresses (scheme EM); BR-DE-15 the
  buyer reference (the Leitweg-ID). Missing XRechnung data is an EInvoiceError, not an invalid
  document.
- BR-DE-23 and BR-61: a transfer (58) names the seller's IBAN; a direct debit (59) names the
  mandate (BT-89, PEPPOL R061), the creditor id (BT-90, BR-DE-30) and the debited IBAN (BT-91,
  BR-DE-31). Its payment terms (BT-20) are the pre-notification the SEPA rulebook asks for:
  amount, collection date (the due date), the debtor's masked IBAN, mandate and creditor id.

The element tree is written here directly, element by element in the order of the schema, and
serialized once, compactly. drafthorse, the library that models the whole CII schema, built a
model object for every element the schema allows: a millisecond and more of each invoice,
half of rendering it. The tests compare these bytes with drafthorse's for every kind of
document (tests/unit/cii_oracle.py), check them against drafthorse's XSD, the official XSD and
the official schematron rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Literal
from xml.etree.ElementTree import Element, register_namespace, tostring

from shared.customers import Address
from shared.invoicing.model import Invoice, InvoiceLine, Seller, SepaMandate, VatGroup
from shared.money import format_eur
from shared.payments.iban import masked_iban

Syntax = Literal["factur-x", "xrechnung"]

GUIDELINES: Mapping[Syntax, str] = {
    "factur-x": "urn:cen.eu:en16931:2017",
    "xrechnung": "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
# BT-23, which XRechnung requires (PEPPOL-EN16931-R001): Peppol BIS Billing's process id.
BUSINESS_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE = "380"
CREDIT_NOTE = "381"
NOT_SUBJECT = "O"
UNIT = "C62"
DAY = "DAY"
CREDIT_TRANSFER = "58"
DIRECT_DEBIT = "59"
CLEARING = "97"
XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"
# CII's date format "102": CCYYMMDD.
DATE_FORMAT = "102"

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
for _prefix, _uri in NAMESPACES.items():
    register_namespace(_prefix, _uri)
RSM = "{" + NAMESPACES["rsm"] + "}"
RAM = "{" + NAMESPACES["ram"] + "}"
UDT = "{" + NAMESPACES["udt"] + "}"
QDT = "{" + NAMESPACES["qdt"] + "}"

# An element, or None where it would be empty and is left out.
Node = Element | None


class EInvoiceError(ValueError):
    """A document that cannot be stated in the asked syntax with the data it has."""


def cii_xml(invoice: Invoice, *, syntax: Syntax) -> bytes:
    """Compact XML declaring the namespaces it uses. ElementTree's own declaration, written
    once: serializing to text and encoding the whole is a quarter faster than letting it encode
    every piece."""
    return XML_DECLARATION + tostring(cii_tree(invoice, syntax=syntax), encoding="unicode").encode()


def cii_tree(invoice: Invoice, *, syntax: Syntax) -> Element:
    if syntax == "xrechnung":
        _require_xrechnung_data(invoice)

    sign = -1 if invoice.document_type == "cancellation" else 1
    business = BUSINESS_PROCESS if syntax == "xrechnung" else None
    context = _node(
        RSM + "ExchangedDocumentContext",
        _node(
            RAM + "BusinessProcessSpecifiedDocumentContextParameter", _text(RAM + "ID", business)
        ),
        _node(
            RAM + "GuidelineSpecifiedDocumentContextParameter",
            _text(RAM + "ID", GUIDELINES[syntax]),
            required=True,
        ),
        required=True,
    )
    lines = [_line_item(index, line, sign) for index, line in enumerate(invoice.draft.lines, 1)]
    trade = _node(
        RSM + "SupplyChainTradeTransaction",
        *lines,
        _agreement(invoice),
        _node(RAM + "ApplicableHeaderTradeDelivery", required=True),
        _settlement(invoice, sign),
        required=True,
    )
    return _element(RSM + "CrossIndustryInvoice", context, _header(invoice), trade)


def _element(tag: str, *children: Node) -> Element:
    """An element of the children that are not left out."""
    element = Element(tag)
    element.extend(child for child in children if child is not None)
    return element


def _node(tag: str, *children: Node, required: bool = False) -> Node:
    """An element of the children that are not left out; left out itself when it has none,
    unless the schema requires it."""
    element = _element(tag, *children)
    return element if required or len(element) else None


def _text(tag: str, value: str | Decimal | None, **attributes: str) -> Node:
    """A simple element; left out without a value."""
    if value is None or value == "":
        return None
    element = Element(tag, attributes)
    element.text = str(value)
    return element


def _date(tag: str, value: date | None, *, qualified: bool = False) -> Node:
    if value is None:
        return None
    string = _text(
        (QDT if qualified else UDT) + "DateTimeString", f"{value:%Y%m%d}", format=DATE_FORMAT
    )
    return _node(tag, string)


def _period(start: date, end: date) -> Node:
    return _node(
        RAM + "BillingSpecifiedPeriod",
        _date(RAM + "StartDateTime", start),
        _date(RAM + "EndDateTime", end),
    )


def _note(text: str) -> Node:
    return _node(RAM + "IncludedNote", _text(RAM + "Content", text))


def _require_xrechnung_data(invoice: Invoice) -> None:
    seller = invoice.seller
    required = {
        "buyer reference (BT-10, BR-DE-15)": invoice.draft.buyer.buyer_reference,
        "seller contact (BT-41, BR-DE-5)": seller.contact,
        "seller phone (BT-42, BR-DE-6)": seller.phone,
    }
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise EInvoiceError(f"{invoice.number} lacks for XRechnung: {', '.join(missing)}")


def _signed(amount: Decimal, sign: int) -> Decimal:
    """The amount as the document states it; adding zero turns a negated 0.00 into 0.00."""
    return (-amount if sign < 0 else amount) + 0


def _not_subject(invoice: Invoice) -> bool:
    return any(group.category_code == NOT_SUBJECT for group in invoice.draft.vat_groups)


def _header(invoice: Invoice) -> Node:
    return _node(
        RSM + "ExchangedDocument",
        _text(RAM + "ID", invoice.number),
        _text(
            RAM + "TypeCode", CREDIT_NOTE if invoice.document_type == "cancellation" else INVOICE
        ),
        _date(RAM + "IssueDateTime", invoice.issue_date),
        *(_note(text) for text in _notes(invoice)),
        required=True,
    )


def _notes(invoice: Invoice) -> Iterator[str]:
    correction = invoice.correction
    if correction is not None:
        yield (
            f"Stornorechnung zur Rechnung {correction.refers_to} vom "
            f"{correction.refers_to_date:%d.%m.%Y}: {correction.reason}"
        )
    yield from invoice.draft.notes


def _line_item(index: int, line: InvoiceLine, sign: int) -> Node:
    note = f"Anteilig {line.service_days} von {line.cycle_days} Tagen" if line.prorated else None
    net = _signed(line.net, sign)
    quantity, unit = _billed_quantity(line)
    basis = Decimal(line.cycle_days or 1) if unit == DAY else None
    rate = line.tax_rate if line.tax_code != NOT_SUBJECT else None
    return _node(
        RAM + "IncludedSupplyChainTradeLineItem",
        _node(
            RAM + "AssociatedDocumentLineDocument",
            _text(RAM + "LineID", str(index)),
            _note(note) if note else None,
            required=True,
        ),
        _node(RAM + "SpecifiedTradeProduct", _text(RAM + "Name", line.description)),
        _node(
            RAM + "SpecifiedLineTradeAgreement",
            _node(
                RAM + "NetPriceProductTradePrice",
                _text(RAM + "ChargeAmount", abs(line.unit_net)),
                _text(RAM + "BasisQuantity", basis, unitCode=DAY),
            ),
        ),
        _node(
            RAM + "SpecifiedLineTradeDelivery",
            _text(RAM + "BilledQuantity", -quantity if net < 0 else quantity, unitCode=unit),
        ),
        _node(
            RAM + "SpecifiedLineTradeSettlement",
            _node(
                RAM + "ApplicableTradeTax",
                _text(RAM + "TypeCode", "VAT"),
                _text(RAM + "CategoryCode", line.tax_code),
                _text(RAM + "RateApplicablePercent", rate),
            ),
            _period(line.service_start, line.service_end),
            _node(
                RAM + "SpecifiedTradeSettlementLineMonetarySummation",
                _text(RAM + "LineTotalAmount", net),
            ),
            required=True,
        ),
    )


def _billed_quantity(line: InvoiceLine) -> tuple[Decimal, str]:
    """Units for a whole cycle; unit-days for a prorated one (the price is per cycle)."""
    units = abs(line.quantity)
    if line.prorated and line.service_days is not None:
        return Decimal(units * line.service_days), DAY
    return Decimal(units), UNIT


def _agreement(invoice: Invoice) -> Node:
    return _node(
        RAM + "ApplicableHeaderTradeAgreement",
        _text(RAM + "BuyerReference", invoice.draft.buyer.buyer_reference),
        _seller(invoice),
        _buyer(invoice),
        required=True,
    )


def _seller(invoice: Invoice) -> Node:
    seller = invoice.seller
    return _node(
        RAM + "SellerTradeParty",
        _text(RAM + "Name", seller.name),
        _text(
            RAM + "Description",
            f"Geschäftsführung: {seller.managing_director}, {seller.trade_register}",
        ),
        _node(RAM + "SpecifiedLegalOrganization", _text(RAM + "ID", seller.trade_register)),
        _contact(seller),
        _address(seller.address),
        _electronic_address(seller.email),
        *(_tax_registration(scheme, identifier) for scheme, identifier in _seller_tax_ids(invoice)),
        required=True,
    )


def _contact(seller: Seller) -> Node:
    return _node(
        RAM + "DefinedTradeContact",
        _text(RAM + "DepartmentName", seller.contact),
        _node(RAM + "TelephoneUniversalCommunication", _text(RAM + "CompleteNumber", seller.phone)),
        _node(RAM + "EmailURIUniversalCommunication", _text(RAM + "URIID", seller.email)),
    )


def _electronic_address(email: str) -> Node:
    return _node(RAM + "URIUniversalCommunication", _text(RAM + "URIID", email, schemeID="EM"))


def _tax_registration(scheme: str, identifier: str) -> Node:
    return _node(RAM + "SpecifiedTaxRegistration", _text(RAM + "ID", identifier, schemeID=scheme))


def _seller_tax_ids(invoice: Invoice) -> list[tuple[str, str]]:
    """The VAT id, or for a document not subject to German VAT the tax number (BR-O-02)."""
    tax_number = invoice.seller.tax_number
    if not _not_subject(invoice):
        return [("VA", invoice.seller.vat_id)]
    return [("FC", tax_number)] if tax_number else []


def _buyer(invoice: Invoice) -> Node:
    buyer = invoice.draft.buyer
    vat_id = _buyer_vat_id(invoice)
    return _node(
        RAM + "BuyerTradeParty",
        _text(RAM + "ID", buyer.customer_id),
        _text(RAM + "Name", buyer.name),
        _address(buyer.address),
        _electronic_address(buyer.email),
        _tax_registration("VA", vat_id) if vat_id is not None else None,
        required=True,
    )


def _buyer_vat_id(invoice: Invoice) -> str | None:
    """A business buyer's VAT id in compact form, when it has a country prefix (BR-CO-09)."""
    buyer = invoice.draft.buyer
    if buyer.kind != "business" or not buyer.vat_id or _not_subject(invoice):
        return None
    compact = "".join(c for c in buyer.vat_id.upper() if c.isalnum())
    return compact if compact[:2].isalpha() else None


def _address(address: Address) -> Node:
    return _node(
        RAM + "PostalTradeAddress",
        _text(RAM + "PostcodeCode", address.postal_code),
        _text(RAM + "LineOne", address.street),
        _text(RAM + "CityName", address.city),
        _text(RAM + "CountryID", address.country),
    )


def _settlement(invoice: Invoice, sign: int) -> Node:
    draft = invoice.draft
    creditor_id = _creditor_id(invoice) if _direct_debit(invoice) else None
    starts = (line.service_start for line in draft.lines)
    ends = (line.service_end for line in draft.lines)
    return _node(
        RAM + "ApplicableHeaderTradeSettlement",
        _text(RAM + "CreditorReferenceID", creditor_id),
        _text(RAM + "InvoiceCurrencyCode", invoice.currency),
        _payment_means(invoice),
        *(_vat_breakdown(group, sign) for group in draft.vat_groups),
        _period(min(starts), max(ends)),
        _payment_terms(invoice),
        _totals(invoice, sign),
        _original(invoice),
        required=True,
    )


def _direct_debit(invoice: Invoice) -> bool:
    return invoice.document_type == "invoice" and invoice.draft.buyer.mandate is not None


def _creditor_id(invoice: Invoice) -> str:
    creditor_id = invoice.seller.creditor_id
    if not creditor_id:
        raise EInvoiceError(f"{invoice.number} is a direct debit but the seller has no creditor id")
    return creditor_id


def _payment_means(invoice: Invoice) -> Node:
    mandate = invoice.draft.buyer.mandate
    if invoice.document_type == "cancellation":
        return _means(CLEARING, "Gutschrift auf dem Kundenkonto")
    if mandate is not None:
        payer = _node(RAM + "PayerPartyDebtorFinancialAccount", _text(RAM + "IBANID", mandate.iban))
        return _means(DIRECT_DEBIT, "SEPA-Lastschrift", payer)
    return _means(
        CREDIT_TRANSFER,
        "SEPA-Überweisung",
        _node(
            RAM + "PayeePartyCreditorFinancialAccount", _text(RAM + "IBANID", invoice.seller.iban)
        ),
        _node(
            RAM + "PayeeSpecifiedCreditorFinancialInstitution",
            _text(RAM + "BICID", invoice.seller.bic),
        ),
    )


def _means(type_code: str, information: str, *accounts: Node) -> Node:
    return _node(
        RAM + "SpecifiedTradeSettlementPaymentMeans",
        _text(RAM + "TypeCode", type_code),
        _text(RAM + "Information", information),
        *accounts,
    )


def _payment_terms(invoice: Invoice) -> Node:
    mandate = invoice.draft.buyer.mandate
    due = invoice.due_date if invoice.document_type == "invoice" else None
    mandate_id = mandate.reference if due is not None and mandate is not None else None
    return _node(
        RAM + "SpecifiedTradePaymentTerms",
        _text(RAM + "Description", _payment_terms_text(invoice)),
        _date(RAM + "DueDateDateTime", due),
        _text(RAM + "DirectDebitMandateID", mandate_id),
    )


def _payment_terms_text(invoice: Invoice) -> str:
    if invoice.correction is not None:
        return (
            f"Diese Stornorechnung hebt die Rechnung {invoice.correction.refers_to} auf. "
            "Bereits gezahlte Beträge schreiben wir Ihrem Kundenkonto gut."
        )
    mandate = invoice.draft.buyer.mandate
    if _direct_debit(invoice) and mandate is not None:
        return _pre_notification(invoice, mandate)
    return (
        f"Zahlbar ohne Abzug bis zum {invoice.due_date:%d.%m.%Y} unter Angabe der "
        f"Rechnungsnummer {invoice.number}."
    )


def _pre_notification(invoice: Invoice, mandate: SepaMandate) -> str:
    """What the SEPA rulebook asks the creditor to tell the debtor before a collection."""
    return (
        f"Den Rechnungsbetrag von {format_eur(invoice.draft.gross)} ziehen wir am "
        f"{invoice.due_date:%d.%m.%Y} per SEPA-Basislastschrift von Ihrem Konto IBAN "
        f"{masked_iban(mandate.iban)} ein. Mandatsreferenz: {mandate.reference}, "
        f"Gläubiger-Identifikationsnummer: {_creditor_id(invoice)}."
    )


def _vat_breakdown(group: VatGroup, sign: int) -> Node:
    return _node(
        RAM + "ApplicableTradeTax",
        _text(RAM + "CalculatedAmount", _signed(group.vat, sign)),
        _text(RAM + "TypeCode", "VAT"),
        _text(RAM + "ExemptionReason", group.exemption_reason),
        _text(RAM + "BasisAmount", _signed(group.net, sign)),
        _text(RAM + "CategoryCode", group.category_code),
        _text(RAM + "ExemptionReasonCode", group.exemption_reason_code),
        _text(
            RAM + "RateApplicablePercent",
            group.rate if group.category_code != NOT_SUBJECT else None,
        ),
    )


def _totals(invoice: Invoice, sign: int) -> Node:
    draft = invoice.draft
    return _node(
        RAM + "SpecifiedTradeSettlementHeaderMonetarySummation",
        _text(RAM + "LineTotalAmount", _signed(draft.net, sign)),
        _text(RAM + "TaxBasisTotalAmount", _signed(draft.net, sign)),
        _text(RAM + "TaxTotalAmount", _signed(draft.vat, sign), currencyID=invoice.currency),
        _text(RAM + "GrandTotalAmount", _signed(draft.gross, sign)),
        _text(RAM + "DuePayableAmount", _signed(draft.gross, sign)),
        required=True,
    )


def _original(invoice: Invoice) -> Node:
    """The document a cancellation cancels (BG-3)."""
    correction = invoice.correction
    if correction is None:
        return None
    return _node(
        RAM + "InvoiceReferencedDocument",
        _text(RAM + "IssuerAssignedID", correction.refers_to),
        _date(RAM + "FormattedIssueDateTime", correction.refers_to_date, qualified=True),
    )
