"""Which customer and which open items a bank transaction pays, or why that cannot be said.

Pure rules over what the import has loaded (``Books``). In this order:
(a) the end-to-end id of one of our own collections; an entry without details by its payment
    information id, settling each collection of the recorded batch when the sums agree;
(b) the structured creditor reference, then invoice numbers in the remittance text (leading
    zeros, case, separators and O for 0 forgiven; a dropped or swapped digit only when exactly
    one open item of the payer fits);
(c) a customer number and exactly the open amount of one of its items, or of all of them.
Returned debits of our collections reopen the item, charge the return fee and, for reasons that
end the mandate, revoke it. What matches nothing is left to a person with the reason, never
guessed. Every posting id derives from the bank transaction id, so a decision posts once.

A payment settles the items it names in the order named, each at most to its open amount; what
is left over is credit on the account (item None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.accounts.model import (
    Account,
    OpenItem,
    Posting,
    PostingKind,
    account_of,
    fold_item,
)
from shared.money import ZERO, total
from shared.payments.collections import (
    MANDATE_ENDING,
    CollectionBatch,
    parse_end_to_end_id,
)
from shared.payments.references import (
    NumberMention,
    compact,
    customer_mentions,
    invoice_mentions,
    reference_body,
    slip_fits,
)
from shared.payments.statement import BankTransaction, Statement

MatchRule = Literal[
    "end_to_end",
    "collection_batch",
    "creditor_reference",
    "invoice_number",
    "invoice_number_slip",
    "customer_amount",
    "dunning_notice",
    "debit_return",
    "manual",
]
CURRENCY = "EUR"
_MAX_POSTING_ID = 120


@dataclass(frozen=True)
class MatchPolicy:
    invoice_prefixes: tuple[str, ...]
    return_fee: Decimal
    fee_due_days: int
    # Our own accounts, compact IBANs; statements of other accounts are not posted.
    own_ibans: tuple[str, ...]
    # Prefixes of dunning notice numbers: a payment quoting a notice pays the customer's claim.
    notice_prefixes: tuple[str, ...] = ()


class Revocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    mandate_reference: str
    reason: str
    on: date


class Decision(BaseModel):
    """What one bank transaction comes to: postings by a rule, or the reason it did not match.

    Stored once per transaction before its postings are written, so that a re-run applies the
    same decision instead of matching again against accounts that already show it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transaction: BankTransaction
    rule: MatchRule | None
    postings: tuple[Posting, ...] = ()
    reason: str | None = None
    revocations: tuple[Revocation, ...] = ()
    notes: tuple[str, ...] = ()
    # Who decided: the import, or the person who assigned it by hand ("manual:<who>").
    decided_by: str = "import"
    statement_id: str | None = None

    @property
    def matched(self) -> bool:
        return self.rule is not None

    @property
    def customer_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(posting.customer_id for posting in self.postings))


def unmatched(transaction: BankTransaction, reason: str) -> Decision:
    return Decision(transaction=transaction, rule=None, reason=reason)


