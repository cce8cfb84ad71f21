"""Turns a customer's positions into the invoice draft of a period: rated lines, VAT, totals.

Rating (which billing cycles are due, prorated by days) is shared/invoicing/rating.py; the VAT of
each line (German, OSS, reverse charge, not subject, exempt) is shared/tax.py. Tax is computed per
VAT group on the group's sum, so lines, groups and totals reconcile to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.catalog import Catalog
from shared.contracts import Position
from shared.customers import Customer
from shared.invoicing.model import Buyer, InvoiceDraft, InvoiceLine, SepaMandate, VatGroup
from shared.invoicing.rating import Charge, charges_for_customer
from shared.money import total
from shared.payments.mandates import StoredMandate, usable_mandate
from shared.periods import Period
from shared.tax import SELLER_COUNTRY, VatTreatment, group_taxes, vat_treatment


def compose_invoice(
    customer: Customer,
    positions: Iterable[Position],
    period: Period,
    *,
    catalog: Catalog | None = None,
    mandates: Iterable[StoredMandate] = (),
) -> InvoiceDraft | None:
    """The draft for the period, or None when nothing of the customer is due. A customer with a
    usable (not revoked) mandate pays by SEPA direct debit under the newest of them.

    Raises ValueError or LookupError (unknown product, no VAT rate) for data that cannot be billed.
    """
    positions = list(positions)
    if catalog is not None:
        for position in positions:
            catalog.get(position.product_id)

    charges = charges_for_customer(positions, period)
    if not charges:
        return None

    treatments = [_treatment(customer, charge) for charge in charges]
    lines = tuple(_line(charge, t) for charge, t in zip(charges, treatments, strict=True))
    groups = _vat_groups(treatments, lines)
    net = total(line.net for line in lines)
    vat = total(group.vat for group in groups)
    return InvoiceDraft(
        buyer=_buyer(customer, treatments, usable_mandate(mandates)),
        period=str(period),
        lines=lines,
        vat_groups=groups,
        net=net,
        vat=vat,
        gross=net + vat,
        notes=_notes(treatments),
    )


def _treatment(customer: Customer, charge: Charge) -> VatTreatment:
    """The VAT of a line; for continuing services the rate at the end of the service period."""
    return vat_treatment(
        seller_country=SELLER_COUNTRY,
        buyer_country=customer.address.country,
        buyer_kind=customer.kind,
        buyer_vat_id=customer.vat_id,
        category=charge.tax_category,
        supply_date=charge.service_end,
    )


def _line(charge: Charge, treatment: VatTreatment) -> InvoiceLine:
    return InvoiceLine(
        position_id=charge.position_id,
        description=charge.description,
        quantity=charge.quantity,
        unit_net=charge.unit_net,
        net=charge.net,
        tax_rate=treatment.rate,
        tax_code=str(treatment.category_code),
        service_start=charge.service_start,
        service_end=charge.service_end,
        service_days=charge.service_days,
        cycle_days=charge.cycle_days,
    )


def _vat_groups(
    treatments: list[VatTreatment], lines: tuple[InvoiceLine, ...]
) -> tuple[VatGroup, ...]:
    groups = group_taxes((t, line.net) for t, line in zip(treatments, lines, strict=True))
    return tuple(
        VatGroup(
            rate=group.rate,
            net=group.net,
            vat=group.tax,
            category_code=str(group.category_code),
            exemption_reason=group.exemption_reason,
            exemption_reason_code=group.exemption_reason_code,
        )
        for group in groups
    )


def _notes(treatments: list[VatTreatment]) -> tuple[str, ...]:
    reasons = (t.exemption_reason for t in treatments if t.exemption_reason)
    return tuple(dict.fromkeys(reasons))


def _buyer(
    customer: Customer, treatments: list[VatTreatment], mandate: StoredMandate | None
) -> Buyer:
    """Reverse-charge invoices must show the buyer's VAT id in the form that was validated."""
    validated = next((t.buyer_vat_id for t in treatments if t.buyer_vat_id), None)
    debit = (
        SepaMandate(reference=mandate.mandate.reference, iban=mandate.mandate.iban)
        if mandate is not None
        else None
    )
    return Buyer(
        customer_id=customer.customer_id,
        name=customer.name,
        email=str(customer.email),
        address=customer.address,
        kind=customer.kind,
        vat_id=validated or customer.vat_id,
        buyer_reference=customer.buyer_reference,
        einvoice=customer.einvoice,
        mandate=debit,
    )
