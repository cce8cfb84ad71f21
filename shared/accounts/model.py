"""Postings and what they add up to: a customer's balance and open items.

A posting is immutable and written once under its ``posting_id``, which is derived from its
source (an invoice number, a bank transaction id, a debit file, a dunning run), so a retry or a
re-import writes nothing new. ``amount`` is what the posting adds to the customer's debt:
debits (invoices, fees, interest, returned debits) are positive, credits (payments, credit
notes, cancellations, write-offs) are negative.

Every posting but unapplied credit belongs to an open item, named by ``item``: the number of the
invoice, or the id of a fee or interest charge. The item is opened by its first debit of an
opening kind and settled by the credits booked to it. A payment that settles several invoices is
several postings, one per item; what is paid beyond them is one posting with ``item`` None:
credit on the account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.money import ZERO, to_cents, total

PostingKind = Literal[
    # debits
    "invoice",
    "return_fee",
    "dunning_fee",
    "interest",
    "collection_fee",
    "debit_return",
    "refund",
    # credits
    "payment",
    "credit_note",
    "cancellation",
    "write_off",
]
OPENING_KINDS: frozenset[str] = frozenset(
    {"invoice", "return_fee", "dunning_fee", "interest", "collection_fee"}
)
DEBIT_KINDS: frozenset[str] = OPENING_KINDS | {"debit_return", "refund"}
ItemStatus = Literal["open", "partially_paid", "paid", "returned", "written_off"]


class Posting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    posting_id: str = Field(min_length=3, max_length=120)
    customer_id: str = Field(pattern=r"^C\d{7,12}$")
    booked_on: date
    kind: PostingKind
    amount: Decimal
    # The open item it opens or settles; None for credit not applied to any item.
    item: str | None = Field(default=None, min_length=1, max_length=64)
    # The document it belongs to: the invoice, credit note, cancellation or notice.
    document_number: str | None = None
    # Where it came from: "invoice:RE2026000001", "statement:<transaction id>",
    # "debits:<file id>", "dunning:<run id>", "manual:<who>".
    source: str = Field(min_length=3, max_length=200)
    text: str = Field(default="", max_length=300)
    # For opening postings: when the item falls due.
    due_on: date | None = None
    # Why, where the source gives a code: a return reason (AC04, MD06, ...).
    reason: str | None = None

    @field_validator("amount")
    @classmethod
    def _whole_cents(cls, amount: Decimal) -> Decimal:
        if amount != to_cents(amount):
            raise ValueError(f"amount must be whole cents, got {amount}")
        return to_cents(amount)

    @property
    def is_debit(self) -> bool:
        return self.kind in DEBIT_KINDS


@dataclass(frozen=True)
class OpenItem:
    item: str
    customer_id: str
    kind: str
    document_number: str | None
    opened_on: date
    due_on: date | None
    # What the item was opened with (its opening debits), what was credited to it, and the rest.
    amount: Decimal
    credited: Decimal
    open: Decimal
    status: ItemStatus
    # The reason of the last returned debit, while the item is open again because of it.
    return_reason: str | None = None

    def overdue_on(self, day: date) -> bool:
        return self.open > 0 and self.due_on is not None and self.due_on < day


@dataclass(frozen=True)
class Account:
    customer_id: str
    postings: tuple[Posting, ...]

    @property
    def balance(self) -> Decimal:
        """What the customer owes; negative when we owe the customer."""
        return total(posting.amount for posting in self.postings)

    @property
    def unapplied_credit(self) -> Decimal:
        """Credit not booked to any item, as a positive amount."""
        return -total(p.amount for p in self.postings if p.item is None)

    @property
    def credit(self) -> Decimal:
        """What the customer has to their good, as a positive amount: credit booked to no item,
        and what items were credited beyond their amount (an invoice cancelled after it was
        paid). The open items add up to the balance plus this."""
        excess = total(-item.open for item in self.items() if item.open < ZERO)
        return self.unapplied_credit + excess

    def items(self) -> tuple[OpenItem, ...]:
        """Every item, settled ones too, in the order they were opened."""
        by_item: dict[str, list[Posting]] = defaultdict(list)
        for posting in self.postings:
            if posting.item is not None:
                by_item[posting.item].append(posting)
        items = [_fold(name, postings) for name, postings in by_item.items()]
        return tuple(sorted(items, key=lambda item: (item.opened_on, item.item)))

    def open_items(self) -> tuple[OpenItem, ...]:
        return tuple(item for item in self.items() if item.open > 0)

    def item(self, name: str) -> OpenItem | None:
        return next((item for item in self.items() if item.item == name), None)


def account_of(customer_id: str, postings: Iterable[Posting]) -> Account:
    """The account from its postings in booking order; a posting counts once by its id."""
    unique = {posting.posting_id: posting for posting in postings}
    ordered = sorted(unique.values(), key=_booking_order)
    return Account(customer_id, tuple(ordered))


def fold_item(name: str, postings: Sequence[Posting]) -> OpenItem:
    """One item from its postings (each counted once by its id), as ``Account.items`` folds it."""
    unique = list({posting.posting_id: posting for posting in postings}.values())
    return _fold(name, unique)


def _fold(name: str, postings: list[Posting]) -> OpenItem:
    ordered = sorted(postings, key=_booking_order) if len(postings) > 1 else postings
    first: Posting | None = None
    amount = open_amount = ZERO
    for posting in ordered:
        open_amount += posting.amount
        if posting.kind in OPENING_KINDS:
            amount += posting.amount
            first = first or posting
    first = first or ordered[0]
    reason = _return_reason(ordered, open_amount)
    return OpenItem(
        item=name,
        customer_id=first.customer_id,
        kind=first.kind,
        document_number=first.document_number,
        opened_on=first.booked_on,
        due_on=first.due_on,
        amount=amount,
        credited=amount - open_amount,
        open=open_amount,
        status=_status(ordered, amount, open_amount, reason),
        return_reason=reason,
    )


def _booking_order(posting: Posting) -> tuple[date, str]:
    return posting.booked_on, posting.posting_id


def _status(
    ordered: list[Posting], amount: Decimal, open_amount: Decimal, return_reason: str | None
) -> ItemStatus:
    if open_amount <= ZERO:
        written_off = any(p.kind == "write_off" for p in ordered)
        return "written_off" if written_off else "paid"
    if return_reason is not None:
        return "returned"
    if open_amount < amount:
        return "partially_paid"
    return "open"


def _return_reason(ordered: list[Posting], open_amount: Decimal) -> str | None:
    """The reason of a returned debit that no payment has settled since."""
    if open_amount <= ZERO:
        return None
    for posting in reversed(ordered):
        if posting.kind == "debit_return":
            return posting.reason or "returned"
        if posting.kind == "payment":
            return None
    return None