@dataclass
class Books:
    """What the import loaded for matching; accounts change as decisions are applied.

    Items are folded from their postings when first asked for and again only when a posting of
    theirs is applied: matching mostly asks for one item of an account.
    """

    accounts: dict[str, Account] = field(default_factory=dict)
    # Invoice number -> customer id, for the numbers the statement names.
    owners: dict[str, str] = field(default_factory=dict)
    batches: dict[str, CollectionBatch] = field(default_factory=dict)
    # Per customer: each item's postings and its folded state, by its name without separators.
    _postings: dict[str, dict[str, list[Posting]]] = field(default_factory=dict, repr=False)
    _folded: dict[str, dict[str, OpenItem]] = field(default_factory=dict, repr=False)
    # Postings applied since an account was last built, and the ids each account holds.
    _extra: dict[str, list[Posting]] = field(default_factory=dict, repr=False)
    _ids: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def account(self, customer_id: str) -> Account:
        extra = self._extra.pop(customer_id, None)
        base = self.accounts.get(customer_id) or account_of(customer_id, ())
        if extra:
            base = self.accounts[customer_id] = account_of(customer_id, [*base.postings, *extra])
        return base

    def item(self, customer_id: str, name: str) -> OpenItem | None:
        """The item (settled ones too) named with or without separators."""
        key = compact(name)
        folded = self._folded.setdefault(customer_id, {})
        found = folded.get(key)
        if found is None:
            postings = self._grouped(customer_id).get(key)
            if postings is None:
                return None
            found = folded[key] = fold_item(postings[0].item or key, postings)
        return found

    def items(self, customer_id: str) -> list[OpenItem]:
        """Every item of the account, in the order they were opened."""
        items = [self.item(customer_id, key) for key in self._grouped(customer_id)]
        found = [item for item in items if item is not None]
        return sorted(found, key=lambda item: (item.opened_on, item.item))

    def open_items(self, customer_id: str) -> list[OpenItem]:
        return [item for item in self.items(customer_id) if item.open > ZERO]

    def apply(self, postings: Iterable[Posting]) -> None:
        """Postings join their accounts; one applied before (by its id) changes nothing."""
        by_customer: dict[str, list[Posting]] = {}
        for posting in postings:
            by_customer.setdefault(posting.customer_id, []).append(posting)
        for customer_id, new in by_customer.items():
            known = self._ids.get(customer_id)
            if known is None:
                postings = self.account(customer_id).postings
                known = self._ids[customer_id] = {posting.posting_id for posting in postings}
            fresh = [posting for posting in new if posting.posting_id not in known]
            if fresh:
                known.update(posting.posting_id for posting in fresh)
                self._extra.setdefault(customer_id, []).extend(fresh)
                self._regroup(customer_id, fresh)

    def _grouped(self, customer_id: str) -> dict[str, list[Posting]]:
        grouped = self._postings.get(customer_id)
        if grouped is None:
            grouped = self._postings[customer_id] = {}
            for posting in self.account(customer_id).postings:
                if posting.item is not None:
                    grouped.setdefault(compact(posting.item), []).append(posting)
        return grouped

    def _regroup(self, customer_id: str, fresh: list[Posting]) -> None:
        grouped = self._postings.get(customer_id)
        if grouped is None:
            return
        folded = self._folded.setdefault(customer_id, {})
        for posting in fresh:
            if posting.item is not None:
                key = compact(posting.item)
                grouped.setdefault(key, []).append(posting)
                folded.pop(key, None)


@dataclass(frozen=True)
class Wanted:
    """What matching a statement needs loaded: customers, invoice numbers, collection batches."""

    customers: frozenset[str]
    numbers: frozenset[str]
    batches: frozenset[str]


def wanted(transactions: Iterable[BankTransaction], policy: MatchPolicy) -> Wanted:
    customers: set[str] = set()
    numbers: set[str] = set()
    batches: set[str] = set()
    for transaction in transactions:
        named = named_by(transaction, policy)
        if named.own_customer is not None:
            customers.add(named.own_customer)
        if named.batch is not None:
            batches.add(named.batch)
        customers.update(named.customers)
        numbers.update(named.numbers)
    return Wanted(frozenset(customers), frozenset(numbers), frozenset(batches))


@dataclass(frozen=True, slots=True)
class Named:
    """What a transaction names: what matching it must load (``wanted``) and which accounts
    its decision may touch (``accounts_touched``). Our own end-to-end id names its customer
    and nothing else: the decision reads no other account."""

    own_customer: str | None = None
    # The collection batch (PmtInfId) of a transaction that is not our own end-to-end id.
    batch: str | None = None
    structured: str | None = None
    customers: tuple[str, ...] = ()
    invoices: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()

    @property
    def numbers(self) -> tuple[str, ...]:
        """The invoice and notice numbers whose owners matching asks for."""
        structured = (self.structured,) if self.structured else ()
        return structured + self.invoices + self.notices


def named_by(transaction: BankTransaction, policy: MatchPolicy) -> Named:
    own = parse_end_to_end_id(transaction.end_to_end_id)
    if own is not None:
        return Named(own_customer=own[0])
    structured = _structured_mention(transaction, policy)
    return Named(
        batch=transaction.payment_info_id or None,
        structured=structured.number if structured else None,
        customers=customer_mentions(transaction.remittance),
        invoices=_known(invoice_mentions(transaction.remittance, policy.invoice_prefixes)),
        notices=_known(_notice_mentions(transaction, policy)),
    )


