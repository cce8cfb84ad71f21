"""Figures of the dunning run: the shard use case in memory, a notice's PDF, and whole runs
through the state machine on the embedded AWS.

In memory the accounts are an indexed in-memory ledger. On the embedded AWS they are main's
DynamoDB ledger; its overdue customers are answered by reading the accounts of the bench's
customers, whose invoices are postings rather than documents of a run (the figure of a day with
nothing due includes those reads).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.accounts.model import Account, Posting, account_of
from shared.customers import Address, Customer, shard_of

DUE = date(2026, 1, 15)
REMINDER = date(2026, 1, 22)
FIRST_NOTICE = date(2026, 2, 2)


class IndexedLedger:
    """Postings by customer, so that the bench measures dunning rather than a fake's scans."""

    def __init__(self, shard_count: int) -> None:
        self.shard_count = shard_count
        self.by_customer: dict[str, dict[str, Posting]] = defaultdict(dict)

    def post(self, postings: Sequence[Posting]) -> int:
        new = 0
        for posting in postings:
            mine = self.by_customer[posting.customer_id]
            if posting.posting_id not in mine:
                mine[posting.posting_id] = posting
                new += 1
        return new

    def account(self, customer_id: str) -> Account:
        return account_of(customer_id, self.by_customer.get(customer_id, {}).values())

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        for mine in self.by_customer.values():
            yield from (p for p in mine.values() if first <= p.booked_on <= last)

    def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
        for customer_id in sorted(self.by_customer):
            if shard_of(customer_id, self.shard_count) != shard:
                continue
            items = self.account(customer_id).open_items()
            if any(i.due_on is not None and i.due_on < due_before for i in items):
                yield customer_id


def customer(number: int, shards: int) -> Customer:
    customer_id = f"C{number:07d}"
    return Customer(
        customer_id=customer_id,
        name=f"Kundin {number}",
        email=f"kundin{number}@example.org",
        address=Address(street="Weg 1", postal_code="20095", city="Hamburg", country="DE"),
        kind="business" if number % 2 else "consumer",
        shard=shard_of(customer_id, shards),
    )


def invoice(who: Customer) -> Posting:
    number = f"RE-2026-{int(who.customer_id[1:]):08d}"
    return Posting(
        posting_id=f"invoice:{number}",
        customer_id=who.customer_id,
        booked_on=date(2026, 1, 1),
        kind="invoice",
        amount=Decimal("119.00"),
        item=number,
        document_number=number,
        source=f"invoice:{number}",
        due_on=DUE,
    )


def in_memory(customers: int) -> list[Any]:
    """One shard use case per shard on the reminder day and on the first notice's day."""
    from bench.__main__ import Figure

    sys.path.insert(0, ".")
    from tests.unit.dunning_fakes import SHARDS, World

    world = World(ledger=IndexedLedger(SHARDS))  # type: ignore[arg-type]
    for number in range(1, customers + 1):
        world.add(customer(number, SHARDS))
        world.ledger.post([invoice(world.directory.records[f"C{number:07d}"])])
    seconds = []
    for day in (REMINDER, FIRST_NOTICE):
        started = time.perf_counter()
        world.run(day)
        seconds.append(time.perf_counter() - started)
    steps = 2 * customers
    renders = notice_renders(world, 200)
    return [
        Figure(
            "dunning steps in memory (rules, postings, PDF, archive)",
            round(steps / sum(seconds), 1),
            "steps/s",
        ),
        Figure("dunning: ms per step in memory", round(sum(seconds) / steps * 1000, 3), "ms"),
        Figure("dunning notice render", round(statistics.median(renders) * 1000, 3), "ms"),
    ]


def notice_renders(world: Any, count: int) -> list[float]:
    from shared.dunning.pdf import render_notice

    notice = next(iter(world.notices.issued.values()))
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        render_notice(notice)
        timings.append(time.perf_counter() - started)
    return timings


def scanned_ledger(client: Any, table: str, customer_ids: list[str], shards: int) -> Any:
    from shared.storage.ledger import DynamoLedger

    class ScannedOverdueLedger(DynamoLedger):
        def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
            for customer_id in customer_ids:
                if shard_of(customer_id, shards) != shard:
                    continue
                items = self.account(customer_id).open_items()
                if any(i.due_on is not None and i.due_on < due_before for i in items):
                    yield customer_id

    return ScannedOverdueLedger(client, table)


def embedded_run(customers: int, shards: int) -> list[Any]:
    """The dunning state machine on the embedded AWS, on the reminder day and again a day later
    (nothing to do but look), for ``customers`` customers with an overdue invoice."""
    from bench.__main__ import Figure
    from localaws import embedded
    from shared import wiring
    from shared.storage.dynamodb import DynamoContracts

    original = wiring.dunning_ledger
    try:
        with embedded.in_process({"BILLING_SHARD_COUNT": str(shards)}) as stack:
            clients = embedded.client_factory()
            everyone = [customer(number, shards) for number in range(1, customers + 1)]
            ids = [who.customer_id for who in everyone]
            ledger = scanned_ledger(
                clients("dynamodb"), stack.table_names["Documents"], ids, shards
            )
            wiring.dunning_ledger = lambda *_: ledger
            DynamoContracts(clients("dynamodb"), stack.table_names["Contracts"]).save_customers(
                everyone
            )
            ledger.post([invoice(who) for who in everyone])
            stepping = _run(clients, stack, REMINDER)
            looking = _run(clients, stack, REMINDER + timedelta(days=1))
    finally:
        wiring.dunning_ledger = original
    return [
        Figure(
            "dunning run on the embedded AWS (notices)", round(customers / stepping, 1), "notices/s"
        ),
        Figure("dunning run: seconds for a day with nothing due", round(looking, 2), "s"),
    ]


def _run(clients: Any, stack: Any, day: date) -> float:
    stepfunctions = clients("stepfunctions")
    started = time.perf_counter()
    arn = stepfunctions.start_execution(
        stateMachineArn=stack.dunning_run_arn,
        name=f"bench-{day.isoformat()}",
        input=json.dumps({"run_date": day.isoformat()}),
    )["executionArn"]
    while stepfunctions.describe_execution(executionArn=arn)["status"] == "RUNNING":
        time.sleep(0.05)
    return time.perf_counter() - started
