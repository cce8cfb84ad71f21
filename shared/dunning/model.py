"""What dunning keeps and issues: holds, the case of a customer in dunning, notices, events.

A customer in dunning has one case. It records the level reached and since when, the deadline
the last notice set, the items the claim is made of (with the day each was first demanded, from
which it is in default), the fee and interest items the case posted, and every step. A step is
first stored as pending together with everything it does (the notice, the postings, the events);
its effects are idempotent and are done, or done again after a crash, from that record alone.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.accounts.model import Posting
from shared.customers import Address, CustomerKind
from shared.dunning.levels import Agency, Language
from shared.invoicing.model import Seller
from shared.money import ZERO, total

CUSTOMER_ID = r"^C\d{7,12}$"
HoldKind = Literal["block", "dispute", "plan"]
ExclusionReason = Literal["block", "instalment_plan", "dispute", "below_threshold"]
EXCLUSION_REASONS: tuple[ExclusionReason, ...] = (
    "block",
    "instalment_plan",
    "dispute",
    "below_threshold",
)
ChargeKind = Literal["dunning_fee", "interest", "flat_fee"]
EventType = Literal["CustomerSuspended", "CustomerReactivated"]


class Hold(BaseModel):
    """Something that stops dunning: a block of the customer, an agreed instalment plan, or a
    disputed item (which then is no part of the claim)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str = Field(pattern=CUSTOMER_ID)
    kind: HoldKind
    item: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str = Field(min_length=3, max_length=300)
    set_on: date
    until: date | None = None
    set_by: str = Field(default="cli", min_length=1, max_length=120)

    def active_on(self, day: date) -> bool:
        return self.set_on <= day and (self.until is None or day <= self.until)


class Holds(BaseModel):
    model_config = ConfigDict(frozen=True)

    holds: tuple[Hold, ...] = ()

    def of_kind(self, kind: HoldKind, day: date) -> Hold | None:
        return next((h for h in self.holds if h.kind == kind and h.active_on(day)), None)

    def disputed(self, day: date) -> frozenset[str]:
        return frozenset(
            h.item for h in self.holds if h.kind == "dispute" and h.item and h.active_on(day)
        )


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    name: str
    email: str
    address: Address
    kind: CustomerKind
    delivery: Literal["email", "post"]
    language: Language


class NoticeLine(BaseModel):
    """An open item the notice demands, as it stood before this notice's charges."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str
    kind: str
    document_number: str | None
    due_on: date | None
    amount: Decimal
    credited: Decimal
    open: Decimal
    return_reason: str | None = None


class NoticeCharge(BaseModel):
    """A fee, the interest or the flat charge posted with this notice, as its own item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str
    kind: ChargeKind
    amount: Decimal


class InterestDetail(BaseModel):
    """One part of the interest: an item's principal at one rate for a run of days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    item: str
    document_number: str | None
    start: date
    end: date
    principal: Decimal
    base_percent: Decimal
    points: Decimal
    days: int
    amount: Decimal


class Notice(BaseModel):
    """An issued dunning notice. Like every issued document it is never changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    run_id: str
    case_id: str
    level: int = Field(ge=1)
    level_key: str
    issue_date: date
    deadline: date | None
    seller: Seller
    recipient: Recipient
    lines: tuple[NoticeLine, ...]
    charges: tuple[NoticeCharge, ...] = ()
    # Money the customer paid that is booked to no item, set against what is owed.
    credit: Decimal = ZERO
    interest: tuple[InterestDetail, ...] = ()
    title: str
    intro: str
    closing: str
    legal: tuple[str, ...] = ()
    payment_text: str | None = None
    agency: Agency | None = None
    suspends: bool = False
    hands_over: bool = False

    @property
    def customer_id(self) -> str:
        return self.recipient.customer_id

    @property
    def open_total(self) -> Decimal:
        return total(line.open for line in self.lines)

    @property
    def charged(self) -> Decimal:
        return total(charge.amount for charge in self.charges)

    @property
    def total(self) -> Decimal:
        return self.open_total + self.charged - self.credit


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: int = Field(ge=1)
    key: str
    on: date
    notice_number: str | None = None
    deadline: date | None = None
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    flat_fee: Decimal = ZERO
    claim_total: Decimal = ZERO
    interest_deferred: bool = False
    # How the notice travels: the customer's choice when the step was taken.
    channel: Literal["email", "post"] | None = None


class PendingStep(BaseModel):
    """A step decided and stored, whose effects are still to be made sure of."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    step: Step
    notice: Notice | None = None
    postings: tuple[Posting, ...] = ()


class Handover(BaseModel):
    """The claim as handed to a collection agency, and what has been reported to it since."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency_id: str
    agency_name: str
    on: date
    claim_total: Decimal
    items: tuple[str, ...]
    documents: tuple[str, ...]
    status: Literal["pending_export", "exported"] = "pending_export"
    export_key: str | None = None
    # The part of the claim paid since the handover that reports have told the agency.
    reported_paid: Decimal = ZERO
    settled_on: date | None = None
    settlement_reported: bool = False


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str = Field(pattern=CUSTOMER_ID)
    shard: int = Field(ge=0)
    case_id: str
    opened_on: date
    level: int = Field(ge=0)
    level_key: str = ""
    since: date
    deadline: date | None = None
    # Each item of the claim with the day a notice first demanded it (in default from then).
    listed: dict[str, date] = Field(default_factory=dict)
    # The items this case posted: fees, interest, the flat charge.
    charges: tuple[str, ...] = ()
    interest_through: date | None = None
    flat_fee_charged: bool = False
    # Fees of the levels reached (as configured) and what was charged of them (after set-off).
    nominal_fees: Decimal = ZERO
    fees_charged: Decimal = ZERO
    suspended_on: date | None = None
    suspension_announced: bool = False
    handover: Handover | None = None
    steps: tuple[Step, ...] = ()
    pending: PendingStep | None = None
    version: int = Field(default=0, ge=0)

    @property
    def last_step(self) -> Step | None:
        return self.steps[-1] if self.steps else None


class ProvisioningEvent(BaseModel):
    """What a provisioning system is told: suspend or reactivate a customer's services.

    ``event_id`` is the same for every sending of one event, so a consumer can drop repeats.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    detail_type: EventType
    event_id: str
    customer_id: str
    case_id: str
    reason: str
    level: int
    level_key: str
    run_id: str
    occurred_on: date


class ClaimLine(BaseModel):
    """One claim in an agency's export file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency_id: str
    case_id: str
    customer_id: str
    name: str
    email: str
    address: Address
    kind: CustomerKind
    handed_over_on: date
    items: tuple[NoticeLine, ...]
    documents: tuple[str, ...]
    principal: Decimal
    fees: Decimal
    interest: Decimal
    total: Decimal
    status: Literal["handed_over"] = "handed_over"


class PaymentLine(BaseModel):
    """A payment on a handed-over claim, in the agency's payment report."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency_id: str
    case_id: str
    customer_id: str
    paid_since_handover: Decimal
    newly_paid: Decimal
    open: Decimal
    status: Literal["partially_paid", "settled"]
    reported_on: date