def accounts_touched(named: Named, owners: Mapping[str, str]) -> frozenset[str] | None:
    """The customers whose accounts ``decide`` may read or post to for a transaction that
    names ``named``, given the owners of its numbers; None when that depends on a collection
    batch.

    It follows the rules' order: our own end-to-end id names the one account; otherwise the
    owner of a structured reference, and the payer the text names (one customer number, else
    the one owner of the quoted invoices, else of the quoted notices).
    """
    if named.own_customer is not None:
        return frozenset({named.own_customer})
    if named.batch is not None:
        return None
    touched: set[str] = set()
    if named.structured is not None and named.structured in owners:
        touched.add(owners[named.structured])
    if named.customers:
        touched.update(named.customers[:1] if len(named.customers) == 1 else ())
        return frozenset(touched)
    for numbers in (named.invoices, named.notices):
        payers = {owners[number] for number in numbers if number in owners}
        if len(payers) == 1:
            touched |= payers
    return frozenset(touched)


def _known(mentions: Sequence[NumberMention]) -> tuple[str, ...]:
    return tuple(m.number for m in mentions if m.number is not None)


def statement_problem(statement: Statement, policy: MatchPolicy) -> str | None:
    """Why none of the statement's transactions may be posted, or None."""
    if statement.account_iban is not None:
        if compact(statement.account_iban) in policy.own_ibans:
            return None
        return f"account {statement.account_iban} is not one of ours"
    if statement.account_other and _is_own_domestic(statement.account_other, policy.own_ibans):
        return None
    return f"account {statement.account_other or '(none given)'} is not one of ours"


def _is_own_domestic(account: str, own_ibans: Sequence[str]) -> bool:
    """A German ``BLZ/account`` (MT940 :25:) against our DE IBANs."""
    bank, _, number = account.replace(" ", "").partition("/")
    return any(
        iban.startswith("DE")
        and len(iban) == 22
        and iban[4:12] == bank
        and iban[12:].lstrip("0") == number.lstrip("0")
        for iban in own_ibans
    )


def decide(transaction: BankTransaction, books: Books, policy: MatchPolicy) -> Decision:
    """The decision for one transaction; ``books`` must hold what ``wanted`` asked for."""
    if transaction.currency != CURRENCY:
        return unmatched(transaction, f"currency {transaction.currency}: only EUR is posted")
    if transaction.amount == ZERO:
        return unmatched(transaction, "amount is zero")
    if transaction.amount < ZERO:
        if transaction.return_reason or transaction.bank_return_code or transaction.reversal:
            return _returned(transaction, books, policy)
        return unmatched(transaction, "outgoing payment that is not a returned debit of ours")
    if transaction.reversal:
        return unmatched(transaction, "reversal of an outgoing payment (a refund came back?)")
    return _incoming(transaction, books, policy)


def _incoming(transaction: BankTransaction, books: Books, policy: MatchPolicy) -> Decision:
    own = parse_end_to_end_id(transaction.end_to_end_id)
    if own is not None:
        return _own_collection(transaction, books, *own)
    if transaction.payment_info_id and transaction.payment_info_id in books.batches:
        return _batch(transaction, books.batches[transaction.payment_info_id], books)
    if transaction.batch_count and transaction.batch_count > 1:
        return unmatched(
            transaction,
            f"booked as a sum of {transaction.batch_count} without details, "
            f"and no collection batch {transaction.payment_info_id or '(no PmtInfId)'} is known",
        )
    return _by_reference(transaction, books, policy)


def _own_collection(
    transaction: BankTransaction, books: Books, customer_id: str, item_key: str
) -> Decision:
    item = books.item(customer_id, item_key)
    if item is None:
        return unmatched(transaction, f"our collection {customer_id}-{item_key}: no such item")
    postings = settle(transaction, customer_id, [item], transaction.amount)
    return Decision(transaction=transaction, rule="end_to_end", postings=postings)


def _batch(transaction: BankTransaction, batch: CollectionBatch, books: Books) -> Decision:
    if batch.total != transaction.amount:
        return unmatched(
            transaction,
            f"collection batch {batch.payment_info_id} collected {batch.total}, "
            f"the bank booked {transaction.amount}",
        )
    postings: list[Posting] = []
    for index, collection in enumerate(batch.collections):
        item = books.item(collection.customer_id, collection.item)
        items = [item] if item is not None else []
        postings += settle(
            transaction, collection.customer_id, items, collection.amount, role=f"pay/{index}"
        )
    return Decision(transaction=transaction, rule="collection_batch", postings=tuple(postings))


