"""An issued document as an EN 16931 e-invoice in UN/CEFACT CII syntax, built with drafthorse.

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

drafthorse checks its Factur-X XSD on `serialize(schema=...)`, loading the schema each time: for
a five-line invoice serializing took 3.2 ms with the check, 1.9 ms without, and 0.7 ms when the
element tree drafthorse builds is written once, compactly (building the document 0.8 ms more).
Production does the last; the tests check every document against drafthorse's XSD and the
official XSD and schematron.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from xml.etree import ElementTree

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

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


class EInvoiceError(ValueError):
    """A document that cannot be stated in the asked syntax with the data it has."""


def cii_xml(invoice: Invoice, *, syntax: Syntax) -> bytes:
    """Compact XML declaring the namespaces it uses; drafthorse's own ``serialize`` parses its
    output again to pretty-print it and declare unused namespaces, twice the time."""
    root = cii_document(invoice, syntax=syntax).to_etree()
    # ElementTree's own declaration, written once: serializing to text and encoding the whole
    # is a quarter faster than letting it encode every piece.
    return XML_DECLARATION + ElementTree.tostring(root, encoding="unicode").encode()


def cii_document(invoice: Invoice, *, syntax: Syntax) -> Any:
    """The drafthorse document, for a caller that serializes it with drafthorse's XSD check."""
    if syntax == "xrechnung":
        _require_xrechnung_data(invoice)

    sign = -1 if invoice.document_type == "cancellation" else 1
    document = Document()
    document.context.guideline_parameter.id = GUIDELINES[syntax]
    if syntax == "xrechnung":
        document.context.business_parameter.id = BUSINESS_PROCESS
    _header(document.header, invoice)
    for index, line in enumerate(invoice.draft.lines, start=1):
        document.trade.items.add(_line_item(index, line, sign))
    _agreement(document.trade.agreement, invoice)
    _settlement(document.trade.settlement, invoice, sign)
    return document


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


def _header(header: Any, invoice: Invoice) -> None:
    header.id = invoice.number
    header.type_code = CREDIT_NOTE if invoice.document_type == "cancellation" else INVOICE
    header.issue_date_time = invoice.issue_date
    for text in _notes(invoice):
        header.notes.add(IncludedNote(content=text))


def _notes(invoice: Invoice) -> Iterator[str]:
    correction = invoice.correction
    if correction is not None:
        yield (
            f"Stornorechnung zur Rechnung {correction.refers_to} vom "
            f"{correction.refers_to_date:%d.%m.%Y}: {correction.reason}"
        )
    yield from invoice.draft.notes


def _line_item(index: int, line: InvoiceLine, sign: int) -> Any:
    item = LineItem()
    item.document.line_id = str(index)
    if line.prorated:
        note = f"Anteilig {line.service_days} von {line.cycle_days} Tagen"
        item.document.notes.add(IncludedNote(content=note))
    item.product.name = line.description

    net = _signed(line.net, sign)
    quantity, unit = _billed_quantity(line)
    item.agreement.net.amount = abs(line.unit_net)
    if unit == DAY:
        item.agreement.net.basis_quantity = (Decimal(line.cycle_days or 1), DAY)
    item.delivery.billed_quantity = (-quantity if net < 0 else quantity, unit)

    tax = item.settlement.trade_tax
    tax.type_code = "VAT"
    tax.category_code = line.tax_code
    if line.tax_code != NOT_SUBJECT:
        tax.rate_applicable_percent = line.tax_rate
    _period(item.settlement.period, line.service_start, line.service_end)
    item.settlement.monetary_summation.total_amount = net
    return item


def _billed_quantity(line: InvoiceLine) -> tuple[Decimal, str]:
    """Units for a whole cycle; unit-days for a prorated one (the price is per cycle)."""
    units = abs(line.quantity)
    if line.prorated and line.service_days is not None:
        return Decimal(units * line.service_days), DAY
    return Decimal(units), UNIT


def _period(period: Any, start: date, end: date) -> None:
    period.start = start
    period.end = end


def _agreement(agreement: Any, invoice: Invoice) -> None:
    buyer = invoice.draft.buyer
    if buyer.buyer_reference:
        agreement.buyer_reference = buyer.buyer_reference
    _seller(agreement.seller, invoice)
    _buyer(agreement.buyer, invoice)


def _seller(party: Any, invoice: Invoice) -> None:
    seller = invoice.seller
    party.name = seller.name
    party.description = f"Geschäftsführung: {seller.managing_director}, {seller.trade_register}"
    party.legal_organization.id = seller.trade_register
    _contact(party.contact, seller)
    _address(party.address, seller.address)
    party.electronic_address.uri_ID = ("EM", seller.email)
    for scheme, identifier in _seller_tax_ids(invoice):
        party.tax_registrations.add(TaxRegistration(id=(scheme, identifier)))


