"""Statement import: a CAMT.053 of 100,000 entries against seeded open items.

The statement comes from the simulated bank (localaws/bank.py) and pays a synthetic hoster's
invoices the ways banks report them: our own collections by end-to-end id (booked with details,
and a few batches booked as one sum), transfers naming the invoice number, messy texts (missing
zeros, O for 0, spaces, customer number and amount, a dropped or swapped digit), partial and
over-payments, returned debits, and payments nothing identifies. It is parsed, then imported on
the embedded AWS, timed step by step; the share of the import's wall time with an AWS call in
flight is the emulator's. The same statement is imported once more (nothing new may be posted),
and once with in-memory ports: our code alone. Both imports must report the same figures.

On AWS, moto's work becomes waiting for the network, while our code and the client's CPU for
each call (botocore building and parsing requests, measured here apart from moto's) stay. The
projection for one worker adds the three: our code, the client's CPU, and the calls' assumed
latencies divided by how many the import keeps in flight.

Seeding writes the document items the ledger reads (keys, number, type, dates, gross) and the
number blocks the invoice run would have reserved, without rendering PDFs: the run is measured
by its own bench.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bench.probes import ApiCall, around_api_calls, replaced
from infra import spec
from localaws import bank
from shared.accounts.model import Posting
from shared.customers import shard_of
from shared.orders.model import Mandate
from shared.payments.collections import MANDATE_ENDING, Collection, CollectionBatch
from shared.payments.importing import ImportReport, PaymentImport
from shared.payments.matching import MatchPolicy
from shared.payments.references import compact
from shared.payments.statement import StatementFile
from shared.payments.statements import read_statement
from shared.storage.dynamodb import BULK_CALLS
from shared.storage.ledger import PARALLEL_READS

ENTRIES_TARGET_PER_SECOND = 10_000.0
ISSUED = (date(2026, 11, 1), date(2026, 12, 1))
BOOKED = date(2026, 12, 10)
RETURNED = date(2026, 12, 14)
OUR_IBAN = "DE02120300000000202051"
SHARDS = 64
BLOCK = 1000
SUMMED_BATCH = 100
DETAIL_BATCH = 1000
PRICES = ("4.99", "9.99", "11.90", "17.85", "19.99", "23.80", "29.75", "59.50", "119.00")
RETURN_REASONS = ("AC04", "MD06", "MS03", "AM04", "MD07")
# Typical latencies of DynamoDB calls from a Lambda function in the same region, in seconds
# (assumed, as in docs/scale-model.md), and how many of a kind the import has in flight at once.
AWS_LATENCY = {"Query": 0.006, "BatchGetItem": 0.008, "BatchWriteItem": 0.010, "other": 0.005}
IN_FLIGHT = {"Query": PARALLEL_READS, "BatchWriteItem": BULK_CALLS, "BatchGetItem": BULK_CALLS}
# The import in parts' own steps on AWS (assumed): three Lambda invocations one after the other,
# the Map reading its manifest and starting its child executions, the parts' S3 reads and writes.
STATE_MACHINE_SECONDS = 2.0
# A cold start of the part workers (Python, boto3, pydantic, powertools at 1,769 MB; assumed):
# a daily import finds them cold; they start at once, so it counts once.
WORKER_COLD_START_SECONDS = 1.0


@dataclass(frozen=True)
class OpenInvoice:
    customer_id: str
    number: str
    gross: Decimal
    issued: date


@dataclass
class Plan:
    """The statement's bookings and what must be stored before it can be matched."""

    invoices: list[OpenInvoice]
    items: list[bank.Item] = field(default_factory=list)
    batches: list[CollectionBatch] = field(default_factory=list)
    mandates: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def entries(self) -> int:
        """Transactions as the statement reports them: a batch with details is one each."""
        return sum(
            len(item.bookings) if isinstance(item, bank.Batch) and not item.as_sum else 1
            for item in self.items
        )


def open_invoices(customers: int, rng: random.Random) -> list[OpenInvoice]:
    """Two invoices per customer, numbered in order as a run would number them."""
    invoices = []
    for index in range(customers):
        customer_id = f"C{index + 1:07d}"
        for month, issued in enumerate(ISSUED):
            number = f"RE-2026-{index * 2 + month + 1:08d}"
            invoices.append(OpenInvoice(customer_id, number, Decimal(rng.choice(PRICES)), issued))
    return invoices