def _by_reference(transaction: BankTransaction, books: Books, policy: MatchPolicy) -> Decision:
    structured = _by_structured_reference(transaction, books, policy)
    if structured is not None:
        return structured
    mentions = invoice_mentions(transaction.remittance, policy.invoice_prefixes)
    customers = customer_mentions(transaction.remittance)
    if mentions:
        decision = _by_invoice_numbers(transaction, mentions, customers, books)
        if decision is not None:
            return decision
    notices = _notice_mentions(transaction, policy)
    if notices:
        decision = _by_notice_numbers(transaction, notices, customers, books)
        if decision is not None:
            return decision
    if len(customers) == 1:
        return _by_customer_amount(transaction, customers[0], books)
    return unmatched(transaction, _why_unmatched(mentions, notices, customers, books))


def _by_structured_reference(
    transaction: BankTransaction, books: Books, policy: MatchPolicy
) -> Decision | None:
    structured = _structured_mention(transaction, policy)
    number = structured.number if structured else None
    owner = books.owners.get(number) if number else None
    item = books.item(owner, number) if owner and number else None
    if owner is None or item is None:
        return None
    postings = settle(transaction, owner, [item], transaction.amount)
    return Decision(transaction=transaction, rule="creditor_reference", postings=postings)


def _why_unmatched(
    mentions: Sequence[NumberMention],
    notices: Sequence[NumberMention],
    customers: Sequence[str],
    books: Books,
) -> str:
    named = [*mentions, *notices]
    owners = sorted({books.owners[m.number] for m in named if m.number in books.owners})
    if len(customers) > 1:
        return "names several customers: " + ", ".join(customers)
    if len(owners) > 1:
        return "names invoices of several customers: " + ", ".join(owners)
    if mentions:
        return f"invoice number {_numbers(mentions)} is none of our open invoices"
    if notices:
        return f"dunning notice {_numbers(notices)} is none of ours"
    return "names no invoice, customer or reference of ours"


def _numbers(mentions: Sequence[NumberMention]) -> str:
    return ", ".join(m.number or f"{m.prefix}-{m.year}-{m.digits}" for m in mentions)


def _structured_mention(transaction: BankTransaction, policy: MatchPolicy) -> NumberMention | None:
    body = reference_body(transaction.creditor_reference)
    text = body if body is not None else (transaction.creditor_reference or "")
    found = invoice_mentions(text, policy.invoice_prefixes)
    return found[0] if len(found) == 1 and found[0].number else None


def _by_invoice_numbers(
    transaction: BankTransaction,
    mentions: Sequence[NumberMention],
    customers: Sequence[str],
    books: Books,
) -> Decision | None:
    """Settle the named invoices; None when the numbers say nothing and other rules may try."""
    payer = _payer(transaction, mentions, customers, books)
    if payer is None:
        return None
    items: list[OpenItem] = []
    slipped = False
    for mention in mentions:
        item = books.item(payer, mention.number) if mention.number else None
        if item is None:
            fits = [i for i in books.open_items(payer) if slip_fits(mention, i.item)]
            if len(fits) > 1:
                return unmatched(
                    transaction,
                    f"{mention.prefix}-{mention.year}-{mention.digits} could be "
                    + " or ".join(i.item for i in fits),
                )
            item = fits[0] if fits else None
            slipped = slipped or item is not None
        if item is not None and item not in items:
            items.append(item)
    if not items:
        return None
    postings = settle(transaction, payer, items, transaction.amount)
    rule: MatchRule = "invoice_number_slip" if slipped else "invoice_number"
    return Decision(transaction=transaction, rule=rule, postings=postings)


def _notice_mentions(
    transaction: BankTransaction, policy: MatchPolicy
) -> tuple[NumberMention, ...]:
    if not policy.notice_prefixes:
        return ()
    return invoice_mentions(transaction.remittance, policy.notice_prefixes)


