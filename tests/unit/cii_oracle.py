"""The e-invoice as drafthorse builds it: the oracle the direct writer in shared/invoicing/cii.py
is compared with, byte for byte (tests/unit/test_cii.py).

This is the mapping production used before it wrote the element tree itself: drafthorse builds
a model object for every element the schema allows, a millisecond of each invoice.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from shared.customers import Address
from shared.invoicing.cii import (
    BUSINESS_PROCESS,
    CLEARING,
    CREDIT_NOTE,
    CREDIT_TRANSFER,
    DAY,
    DIRECT_DEBIT,
    GUIDELINES,
    INVOICE,
    NOT_SUBJECT,
    Syntax,
    _billed_quantity,
    _buyer_vat_id,
    _creditor_id,
    _direct_debit,
    _notes,
    _payment_terms_text,
    _require_xrechnung_data,
    _seller_tax_ids,
    _signed,
)
from shared.invoicing.model import Invoice, InvoiceLine, Seller, VatGroup


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


def _header(header: Any, invoice: Invoice) -> None:
    header.id = invoice.number
    header.type_code = CREDIT_NOTE if invoice.document_type == "cancellation" else INVOICE
    header.issue_date_time = invoice.issue_date
    for text in _notes(invoice):
        header.notes.add(IncludedNote(content=text))


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


def _buyer(party: Any, invoice: Invoice) -> None:
    buyer = invoice.draft.buyer
    party.id = buyer.customer_id
    party.name = buyer.name
    _address(party.address, buyer.address)
    party.electronic_address.uri_ID = ("EM", buyer.email)
    vat_id = _buyer_vat_id(invoice)
    if vat_id is not None:
        party.tax_registrations.add(TaxRegistration(id=("VA", vat_id)))


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