def plan_statement(entries: int, rng: random.Random) -> Plan:
    """About ``entries`` transactions: 40 % collections with details, 40 % exact invoice
    numbers, 8 % messy texts, 2 % partial or over-payments, 3 % returns, 7 % unmatched, and
    1 % of the invoices collected in batches booked as one sum."""
    plan = Plan(open_invoices(entries // 2, rng))
    by_customer: dict[str, list[OpenInvoice]] = {}
    for invoice in plan.invoices:
        by_customer.setdefault(invoice.customer_id, []).append(invoice)
    customers = list(by_customer)
    rng.shuffle(customers)
    both = customers[: entries // 50]
    for customer_id in both:
        _customer_and_total(plan, by_customer[customer_id])
    pool = [invoice for c in customers[len(both) :] for invoice in by_customer[c]]
    rng.shuffle(pool)
    taken = iter(pool)
    collected = _collections(plan, [next(taken) for _ in range(entries * 40 // 100)])
    _summed(plan, [next(taken) for _ in range(entries // 100)])
    for _ in range(entries * 40 // 100):
        _exact(plan, next(taken), rng)
    for index in range(entries * 4 // 100):
        _messy(plan, next(taken), rng, index)
    for _ in range(entries * 2 // 100):
        _partial(plan, next(taken), rng)
    for index in range(entries * 7 // 100):
        _unmatched(plan, rng, index)
    _returns(plan, rng.sample(collected, entries * 3 // 100), rng)
    return plan


def _booking(amount: Decimal, **values: Any) -> bank.Booking:
    return bank.Booking(amount, values.pop("booking_date", BOOKED), **values)


def _end_to_end(invoice: OpenInvoice) -> str:
    return f"{invoice.customer_id}-{compact(invoice.number)}"


def _collections(plan: Plan, invoices: list[OpenInvoice]) -> list[OpenInvoice]:
    for start in range(0, len(invoices), DETAIL_BATCH):
        chunk = invoices[start : start + DETAIL_BATCH]
        bookings = tuple(
            _booking(
                i.gross,
                end_to_end_id=_end_to_end(i),
                mandate_id=f"M-{i.customer_id}",
                counterparty_name=f"Kunde {i.customer_id}",
            )
            for i in chunk
        )
        plan.items.append(bank.Batch(bookings, payment_info_id=f"PMT-DETAILS-{start:07d}"))
    plan.kinds["collection with details"] += len(invoices)
    return invoices


def _summed(plan: Plan, invoices: list[OpenInvoice]) -> None:
    for start in range(0, len(invoices), SUMMED_BATCH):
        chunk = invoices[start : start + SUMMED_BATCH]
        payment_info_id = f"PMT-SUM-{start:07d}"
        plan.batches.append(
            CollectionBatch(
                payment_info_id=payment_info_id,
                file_id="DD-BENCH",
                collection_date=BOOKED,
                collections=tuple(
                    Collection(
                        customer_id=i.customer_id,
                        item=i.number,
                        amount=i.gross,
                        end_to_end_id=_end_to_end(i),
                        mandate_reference=f"M-{i.customer_id}",
                        sequence="RCUR",
                    )
                    for i in chunk
                ),
            )
        )
        bookings = tuple(_booking(i.gross, end_to_end_id=_end_to_end(i)) for i in chunk)
        plan.items.append(bank.Batch(bookings, payment_info_id=payment_info_id, as_sum=True))
        plan.kinds["collection batch booked as one sum"] += 1


def _exact(plan: Plan, invoice: OpenInvoice, rng: random.Random) -> None:
    text = rng.choice(("Rechnung {n}", "{n}", "RG {n} Kunde {c}", "Zahlung zu {n} danke"))
    plan.items.append(
        _booking(
            invoice.gross,
            remittance=text.format(n=invoice.number, c=invoice.customer_id),
            counterparty_name=f"Kunde {invoice.customer_id}",
        )
    )
    plan.kinds["invoice number"] += 1


def _messy(plan: Plan, invoice: OpenInvoice, rng: random.Random, index: int) -> None:
    sequence = invoice.number.rsplit("-", 1)[1]
    swapped = sequence[:5] + sequence[6] + sequence[5] + sequence[7]
    texts = (
        f"re 2026 {int(sequence)}",
        f"RE-2O26-{sequence.replace('0', 'O')}",
        f"RE 2026 {sequence[:4]} {sequence[4:]}",
        f"Kd {invoice.customer_id} RE-2026-{swapped}",
    )
    plan.items.append(_booking(invoice.gross, remittance=texts[index % len(texts)]))
    plan.kinds["messy text"] += 1


def _customer_and_total(plan: Plan, invoices: list[OpenInvoice]) -> None:
    amount = sum((i.gross for i in invoices), start=Decimal("0.00"))
    customer_id = invoices[0].customer_id
    plan.items.append(_booking(amount, remittance=f"Kundennummer {customer_id}"))
    plan.kinds["customer number and amount"] += 1


def _partial(plan: Plan, invoice: OpenInvoice, rng: random.Random) -> None:
    amount = invoice.gross - Decimal("1.00") if rng.random() < 0.5 else invoice.gross + Decimal("5")
    plan.items.append(_booking(amount, remittance=invoice.number))
    plan.kinds["partial or over-payment"] += 1


def _unmatched(plan: Plan, rng: random.Random, index: int) -> None:
    texts = ("Miete Dezember", "Spende", "RE-2025-99999999", "Rückzahlung", "")
    amount = Decimal(rng.randint(100, 20_000)) / 100
    plan.items.append(
        _booking(amount, remittance=texts[index % len(texts)], end_to_end_id=f"FOREIGN-{index}")
    )
    plan.kinds["nothing that identifies"] += 1


def _returns(plan: Plan, invoices: list[OpenInvoice], rng: random.Random) -> None:
    for invoice in invoices:
        reason = rng.choice(RETURN_REASONS)
        if reason in MANDATE_ENDING:
            plan.mandates.append(invoice.customer_id)
        plan.items.append(
            _booking(
                -invoice.gross,
                booking_date=RETURNED,
                end_to_end_id=_end_to_end(invoice),
                mandate_id=f"M-{invoice.customer_id}",
                reversal=True,
                return_reason=reason,
            )
        )
    plan.kinds["returned debit"] += len(invoices)


def camt_file(plan: Plan) -> bytes:
    statement = bank.BankStatement(
        plan.items, account=bank.Account(iban=OUR_IBAN), statement_id="STMT-BENCH-2026-12"
    )
    return bank.camt053(statement)


# --- timing -----------------------------------------------------------------------------------


@dataclass
class InFlight:
    """Wall seconds with at least one AWS call in flight, the calls by operation, and the CPU
    seconds the calling threads spent in the client (botocore) apart from moto's own work: that
    part stays when the import talks to AWS."""

    seconds: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    client_cpu: float = 0.0
    _active: int = 0
    _since: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, operation: str) -> None:
        with self._lock:
            if self._active == 0:
                self._since = time.perf_counter()
            self._active += 1
            self.calls[operation] += 1

    def leave(self, cpu: float) -> None:
        with self._lock:
            self._active -= 1
            self.client_cpu += cpu
            if self._active == 0:
                self.seconds += time.perf_counter() - self._since


@contextmanager
def emulator_time() -> Iterator[InFlight]:
    from moto.core.botocore_stubber import BotocoreStubber

    timer = InFlight()
    dispatch = BotocoreStubber.process_request
    in_moto = threading.local()

    def call(make_call: ApiCall, client: Any, operation: str, params: Any) -> Any:
        timer.enter(operation)
        in_moto.cpu = 0.0
        started = time.thread_time()
        try:
            return make_call(client, operation, params)
        finally:
            timer.leave(time.thread_time() - started - in_moto.cpu)

    def answer(stubber: Any, request: Any) -> Any:
        started = time.thread_time()
        try:
            return dispatch(stubber, request)
        finally:
            in_moto.cpu += time.thread_time() - started

    with around_api_calls(call), replaced(BotocoreStubber, "process_request", answer):
        yield timer


# --- the runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    entries: int
    file_bytes: int
    parse_seconds: float
    report: ImportReport
    wall: float
    emulator: InFlight
    again: ImportReport
    again_wall: float
    memory: ImportReport
    memory_wall: float
    kinds: Counter[str]
    split: SplitFigures


@dataclass(frozen=True)
class SplitFigures:
    """The import in parts, measured in this process: planning the parts (owners of the quoted
    numbers, routing), writing them as prepare does, and reading one back as a worker does."""

    parts: int
    largest_part: int
    rest: int
    plan_seconds: float
    write_seconds: float
    read_seconds: float


def split_figures(plan: Plan, statement: StatementFile) -> SplitFigures:
    from shared.payments.parts import PartedImport

    parted = PartedImport(memory_use_case(plan))
    started = time.perf_counter()
    planned = parted.plan(statement)
    plan_seconds = time.perf_counter() - started
    started = time.perf_counter()
    written = [part.model_dump_json() for part in planned.parts]
    write_seconds = time.perf_counter() - started
    largest = max(range(len(written)), key=lambda n: len(written[n]))
    started = time.perf_counter()
    StatementFile.model_validate_json(written[largest])
    read_seconds = time.perf_counter() - started
    return SplitFigures(
        parts=len(planned.parts),
        largest_part=max(planned.entries),
        rest=sum(len(s.transactions) for s in planned.rest.statements),
        plan_seconds=plan_seconds,
        write_seconds=write_seconds,
        read_seconds=read_seconds,
    )


def payment_figures(entries: int) -> list[Any]:
    rng = random.Random(2026)
    plan = plan_statement(entries, rng)
    data = camt_file(plan)
    started = time.perf_counter()
    statement = read_statement(data)
    parse_seconds = time.perf_counter() - started
    memory, memory_wall = in_memory(plan, statement)
    split = split_figures(plan, statement)
    report, wall, emulator, again, again_wall = on_embedded_aws(plan, statement)
    measured = Measured(
        entries=plan.entries,
        file_bytes=len(data),
        parse_seconds=parse_seconds,
        report=report,
        wall=wall,
        emulator=emulator,
        again=again,
        again_wall=again_wall,
        memory=memory,
        memory_wall=memory_wall,
        kinds=plan.kinds,
        split=split,
    )
    check(measured)
    return figures(measured)


def memory_use_case(plan: Plan) -> PaymentImport:
    """The import on in-memory ports (the unit tests' fakes), the plan's invoices on the books."""
    from tests.unit.ledger_fakes import MemoryLedger
    from tests.unit.payment_fakes import MemoryBatches, MemoryDecisions, MemoryLock, MemoryMandates

    ledger = MemoryLedger()
    ledger.post([invoice_posting(invoice) for invoice in plan.invoices])
    owners = {invoice.number: invoice.customer_id for invoice in plan.invoices}
    return PaymentImport(
        ledger=ledger,
        decisions=MemoryDecisions(),
        owners=_DictOwners(owners),
        batches=MemoryBatches(*plan.batches),
        mandates=MemoryMandates(),
        lock=MemoryLock(),
        policy=bench_policy(),
    )


def in_memory(plan: Plan, statement: StatementFile) -> tuple[ImportReport, float]:
    use_case = memory_use_case(plan)
    started = time.perf_counter()
    report = use_case.run(statement)
    return report, time.perf_counter() - started


class _DictOwners:
    def __init__(self, owners: dict[str, str]) -> None:
        self._owners = owners

    def owners(self, numbers: Any) -> dict[str, str]:
        return {n: self._owners[n] for n in numbers if n in self._owners}


def bench_policy() -> MatchPolicy:
    """The policy the import gets from the default settings (shared/wiring.py)."""
    values = spec.default_settings()
    return MatchPolicy(
        invoice_prefixes=(values["BILLING_INVOICE_PREFIX"], values["BILLING_CREDIT_NOTE_PREFIX"]),
        return_fee=Decimal(values["BILLING_RETURN_FEE"]),
        fee_due_days=int(values["BILLING_PAYMENT_TERM_DAYS"]),
        own_ibans=(compact(values["BILLING_SELLER_IBAN"]),),
    )


def invoice_posting(invoice: OpenInvoice) -> Posting:
    return Posting(
        posting_id=f"invoice:{invoice.number}",
        customer_id=invoice.customer_id,
        booked_on=invoice.issued,
        kind="invoice",
        amount=invoice.gross,
        item=invoice.number,
        document_number=invoice.number,
        source=f"invoice:{invoice.number}",
        due_on=invoice.issued + timedelta(days=14),
    )


def on_embedded_aws(
    plan: Plan, statement: StatementFile
) -> tuple[ImportReport, float, InFlight, ImportReport, float]:
    from localaws import embedded
    from shared.settings import Settings
    from shared.wiring import payment_import

    with embedded.in_process({"BILLING_SHARD_COUNT": str(SHARDS)}) as stack:
        dynamodb = embedded.client_factory()("dynamodb")
        seed(dynamodb, stack.table_names, plan)
        use_case = payment_import(Settings(), dynamodb)
        with emulator_time() as emulator:
            started = time.perf_counter()
            report = use_case.run(statement)
            wall = time.perf_counter() - started
        started = time.perf_counter()
        again = payment_import(Settings(), dynamodb).run(statement)
        again_wall = time.perf_counter() - started
    return report, wall, emulator, again, again_wall


def seed(dynamodb: Any, tables: dict[str, str], plan: Plan) -> None:
    from shared.storage.debits import DynamoCollectionBatches
    from shared.storage.dynamodb import batch_put, mandate_item

    batch_put(dynamodb, tables["Documents"], map(document_item, plan.invoices))
    batch_put(dynamodb, tables["Control"], number_blocks(plan.invoices))
    batch_put(
        dynamodb,
        tables["Contracts"],
        (mandate_item(shard_of(c, SHARDS), _mandate(c)) for c in dict.fromkeys(plan.mandates)),
    )
    batches = DynamoCollectionBatches(dynamodb, tables["Control"])
    for batch in plan.batches:
        batches.record(batch)


def document_item(invoice: OpenInvoice) -> dict[str, Any]:
    """The attributes of an invoice item that the ledger and the number lookup read."""
    return {
        "pk": f"CUST#{invoice.customer_id}",
        "sk": f"DOC#{invoice.issued.isoformat()}#{invoice.number}",
        "doc_number": invoice.number,
        "number": invoice.number,
        "document_type": "invoice",
        "customer_id": invoice.customer_id,
        "issue_date": invoice.issued.isoformat(),
        "due_date": (invoice.issued + timedelta(days=14)).isoformat(),
        "gross": invoice.gross,
    }


def number_blocks(invoices: list[OpenInvoice]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(invoices), BLOCK):
        chunk = invoices[start : start + BLOCK]
        yield {
            "pk": "RANGE#RE-2026",
            "sk": f"BLOCK#bench#SHARD#00000#{start // BLOCK:04d}",
            "first": start + 1,
            "customers": [invoice.customer_id for invoice in chunk],
            "issue_date": chunk[0].issued.isoformat(),
            "voids": {},
        }


def _mandate(customer_id: str) -> Mandate:
    return Mandate(
        reference=f"M-{customer_id}",
        customer_id=customer_id,
        signed_on=date(2025, 1, 1),
        iban="DE89370400440532013000",
        account_holder=f"Kunde {customer_id}",
        creditor_id="DE98ZZZ09999999999",
    )


def check(measured: Measured) -> None:
    """Figures of an import that did not post what it should would be figures of something else."""
    report, memory, again = measured.report, measured.memory, measured.again
    same = ("entries", "matched", "by_rule", "received", "returned", "unmatched", "postings")
    differing = [name for name in same if getattr(report, name) != getattr(memory, name)]
    if differing:
        raise SystemExit("the embedded AWS and the in-memory import differ in " + str(differing))
    if report.entries != measured.entries or report.matched < report.entries * 0.9:
        raise SystemExit(f"only {report.matched} of {report.entries} entries matched")
    if again.postings or again.duplicates != again.entries:
        raise SystemExit(f"the re-import posted {again.postings} postings")


def aws_waits(calls: Counter[str]) -> float:
    """Seconds one worker waits for DynamoDB on AWS: each call's assumed in-region latency,
    divided by the calls of its kind the import keeps in flight at a time."""
    return sum(
        count * AWS_LATENCY.get(operation, AWS_LATENCY["other"]) / IN_FLIGHT.get(operation, 1)
        for operation, count in calls.items()
    )


def in_parts_figures(measured: Measured, one_worker_seconds: float) -> list[Any]:
    """The import in parts on AWS (functions/payment_import's state machine): parse and plan
    in prepare, the largest part on its worker and the rest after it, each entry at the one
    worker's projected cost, plus the state machine's own steps and the workers' cold start
    (assumed)."""
    from bench.__main__ import Figure

    split = measured.split
    per_entry = one_worker_seconds / measured.entries
    prepare = measured.parse_seconds + split.plan_seconds + split.write_seconds
    part = split.read_seconds + per_entry * split.largest_part
    steps = STATE_MACHINE_SECONDS + WORKER_COLD_START_SECONDS
    wall = prepare + part + per_entry * split.rest + steps
    return [
        Figure("payments: in parts: parts", split.parts, "parts"),
        Figure("payments: in parts: largest part", split.largest_part, "entries"),
        Figure("payments: in parts: rest matched after the parts", split.rest, "entries"),
        Figure("payments: in parts: prepare (parse, plan, write)", round(prepare, 2), "s"),
        Figure("payments: in parts: largest part on its worker", round(part, 2), "s"),
        Figure(
            "payments: in parts: projected on AWS (prepare, largest part, rest, steps, cold start)",
            round(measured.entries / wall, 1),
            "entries/s",
            ENTRIES_TARGET_PER_SECOND,
        ),
    ]


def figures(measured: Measured) -> list[Any]:
    from bench.__main__ import Figure

    entries = measured.entries
    report = measured.report
    seconds = report.seconds

    def rate(value: float) -> float:
        return round(entries / value, 1) if value else 0.0

    end_to_end = measured.parse_seconds + measured.wall
    ours = measured.parse_seconds + measured.memory_wall
    writes = measured.emulator.calls
    return [
        Figure("payments: entries in the statement", entries, "entries"),
        Figure("payments: statement file size", round(measured.file_bytes / 1e6, 1), "MB"),
        Figure("payments: parse camt.053", rate(measured.parse_seconds), "entries/s"),
        Figure("payments: match (rules alone)", rate(seconds["match"]), "entries/s"),
        Figure("payments: read accounts, decisions, owners", rate(seconds["read"]), "entries/s"),
        Figure("payments: post decisions and postings", rate(seconds["post"]), "entries/s"),
        Figure(
            "payments: end to end on the embedded AWS (parse + import)",
            rate(end_to_end),
            "entries/s",
            ENTRIES_TARGET_PER_SECOND,
        ),
        Figure(
            "payments: share of the import inside the emulator",
            round(measured.emulator.seconds / measured.wall * 100, 1),
            "%",
        ),
        Figure(
            "payments: our code alone, parse + import (in-memory ports)",
            rate(ours),
            "entries/s",
            ENTRIES_TARGET_PER_SECOND,
        ),
        Figure("payments: our code alone, import only", rate(measured.memory_wall), "entries/s"),
        Figure("payments: re-import on the embedded AWS", rate(measured.again_wall), "entries/s"),
        Figure(
            "payments: client CPU per AWS call (botocore, without moto)",
            round(measured.emulator.client_cpu / max(sum(writes.values()), 1) * 1000, 3),
            "ms",
        ),
        Figure(
            "payments: waits for AWS on one worker (assumed latencies)",
            round(aws_waits(writes), 1),
            "s",
        ),
        Figure(
            "payments: projected on one AWS worker (our code, client CPU, waits)",
            rate(ours + measured.emulator.client_cpu + aws_waits(writes)),
            "entries/s",
            ENTRIES_TARGET_PER_SECOND,
        ),
        *in_parts_figures(measured, ours + measured.emulator.client_cpu + aws_waits(writes)),
        Figure("payments: matched", report.matched, "entries"),
        *(
            Figure(f"payments: matched by {rule}", count, "entries")
            for rule, count in sorted(report.by_rule.items())
        ),
        Figure("payments: unmatched (clarification list)", report.unmatched, "entries"),
        Figure("payments: postings written", report.postings, "postings"),
        Figure("payments: aws calls per entry", round(sum(writes.values()) / entries, 3), "calls"),
        *(
            Figure(f"payments: aws {operation} calls", count, "calls")
            for operation, count in sorted(writes.items())
        ),
    ]