def _by_notice_numbers(
    transaction: BankTransaction,
    notices: Sequence[NumberMention],
    customers: Sequence[str],
    books: Books,
) -> Decision | None:
    """A payment quoting a dunning notice pays what the customer owes: as § 367 (1) BGB
    orders it, costs first (dunning and return fees), then interest, then the invoices, each
    group the items due first first; the rest is credit. Notice numbers are taken as typed: a
    slip is never guessed at."""
    payer = _payer(transaction, notices, customers, books)
    if payer is None or not any(books.owners.get(n.number or "") == payer for n in notices):
        return None
    items = sorted(books.open_items(payer), key=_costs_interest_principal)
    postings = settle(transaction, payer, items, transaction.amount)
    return Decision(transaction=transaction, rule="dunning_notice", postings=postings)


def _payer(
    transaction: BankTransaction,
    mentions: Sequence[NumberMention],
    customers: Sequence[str],
    books: Books,
) -> str | None:
    """The customer named by number, else the one customer whose invoices are named."""
    if customers:
        return customers[0] if len(customers) == 1 else None
    owners = {books.owners[m.number] for m in mentions if m.number in books.owners}
    return owners.pop() if len(owners) == 1 else None


def _by_customer_amount(transaction: BankTransaction, customer_id: str, books: Books) -> Decision:
    open_items = books.open_items(customer_id)
    amount = transaction.amount
    if open_items and total(i.open for i in open_items) == amount:
        postings = settle(transaction, customer_id, open_items, amount)
        return Decision(transaction=transaction, rule="customer_amount", postings=postings)
    fitting = [item for item in open_items if item.open == amount]
    if len(fitting) == 1:
        postings = settle(transaction, customer_id, fitting, amount)
        return Decision(transaction=transaction, rule="customer_amount", postings=postings)
    if len(fitting) > 1:
        return unmatched(
            transaction,
            f"{amount} fits {len(fitting)} open items of {customer_id}: "
            + ", ".join(item.item for item in fitting),
        )
    return unmatched(transaction, f"{customer_id} named, but {amount} fits none of its open items")


def _returned(transaction: BankTransaction, books: Books, policy: MatchPolicy) -> Decision:
    own = parse_end_to_end_id(transaction.end_to_end_id)
    if own is None:
        return unmatched(transaction, "returned payment that names none of our collections")
    customer_id, item_key = own
    item = books.item(customer_id, item_key)
    principal = _returned_principal(transaction)
    if item is None:
        return unmatched(
            transaction, f"return of our collection {customer_id}-{item_key}: no such item"
        )
    if item.credited < principal:
        return unmatched(
            transaction,
            f"return of {principal} for {item.item}, which shows only {item.credited} paid",
        )
    # Only ISO reasons can end a mandate; a national code (MT940 ?34) is kept as the reason.
    reason = transaction.return_reason or transaction.bank_return_code or "returned"
    postings = [
        _posting(
            transaction, customer_id, "debit_return", principal, item, role="return"
        ).model_copy(update={"reason": reason})
    ]
    postings += _return_fee(transaction, customer_id, policy)
    revocations, notes = _revocation(transaction, customer_id, reason)
    return Decision(
        transaction=transaction,
        rule="debit_return",
        postings=tuple(postings),
        revocations=revocations,
        notes=notes,
    )


def _returned_principal(transaction: BankTransaction) -> Decimal:
    """What the return takes back: the instructed amount where given in euro, else the entry."""
    if transaction.instructed_amount is not None and transaction.instructed_currency in (
        None,
        CURRENCY,
    ):
        return abs(transaction.instructed_amount)
    return abs(transaction.amount)


def return_fee_item(transaction_id: str) -> str:
    """The item id of the fee for one returned debit; it fits an end-to-end id."""
    return "FEE" + hashlib.sha256(transaction_id.encode()).hexdigest()[:12].upper()


def _return_fee(
    transaction: BankTransaction, customer_id: str, policy: MatchPolicy
) -> list[Posting]:
    if policy.return_fee <= ZERO:
        return []
    return [
        Posting(
            posting_id=posting_id("fee", transaction.transaction_id, None),
            customer_id=customer_id,
            booked_on=transaction.booking_date,
            kind="return_fee",
            amount=policy.return_fee,
            item=return_fee_item(transaction.transaction_id),
            source=f"statement:{transaction.transaction_id}",
            text="Rücklastschriftgebühr",
            due_on=transaction.booking_date + timedelta(days=policy.fee_due_days),
            reason=transaction.return_reason,
        )
    ]


