"""The demo's bank statement: how a hoster's customers pay one month's invoices, seeded.

Our collection comes back booked (the first payment information block with a detail per
transaction, the others as one sum carrying their PmtInfId); three debits are returned (AC04,
MD06, MS03); transfer customers pay with the texts people type, some pay part or too much, some
give only their customer number, a few texts match nothing, and some do not pay at all.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from localaws import bank
from shared.payments.collections import Collection
from shared.payments.debits import DebitFile

RETURN_REASONS = ("AC04", "MD06", "MS03")
# Shares of the transfer invoices, in this order; the rest pays exactly with a messy text.
UNPAID = Decimal("0.10")
PART = Decimal("0.05")
TOO_MUCH = Decimal("0.03")
CUSTOMER_ONLY = Decimal("0.07")
NOTHING_MATCHES = 4


@dataclass(frozen=True)
class OpenInvoice:
    customer_id: str
    number: str
    gross: Decimal


@dataclass
class MonthPlan:
    """The statement's bookings and what each kind of payer was meant to be."""

    items: list[bank.Item] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    unpaid: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)


def plan_month(
    debits: DebitFile, transfers: list[OpenInvoice], *, paid_until: date, seed: int = 2026
) -> MonthPlan:
    rng = random.Random(seed)
    plan = MonthPlan()
    _collection(plan, debits)
    _returns(plan, debits, rng)
    # By customer: which invoice number a customer gets depends on the order the run's shards
    # finished in, so an order by number would pick other customers in every demo.
    ordered = sorted(transfers, key=lambda invoice: (invoice.customer_id, invoice.number))
    rng.shuffle(ordered)
    shares = [UNPAID, PART, TOO_MUCH, CUSTOMER_ONLY]
    cuts = [int(len(ordered) * share) for share in shares]
    unpaid, rest = _take(ordered, cuts[0])
    plan.unpaid = [invoice.customer_id for invoice in unpaid]
    plan.kinds["transfer: not paid"] = len(unpaid)
    part, rest = _take(rest, cuts[1])
    over, rest = _take(rest, cuts[2])
    by_customer, rest = _take(rest, cuts[3])
    day = _days(rng, debits.collection_date - timedelta(days=10), paid_until)
    for invoice in part:
        _transfer(plan, "transfer: part", invoice, _part(invoice.gross), next(day), rng)
    for invoice in over:
        amount = invoice.gross + Decimal("10.00")
        _transfer(plan, "transfer: too much", invoice, amount, next(day), rng)
    for invoice in by_customer:
        text = f"Kd-Nr. {invoice.customer_id} Rechnung Hosting"
        plan.items.append(bank.Booking(invoice.gross, next(day), remittance=text))
        plan.kinds["transfer: customer number and amount"] += 1
    for invoice in rest:
        _transfer(plan, "transfer: exact, messy text", invoice, invoice.gross, next(day), rng)
    _nothing_matches(plan, next(day))
    return plan


def _take(invoices: list[OpenInvoice], count: int) -> tuple[list[OpenInvoice], list[OpenInvoice]]:
    return invoices[:count], invoices[count:]


def _days(rng: random.Random, first: date, last: date) -> Iterator[date]:
    span = max(0, (last - first).days)
    while True:
        yield first + timedelta(days=rng.randint(0, span))


def _part(gross: Decimal) -> Decimal:
    half = (gross / 2).quantize(Decimal("0.01"))
    return half if half > 0 else gross


def _collection(plan: MonthPlan, debits: DebitFile) -> None:
    """The first block with a detail each, every other block as one sum."""
    for index, block in enumerate(debits.batches):
        bookings = tuple(_collected(c, debits.collection_date) for c in block.collections)
        as_sum = index > 0
        batch = bank.Batch(bookings, payment_info_id=block.payment_info_id, as_sum=as_sum)
        plan.items.append(batch)
        kind = "collection booked as one sum" if as_sum else "collection with details"
        plan.kinds[kind] += len(bookings)


def _collected(collection: Collection, on: date) -> bank.Booking:
    return bank.Booking(
        collection.amount,
        on,
        end_to_end_id=collection.end_to_end_id,
        mandate_id=collection.mandate_reference,
        counterparty_name=f"Kunde {collection.customer_id}",
    )


def _returns(plan: MonthPlan, debits: DebitFile, rng: random.Random) -> None:
    collections = sorted(debits.collections, key=lambda c: c.end_to_end_id)
    chosen = rng.sample(collections, min(len(RETURN_REASONS), len(collections)))
    for days, (collection, reason) in enumerate(zip(chosen, RETURN_REASONS, strict=False)):
        plan.items.append(
            bank.Booking(
                -collection.amount,
                debits.collection_date + timedelta(days=2 + days),
                end_to_end_id=collection.end_to_end_id,
                mandate_id=collection.mandate_reference,
                counterparty_name=f"Kunde {collection.customer_id}",
                reversal=True,
                return_reason=reason,
            )
        )
        plan.returned.append(collection.customer_id)
        plan.kinds[f"debit returned ({reason})"] += 1


def messy_text(number: str, rng: random.Random) -> str:
    """An invoice number as people type it: lower case, spaces, O for 0, zeros dropped."""
    prefix, year, sequence = number.split("-")
    texts = (
        f"Rechnung {number}",
        f"{prefix.lower()} {year} {int(sequence)}",
        f"{prefix}-{year.replace('0', 'O')}-{sequence.replace('0', 'O')}",
        f"{prefix} {year} {sequence[:4]} {sequence[4:]}",
        f"zahlung {number.lower()} danke",
    )
    return rng.choice(texts)


def _transfer(
    plan: MonthPlan,
    kind: str,
    invoice: OpenInvoice,
    amount: Decimal,
    on: date,
    rng: random.Random,
) -> None:
    text = messy_text(invoice.number, rng)
    name = f"Kunde {invoice.customer_id}"
    plan.items.append(bank.Booking(amount, on, remittance=text, counterparty_name=name))
    plan.kinds[kind] += 1


def _nothing_matches(plan: MonthPlan, on: date) -> None:
    texts = ("Spende Vereinsfest", "Miete Dezember", "Rueckzahlung Auslage", "Geschenk Oma")
    for index in range(NOTHING_MATCHES):
        amount = Decimal("13.37") + index
        plan.items.append(bank.Booking(amount, on, remittance=texts[index % len(texts)]))
        plan.kinds["transfer: nothing matches"] += 1
