"""What the invoice run hands to delivery, and the delivery status recorded per invoice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["email", "post"]
# What is delivered: an invoice (or its correction) of an invoice run, or a dunning notice.
DeliveredDocument = Literal["invoice", "dunning"]
# sending: an attempt holds the invoice; sent and printed are final; failed may be tried again.
DeliveryStatus = Literal["sending", "sent", "failed", "printed"]
FINAL_STATUSES: frozenset[str] = frozenset({"sent", "printed"})


class DeliveryRequest(BaseModel):
    """One issued invoice to e-mail: the body of a message on the delivery queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str = Field(min_length=1)
    customer_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    issue_date: date
    pdf_key: str = Field(min_length=1)
    channel: Channel = "email"
    attach_pdf: bool = False
    # The XRechnung beside the PDF, for customers who take the XML alone: it is the invoice.
    attach_xml: bool = False
    document: DeliveredDocument = "invoice"


class DeliveryRecord(BaseModel):
    """The delivery status of one invoice, replaced as a whole by each step that changes it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    number: str
    customer_id: str
    channel: Channel
    status: DeliveryStatus
    updated_at: datetime
    attempts: int = Field(default=0, ge=0)
    recipient: str | None = None
    message_id: str | None = None
    attached_pdf: bool = False
    reason: str | None = None
    print_batch: str | None = None


class PrintBatch(BaseModel):
    """A run execution's print batch: where it is and what it holds."""

    model_config = ConfigDict(frozen=True)

    key: str
    invoices: int
    pages: int
    numbers: tuple[str, ...]
