"""In-memory stand-ins for the dunning ports, with the conditional writes DynamoDB gives them,
and a small world that drives a dunning service over calendar time."""

from __future__ import annotations

import io
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pypdf import PdfReader

from shared.accounts.model import Posting
from shared.customers import Address, Customer, CustomerKind, shard_of
from shared.delivery.model import DeliveryRequest
from shared.dunning.interest import shipped_base_rates
from shared.dunning.levels import DunningLevels, shipped_levels
from shared.dunning.model import Case, Hold, HoldKind, Holds, Notice, ProvisioningEvent
from shared.dunning.pdf import render_notice
from shared.dunning.ports import ShardState
from shared.dunning.rules import Policy
from shared.dunning.run import (
    DunningFinalizeRequest,
    DunningReport,
    DunningShardRequest,
    DunningShardResult,
    run_id_for,
)
from shared.dunning.runner import DunningRunService
from shared.dunning.service import DunningService, DunningSetup
from shared.invoicing.model import document_key
from tests.unit.fakes import SELLER, FakeArchive, FakeNumberRanges
from tests.unit.ledger_fakes import MemoryLedger

SHARDS = 2


class MemoryDunningStore:
    def __init__(self, shard_count: int = SHARDS) -> None:
        self.shard_count = shard_count
        self.cases: dict[str, Case] = {}
        self.hold_records: dict[tuple[str, str, str], Hold] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.conflict_next_save = False

    def shard_state(self, shard: int) -> ShardState:
        state = ShardState()
        for customer_id, case in self.cases.items():
            if case.shard == shard:
                state.cases[customer_id] = case
        for customer_id in {key[0] for key in self.hold_records}:
            if shard_of(customer_id, self.shard_count) == shard:
                state.holds[customer_id] = self.holds(customer_id)
        return state

    def case(self, customer_id: str) -> Case | None:
        return self.cases.get(customer_id)

    def cases_of(self, customer_ids: Collection[str]) -> dict[str, Case]:
        return {c: self.cases[c] for c in customer_ids if c in self.cases}

    def holds(self, customer_id: str) -> Holds:
        mine = [hold for key, hold in sorted(self.hold_records.items()) if key[0] == customer_id]
        return Holds(holds=tuple(mine))

    def save_case(self, case: Case) -> Case | None:
        stored = self.cases.get(case.customer_id)
        if self.conflict_next_save:
            self.conflict_next_save = False
            return None
        if (stored.version if stored else 0) != case.version:
            return None
        saved = case.model_copy(update={"version": case.version + 1})
        self.cases[case.customer_id] = saved
        return saved

    def close_case(self, case: Case, *, closed_on: date, reason: str) -> bool:
        stored = self.cases.get(case.customer_id)
        if stored is None or stored.version != case.version:
            return False
        record = case.model_dump(mode="json") | {"closed_on": closed_on, "reason": reason}
        self.history.setdefault(case.customer_id, []).append(record)
        del self.cases[case.customer_id]
        return True

    def closed_cases(self, customer_id: str) -> list[dict[str, Any]]:
        return list(self.history.get(customer_id, []))

    def put_hold(self, hold: Hold) -> None:
        self.hold_records[(hold.customer_id, hold.kind, hold.item or "")] = hold

    def remove_hold(self, customer_id: str, kind: HoldKind, item: str | None) -> bool:
        return self.hold_records.pop((customer_id, kind, item or ""), None) is not None


class FakeCustomers:
    def __init__(self) -> None:
        self.records: dict[str, Customer] = {}
        self.calls = 0

    def customers(self, shard: int, customer_ids: Sequence[str]) -> dict[str, Customer]:
        self.calls += 1
        return {c: self.records[c] for c in customer_ids if c in self.records}


class RecordedEvents:
    def __init__(self) -> None:
        self.sent: list[ProvisioningEvent] = []

    def publish(self, events: Sequence[ProvisioningEvent]) -> None:
        self.sent.extend(events)

    def of(self, customer_id: str) -> list[str]:
        return [e.detail_type for e in self.sent if e.customer_id == customer_id]


class MemoryNotices:
    def __init__(self) -> None:
        self.issued: dict[str, Notice] = {}
        self.keys: dict[str, str] = {}
        self.voids: dict[str, str] = {}

    def issue_notice(self, notice: Notice, *, pdf_key: str) -> bool:
        if notice.number in self.issued or notice.number in self.voids:
            return False
        self.issued[notice.number] = notice
        self.keys[notice.number] = pdf_key
        return True

    def notice(self, customer_id: str, issue_date: date, number: str) -> Notice | None:
        return self.issued.get(number)

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        if number in self.issued:
            return False
        self.voids.setdefault(number, reason)
        return True

    def of(self, customer_id: str) -> list[Notice]:
        return [n for n in self.issued.values() if n.customer_id == customer_id]


class RecordedQueue:
    def __init__(self) -> None:
        self.announced: list[DeliveryRequest] = []

    def announce(self, requests: Sequence[DeliveryRequest]) -> None:
        self.announced.extend(requests)


class MemoryRuns:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.stored: dict[tuple[str, str, int], str] = {}

    def start_run(self, values: dict[str, Any]) -> None:
        self.runs[values["run_id"]] = dict(values)

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return self.runs.get(run_id)

    def finish_run(self, run_id: str, status: str, report_key: str) -> None:
        self.runs.setdefault(run_id, {}).update(status=status, report_key=report_key)

    def save_result(self, run_id: str, execution: str, shard: int, result: str) -> None:
        self.stored[(run_id, execution, shard)] = result

    def results(self, run_id: str, execution: str) -> list[str]:
        return [v for (r, e, _), v in sorted(self.stored.items()) if (r, e) == (run_id, execution)]


