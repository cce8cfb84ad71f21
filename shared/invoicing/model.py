from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.customers import Address, CustomerKind, EInvoiceChoice


class Seller(BaseModel):
    """The invoicing company as §14 (4) UStG asks for it on every invoice."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: Address
    vat_id: str
    trade_register: str
    managing_director: str
    email: str
    iban: str
    bic: str
    # Documents issued before e-invoices lack these, so they are optional.
    tax_number: str | None = None
    phone: str | None = None
    contact: str | None = None
    creditor_id: str | None = None


class SepaMandate(BaseModel):
    """What an invoice collected by SEPA direct debit must name (BT-89, BT-91)."""

    model_config = ConfigDict(frozen=True)

    reference: str = Field(min_length=1, max_length=35)
    iban: str


class Buyer(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    name: str
    email: str
    address: Address
    kind: CustomerKind
    vat_id: str | None = None
    buyer_reference: str | None = None
    einvoice: EInvoiceChoice = "factur-x"
    # The usable mandate the invoice is collected under; None: the customer pays by transfer.
    mandate: SepaMandate | None = None


class InvoiceLine(BaseModel):
    """One charge: a billing cycle of a position, prorated by days where it is partial."""

    model_config = ConfigDict(frozen=True)

    position_id: str
    description: str
    quantity: int
    unit_net: Decimal
    net: Decimal
    tax_rate: Decimal
    tax_code: str = "S"
    service_start: date
    service_end: date
    service_days: int | None = None
    cycle_days: int | None = None

    @property
    def prorated(self) -> bool:
        return self.service_days is not None and self.service_days != self.cycle_days


class VatGroup(BaseModel):
    """The lines of one rate and VAT category, taxed on their sum (EN 16931 VAT breakdown)."""

    model_config = ConfigDict(frozen=True)

    rate: Decimal
    net: Decimal
    vat: Decimal
    category_code: str = "S"
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class InvoiceDraft(BaseModel):
    """Everything of an invoice but its number: what a dry run computes."""

    model_config = ConfigDict(frozen=True)

    buyer: Buyer
    period: str
    lines: tuple[InvoiceLine, ...] = Field(min_length=1)
    vat_groups: tuple[VatGroup, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal
    notes: tuple[str, ...] = ()


DocumentType = Literal["invoice", "cancellation"]


def document_key(customer_id: str, number: str) -> str:
    """Archive keys spread over hashed prefixes, so S3 request rates scale with the run."""
    spread = hashlib.sha256(customer_id.encode()).hexdigest()[:4]
    return f"documents/{spread}/{customer_id}/{number}.pdf"


class Correction(BaseModel):
    """What a correcting document refers to: the original's number and date, and why."""

    model_config = ConfigDict(frozen=True)

    refers_to: str
    refers_to_date: date
    reason: str = Field(min_length=3, max_length=300)


class Invoice(BaseModel):
    """An issued invoice. It is never changed after issue; corrections are new documents."""

    model_config = ConfigDict(frozen=True)

    document_type: DocumentType = "invoice"
    correction: Correction | None = None
    number: str
    run_id: str
    issue_date: date
    due_date: date
    currency: Literal["EUR"] = "EUR"
    seller: Seller
    draft: InvoiceDraft

    @property
    def customer_id(self) -> str:
        return self.draft.buyer.customer_id

    @property
    def title(self) -> str:
        return "Stornorechnung" if self.document_type == "cancellation" else "Rechnung"