def _revocation(
    transaction: BankTransaction, customer_id: str, reason: str
) -> tuple[tuple[Revocation, ...], tuple[str, ...]]:
    if reason not in MANDATE_ENDING:
        return (), ()
    if not transaction.mandate_id:
        return (), (f"return reason {reason} ends the mandate, but the entry names none",)
    revocation = Revocation(
        customer_id=customer_id,
        mandate_reference=transaction.mandate_id,
        reason=reason,
        on=transaction.booking_date,
    )
    return (revocation,), ()


def settle(
    transaction: BankTransaction,
    customer_id: str,
    items: Sequence[OpenItem],
    amount: Decimal,
    *,
    role: str = "pay",
) -> tuple[Posting, ...]:
    """``amount`` over ``items`` in order, each at most its open amount; the rest is credit."""
    postings: list[Posting] = []
    left = amount
    for item in items:
        share = min(left, max(item.open, ZERO))
        if share > ZERO:
            postings.append(_posting(transaction, customer_id, "payment", -share, item, role=role))
            left -= share
    if left > ZERO:
        postings.append(_posting(transaction, customer_id, "payment", -left, None, role=role))
    return tuple(postings)


def _posting(
    transaction: BankTransaction,
    customer_id: str,
    kind: PostingKind,
    amount: Decimal,
    item: OpenItem | None,
    *,
    role: str = "pay",
) -> Posting:
    return Posting(
        posting_id=posting_id(role, transaction.transaction_id, item.item if item else None),
        customer_id=customer_id,
        booked_on=transaction.booking_date,
        kind=kind,
        amount=amount,
        item=item.item if item else None,
        document_number=item.document_number if item else None,
        source=f"statement:{transaction.transaction_id}",
        text=_text(transaction),
    )


def posting_id(role: str, transaction_id: str, item: str | None) -> str:
    """``<role>:<transaction id>:<item>`` (``credit`` for the account), hashed when too long."""
    value = f"{role}:{transaction_id}:{item or 'credit'}"
    if len(value) <= _MAX_POSTING_ID:
        return value
    digest = hashlib.sha256((item or "credit").encode()).hexdigest()[:16]
    return f"{role}:{transaction_id}:{digest}"


def _text(transaction: BankTransaction) -> str:
    who = transaction.counterparty_name or ""
    return (f"{who}: {transaction.remittance}" if who else transaction.remittance)[:300]


class AssignmentError(ValueError):
    """A transaction that cannot be assigned as asked, with the reason in words."""


def assign_by_hand(
    transaction: BankTransaction, account: Account, *, invoice: str | None, who: str
) -> Decision:
    """What a person decides for a transaction left unmatched.

    Money received settles the invoice named (else the customer's open items, oldest due first)
    and leaves the rest as credit. Money gone out reopens the invoice named as a returned debit,
    or, with no invoice, is a refund of the customer's credit.
    """
    if transaction.currency != CURRENCY:
        raise AssignmentError(f"currency {transaction.currency}: only EUR is posted")
    item = account.item(invoice) if invoice else None
    if invoice and item is None:
        raise AssignmentError(f"{account.customer_id} has no invoice {invoice}")
    if transaction.amount > ZERO:
        items = [item] if item else sorted(account.open_items(), key=_due_first)
        postings = settle(transaction, account.customer_id, items, transaction.amount)
    else:
        postings = (_outgoing_by_hand(transaction, account.customer_id, item),)
    return Decision(
        transaction=transaction, rule="manual", postings=postings, decided_by=f"manual:{who}"
    )


_SETTLING_ORDER = {"dunning_fee": 0, "return_fee": 0, "collection_fee": 0, "interest": 1}


def _costs_interest_principal(item: OpenItem) -> tuple[int, date, str]:
    return (_SETTLING_ORDER.get(item.kind, 2), *_due_first(item))


def _due_first(item: OpenItem) -> tuple[date, str]:
    return (item.due_on or item.opened_on, item.item)


def _outgoing_by_hand(
    transaction: BankTransaction, customer_id: str, item: OpenItem | None
) -> Posting:
    amount = abs(transaction.amount)
    if item is None:
        return _posting(transaction, customer_id, "refund", amount, None, role="refund")
    returned = _posting(transaction, customer_id, "debit_return", amount, item, role="return")
    return returned.model_copy(update={"reason": transaction.return_reason or "returned"})