class MemoryFiles:
    bucket = "work"

    def __init__(self) -> None:
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.json: dict[str, Any] = {}

    def write_lines(self, key: str, lines: Sequence[BaseModel]) -> bool:
        if key in self.files:
            return False
        self.files[key] = [line.model_dump(mode="json") for line in lines]
        return True

    def write_json(self, key: str, document: Any) -> str:
        self.json[key] = document
        return key


def person(
    number: int,
    *,
    kind: CustomerKind = "consumer",
    country: str = "DE",
    delivery: str = "email",
    name: str = "Jürgen Müller",
) -> Customer:
    customer_id = f"C{number:07d}"
    return Customer.model_validate(
        {
            "customer_id": customer_id,
            "name": name,
            "email": f"kunde{number}@example.org",
            "address": Address(
                street="Hauptstraße 1", postal_code="10115", city="Berlin", country=country
            ),
            "kind": kind,
            "vat_id": "DE123456788" if kind == "business" else None,
            "shard": shard_of(customer_id, SHARDS),
            "delivery": delivery,
        }
    )


@dataclass
class World:
    """A hoster's books and dunning, on memory, for scenarios over calendar time."""

    levels: DunningLevels = field(default_factory=shipped_levels)
    minimum_open: Decimal = Decimal("5.00")
    ledger: MemoryLedger = field(default_factory=lambda: MemoryLedger(SHARDS))
    store: MemoryDunningStore = field(default_factory=MemoryDunningStore)
    directory: FakeCustomers = field(default_factory=FakeCustomers)
    ranges: FakeNumberRanges = field(default_factory=FakeNumberRanges)
    notices: MemoryNotices = field(default_factory=MemoryNotices)
    archive: FakeArchive = field(default_factory=FakeArchive)
    events: RecordedEvents = field(default_factory=RecordedEvents)
    queue: RecordedQueue = field(default_factory=RecordedQueue)
    runs: MemoryRuns = field(default_factory=MemoryRuns)
    files: MemoryFiles = field(default_factory=MemoryFiles)
    render: Callable[[Notice], bytes] = render_notice

    @property
    def service(self) -> DunningService:
        return DunningService(
            ledger=self.ledger,
            store=self.store,
            customers=self.directory,
            ranges=self.ranges,
            notices=self.notices,
            archive=self.archive,
            events=self.events,
            policy=Policy(
                levels=self.levels,
                rates=shipped_base_rates(),
                seller=SELLER,
                minimum_open=self.minimum_open,
            ),
            setup=DunningSetup(shard_count=SHARDS, notice_prefix="MA", retention_years=6),
            deliveries=self.queue,
            runs=self.runs,
            render=self.render,
        )

    @property
    def runner(self) -> DunningRunService:
        return DunningRunService(
            runs=self.runs,
            work=self.files,
            files=self.files,
            store=self.store,
            shard_count=SHARDS,
            level_keys=tuple(level.key for level in self.levels.levels),
        )

    def finalize(self, day: date, *, execution: str = "x1") -> DunningReport:
        request = DunningFinalizeRequest(
            run_id=run_id_for(day), run_date=day, execution=execution, shards=SHARDS
        )
        return self.runner.finalize(request)

    def add(self, customer: Customer) -> Customer:
        self.directory.records[customer.customer_id] = customer
        return customer

    def invoice(
        self, customer: Customer, number: str, amount: str, *, issued: date, due: date
    ) -> None:
        self.ledger.post(
            [
                Posting(
                    posting_id=f"invoice:{number}",
                    customer_id=customer.customer_id,
                    booked_on=issued,
                    kind="invoice",
                    amount=Decimal(amount),
                    item=number,
                    document_number=number,
                    source=f"invoice:{number}",
                    due_on=due,
                )
            ]
        )

    def pay(self, customer: Customer, item: str, amount: str, *, on: date, tag: str = "") -> None:
        self.ledger.post(
            [
                Posting(
                    posting_id=f"statement:{customer.customer_id}:{item}:{on}{tag}",
                    customer_id=customer.customer_id,
                    booked_on=on,
                    kind="payment",
                    amount=-Decimal(amount),
                    item=item,
                    source=f"statement:{on}",
                )
            ]
        )

    def pay_all(self, customer: Customer, *, on: date) -> None:
        for item in self.ledger.account(customer.customer_id).open_items():
            self.pay(customer, item.item, str(item.open), on=on, tag=":all")

    def run(self, day: date, *, execution: str = "x1") -> list[DunningShardResult]:
        return [
            self.service.run_shard(
                DunningShardRequest(
                    run_id=run_id_for(day), run_date=day, execution=execution, shard=shard
                )
            )
            for shard in range(SHARDS)
        ]

    def run_days(self, first: date, last: date) -> None:
        day = first
        while day <= last:
            self.run(day)
            day += timedelta(days=1)

    def case(self, customer: Customer) -> Case | None:
        return self.store.case(customer.customer_id)

    def pdf_text(self, notice: Notice) -> str:
        body = self.archive.objects[document_key(notice.customer_id, notice.number)]
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
