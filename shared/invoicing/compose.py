"""Turns a customer's due positions into an invoice draft: lines, VAT per rate, totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from shared.contracts import Position
from shared.customers import Customer
from shared.invoicing.model import Buyer, InvoiceDraft, InvoiceLine, VatGroup
from shared.money import to_cents, total
from shared.periods import Period
from shared.tax import rate_for, tax_on


def compose_invoice(
    customer: Customer, positions: Iterable[Position], period: Period
) -> InvoiceDraft | None:
    """The draft for the period, or None when nothing of the customer is due."""
    lines = tuple(
        _line(position, period)
        for position in sorted(positions, key=lambda p: p.position_id)
        if position.is_due_in(period)
    )
    if not lines:
        return None

    groups = _vat_groups(lines)
    net = total(group.net for group in groups)
    vat = total(group.vat for group in groups)
    return InvoiceDraft(
        buyer=_buyer(customer),
        period=str(period),
        lines=lines,
        vat_groups=groups,
        net=net,
        vat=vat,
        gross=net + vat,
    )


def _line(position: Position, period: Period) -> InvoiceLine:
    return InvoiceLine(
        position_id=position.position_id,
        description=position.description,
        quantity=position.quantity,
        unit_net=position.unit_net,
        net=to_cents(position.unit_net * position.quantity),
        tax_rate=rate_for(position.tax_category),
        service_start=period.start,
        service_end=period.end,
    )


def _vat_groups(lines: Iterable[InvoiceLine]) -> tuple[VatGroup, ...]:
    net_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        net_by_rate[line.tax_rate] += line.net

    return tuple(
        VatGroup(rate=rate, net=to_cents(net), vat=tax_on(net, rate))
        for rate, net in sorted(net_by_rate.items(), reverse=True)
    )


def _buyer(customer: Customer) -> Buyer:
    return Buyer(
        customer_id=customer.customer_id,
        name=customer.name,
        email=str(customer.email),
        address=customer.address,
        kind=customer.kind,
        vat_id=customer.vat_id,
    )