def _contact(contact: Any, seller: Seller) -> None:
    if seller.contact:
        contact.department_name = seller.contact
    if seller.phone:
        contact.telephone.number = seller.phone
    contact.email.address = seller.email


def _seller_tax_ids(invoice: Invoice) -> list[tuple[str, str]]:
    """The VAT id, or for a document not subject to German VAT the tax number (BR-O-02)."""
    tax_number = invoice.seller.tax_number
    if not _not_subject(invoice):
        return [("VA", invoice.seller.vat_id)]
    return [("FC", tax_number)] if tax_number else []


def _buyer(party: Any, invoice: Invoice) -> None:
    buyer = invoice.draft.buyer
    party.id = buyer.customer_id
    party.name = buyer.name
    _address(party.address, buyer.address)
    party.electronic_address.uri_ID = ("EM", buyer.email)
    vat_id = _buyer_vat_id(invoice)
    if vat_id is not None:
        party.tax_registrations.add(TaxRegistration(id=("VA", vat_id)))


def _buyer_vat_id(invoice: Invoice) -> str | None:
    """A business buyer's VAT id in compact form, when it has a country prefix (BR-CO-09)."""
    buyer = invoice.draft.buyer
    if buyer.kind != "business" or not buyer.vat_id or _not_subject(invoice):
        return None
    compact = "".join(c for c in buyer.vat_id.upper() if c.isalnum())
    return compact if compact[:2].isalpha() else None


def _address(target: Any, address: Address) -> None:
    target.line_one = address.street
    target.postcode = address.postal_code
    target.city_name = address.city
    target.country_id = address.country


def _settlement(settlement: Any, invoice: Invoice, sign: int) -> None:
    draft = invoice.draft
    settlement.currency_code = invoice.currency
    if _direct_debit(invoice):
        settlement.creditor_reference_id = _creditor_id(invoice)
    settlement.payment_means.add(_payment_means(invoice))
    for group in draft.vat_groups:
        settlement.trade_tax.add(_vat_breakdown(group, sign))
    starts = (line.service_start for line in draft.lines)
    ends = (line.service_end for line in draft.lines)
    _period(settlement.period, min(starts), max(ends))
    settlement.terms.add(_payment_terms(invoice))
    _totals(settlement.monetary_summation, invoice, sign)
    if invoice.correction is not None:
        original = settlement.invoice_referenced_document
        original.issuer_assigned_id = invoice.correction.refers_to
        original.issue_date_time = invoice.correction.refers_to_date


def _direct_debit(invoice: Invoice) -> bool:
    return invoice.document_type == "invoice" and invoice.draft.buyer.mandate is not None


def _creditor_id(invoice: Invoice) -> str:
    creditor_id = invoice.seller.creditor_id
    if not creditor_id:
        raise EInvoiceError(f"{invoice.number} is a direct debit but the seller has no creditor id")
    return creditor_id


def _payment_means(invoice: Invoice) -> Any:
    means = PaymentMeans()
    mandate = invoice.draft.buyer.mandate
    if invoice.document_type == "cancellation":
        means.type_code = CLEARING
        means.information.add("Gutschrift auf dem Kundenkonto")
    elif mandate is not None:
        means.type_code = DIRECT_DEBIT
        means.information.add("SEPA-Lastschrift")
        means.payer_account.iban = mandate.iban
    else:
        means.type_code = CREDIT_TRANSFER
        means.information.add("SEPA-Überweisung")
        means.payee_account.iban = invoice.seller.iban
        means.payee_institution.bic = invoice.seller.bic
    return means


def _payment_terms(invoice: Invoice) -> Any:
    terms = PaymentTerms()
    terms.description = _payment_terms_text(invoice)
    mandate = invoice.draft.buyer.mandate
    if invoice.document_type == "invoice":
        terms.due = invoice.due_date
        if mandate is not None:
            terms.debit_mandate_id = mandate.reference
    return terms


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


def _vat_breakdown(group: VatGroup, sign: int) -> Any:
    tax = ApplicableTradeTax()
    tax.calculated_amount = _signed(group.vat, sign)
    tax.type_code = "VAT"
    if group.exemption_reason:
        tax.exemption_reason = group.exemption_reason
    tax.basis_amount = _signed(group.net, sign)
    tax.category_code = group.category_code
    if group.exemption_reason_code:
        tax.exemption_reason_code = group.exemption_reason_code
    if group.category_code != NOT_SUBJECT:
        tax.rate_applicable_percent = group.rate
    return tax


def _totals(summation: Any, invoice: Invoice, sign: int) -> None:
    draft = invoice.draft
    summation.line_total = _signed(draft.net, sign)
    summation.tax_basis_total = _signed(draft.net, sign)
    summation.tax_total = (_signed(draft.vat, sign), invoice.currency)
    summation.grand_total = _signed(draft.gross, sign)
    summation.due_amount = _signed(draft.gross, sign)
