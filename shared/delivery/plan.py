"""Which issued invoices of a shard are e-mailed and which go into the print batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from shared.customers import Customer
from shared.delivery.model import DeliveryRequest
from shared.invoicing.model import document_key
from shared.invoicing.run import PostDocument


@dataclass(frozen=True)
class IssuedNumber:
    customer_id: str
    number: str
    run_id: str


@dataclass(frozen=True)
class DeliveryPlan:
    emails: tuple[DeliveryRequest, ...]
    post: tuple[PostDocument, ...]
    # Invoices whose customer or issue date the shard no longer knows: nobody can deliver them.
    unplanned: tuple[str, ...] = ()


def plan_delivery(
    run_id: str,
    customers: Iterable[Customer],
    issued: Iterable[IssuedNumber],
    issue_dates: Mapping[str, date],
) -> DeliveryPlan:
    """Every invoice of this run by the channel its customer chose, in number order."""
    by_id = {customer.customer_id: customer for customer in customers}
    emails: list[DeliveryRequest] = []
    post: list[PostDocument] = []
    unplanned: list[str] = []
    for item in sorted(issued, key=lambda item: item.number):
        customer = by_id.get(item.customer_id)
        issue_date = issue_dates.get(item.number)
        if item.run_id != run_id:
            continue
        if customer is None or issue_date is None:
            unplanned.append(item.number)
            continue
        pdf_key = document_key(item.customer_id, item.number)
        if customer.delivery == "post":
            post.append(
                PostDocument(customer_id=item.customer_id, number=item.number, pdf_key=pdf_key)
            )
            continue
        emails.append(
            DeliveryRequest(
                number=item.number,
                customer_id=item.customer_id,
                run_id=run_id,
                issue_date=issue_date,
                pdf_key=pdf_key,
                channel="email",
                attach_pdf=customer.attach_pdf,
                attach_xml=customer.einvoice == "xrechnung-xml",
            )
        )
    return DeliveryPlan(emails=tuple(emails), post=tuple(post), unplanned=tuple(unplanned))
