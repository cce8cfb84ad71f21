"""Faults of the invoice run on the embedded AWS: killed workers, double starts, parallel runs.

Whatever happens, a finished run looks like a clean one: one invoice per due customer and
period, the totals of the positions, every PDF archived once and byte for byte the rendering of
its invoice, and every number handed out either an invoice or a void that the report lists.

A worker is killed by `Killed`, a BaseException nothing in the worker catches, as when its
process dies. Through Step Functions the fault is an ordinary exception instead: the in-process
Lambda runtime reports it as a failed invocation, which is all Step Functions ever sees of a dead
worker, and a BaseException would end moto's executor thread instead of the worker.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cli.seed import Hoster
from shared.catalog import shipped_catalog
from shared.contracts import Position
from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import render_document
from shared.invoicing.model import Invoice, InvoiceDraft
from shared.invoicing.numbering import format_number, sequence_of
from shared.invoicing.run import FinalizeRequest, RunReport, ShardRequest
from shared.invoicing.service import InvoiceRunService, PrepareRequest, due_date
from shared.payments.mandates import StoredMandate
from shared.periods import Period
from shared.settings import load_settings
from shared.storage.dynamodb import (
    DynamoContracts,
    DynamoDocuments,
    DynamoNumberRanges,
    from_item,
)
from shared.storage.s3 import S3Archive
from shared.wiring import invoice_run_service
from tests.integration.conftest import ISSUE_DATE, SHARDS, Aws
from tests.unit.fakes import SELLER, customer, position

CUSTOMERS = 24
PERIOD = "2026-11"
RUN_ID = "run-2026-11"
RANGE = "RE-2026"

BEFORE_PDF = "before the PDF is stored"
AFTER_PDF = "after the PDF, before the document"
AFTER_DOCUMENT = "after the document is written"


class Killed(BaseException):
    """The worker's process died: nothing in the worker catches this."""


class WorkerLost(Exception):  # noqa: N818
    """What Step Functions sees of a worker that died: its invocation failed."""


@dataclass
class Fault:
    """Kills the worker at ``point`` of the invoice after the first ``after`` of ``customers``."""

    point: str
    after: int
    customers: frozenset[str]
    error: type[BaseException] = Killed
    seen: int = 0
    fired: bool = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> Fault:
        store_pdf, issue_invoice = S3Archive.store_pdf, DynamoDocuments.issue_invoice
        fault = self

        def store(archive: S3Archive, key: str, body: bytes, **kwargs: Any) -> bool:
            fault.strike(key.split("/")[2], BEFORE_PDF)
            return store_pdf(archive, key, body, **kwargs)

        def issue(documents: DynamoDocuments, invoice: Invoice, **kwargs: Any) -> bool:
            fault.strike(invoice.customer_id, AFTER_PDF)
            created = issue_invoice(documents, invoice, **kwargs)
            fault.strike(invoice.customer_id, AFTER_DOCUMENT)
            return created

        monkeypatch.setattr(S3Archive, "store_pdf", store)
        monkeypatch.setattr(DynamoDocuments, "issue_invoice", issue)
        return self

    def strike(self, customer_id: str, point: str) -> None:
        if self.fired or point != self.point or customer_id not in self.customers:
            return
        self.seen += 1
        if self.seen == self.after + 1:
            self.fired = True
            raise self.error(f"worker lost {point}")


# The run, driven through the service as the Lambda handlers drive it.


def service() -> InvoiceRunService:
    load_settings.cache_clear()
    return invoice_run_service(load_settings())


def shard_request(shard: int, execution: str = "manual") -> ShardRequest:
    return ShardRequest(
        run_id=RUN_ID,
        period=PERIOD,
        issue_date=date.fromisoformat(ISSUE_DATE),
        execution=execution,
        shard=shard,
    )


def bill_every_shard(run: InvoiceRunService, execution: str = "manual") -> RunReport:
    """A whole run as the state machine makes it: prepare, every shard, finalize."""
    issue_date = date.fromisoformat(ISSUE_DATE)
    run.prepare(PrepareRequest(period=PERIOD, issue_date=issue_date), execution=execution)
    for shard in range(SHARDS):
        run.bill_shard(shard_request(shard, execution))
    request = FinalizeRequest(
        run_id=RUN_ID, period=PERIOD, issue_date=issue_date, execution=execution, shards=SHARDS
    )
    return run.finalize(request)


def kill_worker(hoster: Hoster, monkeypatch: pytest.MonkeyPatch, point: str, after: int) -> Fault:
    """Bill the fullest shard until the fault kills the worker; the fault fires once only."""
    shard = fullest_shard(hoster)
    fault = Fault(point, after, frozenset(customers_of(hoster, shard))).install(monkeypatch)

    with pytest.raises(Killed):
        service().bill_shard(shard_request(shard))

    assert fault.fired
    return fault


def fullest_shard(hoster: Hoster) -> int:
    return Counter(c.shard for c in hoster.customers).most_common(1)[0][0]


def customers_of(hoster: Hoster, shard: int) -> list[str]:
    return sorted(c.customer_id for c in hoster.customers if c.shard == shard)


# What a clean run bills, worked out from the positions without the embedded AWS.


def clean_drafts(hoster: Hoster, period: str = PERIOD) -> dict[str, InvoiceDraft]:
    positions: dict[str, list[Position]] = {}
    for item in hoster.positions:
        positions.setdefault(item.customer_id, []).append(item)
    mandates: dict[str, list[StoredMandate]] = {}
    for mandate in hoster.mandates:
        mandates.setdefault(mandate.customer_id, []).append(StoredMandate(mandate))
    drafts = {
        c.customer_id: compose_invoice(
            c,
            positions.get(c.customer_id, []),
            Period.parse(period),
            catalog=shipped_catalog(),
            mandates=mandates.get(c.customer_id, ()),
        )
        for c in hoster.customers
    }
    return {customer_id: draft for customer_id, draft in drafts.items() if draft is not None}


def clean_pdf(invoice_item: dict[str, Any], draft: InvoiceDraft) -> bytes:
    """The PDF of a clean run for the number and issue date the invoice was given."""
    settings = load_settings()
    issue_date = date.fromisoformat(invoice_item["issue_date"])
    return render_document(
        Invoice(
            number=invoice_item["number"],
            run_id=invoice_item["run_id"],
            issue_date=issue_date,
            due_date=due_date(issue_date, settings.payment_term_days, draft),
            seller=settings.seller,
            draft=draft,
        )
    ).pdf


# What a finished run must look like, fault or not.


def assert_one_invoice_per_due_customer(aws: Aws, expected: dict[str, InvoiceDraft]) -> None:
    billed = Counter((i["customer_id"], i["period"]) for i in aws.invoices())
    assert billed == Counter((customer_id, PERIOD) for customer_id in expected)


def assert_totals_of_a_clean_run(
    aws: Aws, report: dict[str, Any], expected: dict[str, InvoiceDraft]
) -> None:
    by_customer = {i["customer_id"]: Decimal(i["gross"]) for i in aws.invoices()}
    assert by_customer == {c: draft.gross for c, draft in expected.items()}
    totals = (Decimal(report["net"]), Decimal(report["vat"]), Decimal(report["gross"]))
    assert totals == (
        sum(d.net for d in expected.values()),
        sum(d.vat for d in expected.values()),
        sum(d.gross for d in expected.values()),
    )
    assert report["invoices"] == len(expected)


def assert_every_pdf_is_archived_once_as_a_clean_rendering(
    aws: Aws, expected: dict[str, InvoiceDraft]
) -> None:
    bucket = aws.stack.bucket_names["Archive"]
    versions = aws.s3.list_object_versions(Bucket=bucket).get("Versions", [])
    keys = Counter(v["Key"] for v in versions)
    assert set(keys.values()) <= {1}, "a PDF was written twice"
    voids = {d["number"] for d in aws.scan("Documents") if d.get("document_type") == "void"}
    unclaimed = set(keys) - {i["pdf_key"] for i in aws.invoices()}
    assert {key.rsplit("/", 1)[1].removesuffix(".pdf") for key in unclaimed} <= voids, (
        "a PDF whose number is neither an invoice nor a void"
    )
    for invoice in aws.invoices():
        stored = aws.s3.get_object(Bucket=bucket, Key=invoice["pdf_key"])["Body"].read()
        assert stored == clean_pdf(invoice, expected[invoice["customer_id"]]), invoice["number"]


def assert_every_number_is_an_invoice_or_a_listed_void(aws: Aws, report: dict[str, Any]) -> None:
    issued = [i["number"] for i in aws.invoices()]
    voids = [d["number"] for d in aws.scan("Documents") if d.get("document_type") == "void"]
    handed_out = [format_number(RANGE, n) for n in range(1, next_number(aws, RANGE))]
    assert sorted(issued + voids, key=sequence_of) == handed_out
    assert sorted(v["number"] for v in report["void_numbers"]) == sorted(voids)


def next_number(aws: Aws, number_range: str) -> int:
    item = aws.dynamodb.get_item(
        TableName=aws.stack.table_names["Control"],
        Key={"pk": {"S": f"RANGE#{number_range}"}, "sk": {"S": "COUNTER"}},
        ConsistentRead=True,
    )
    return int(from_item(item["Item"])["next"])


def assert_as_clean(aws: Aws, report: dict[str, Any], expected: dict[str, InvoiceDraft]) -> None:
    assert_one_invoice_per_due_customer(aws, expected)
    assert_totals_of_a_clean_run(aws, report, expected)
    assert_every_pdf_is_archived_once_as_a_clean_rendering(aws, expected)
    assert_every_number_is_an_invoice_or_a_listed_void(aws, report)


@pytest.fixture
def hoster(aws: Aws) -> Hoster:
    return aws.seed(CUSTOMERS)


# a. A worker killed after some invoices of its shard, then run again.

POINTS = [BEFORE_PDF, AFTER_PDF, AFTER_DOCUMENT]


@pytest.mark.parametrize("after", [0, 4])
@pytest.mark.parametrize("point", POINTS)
def test_a_killed_worker_leaves_each_customer_fully_invoiced_or_not_at_all(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch, point: str, after: int
) -> None:
    kill_worker(hoster, monkeypatch, point, after)

    invoices = aws.invoices()
    complete = after + (1 if point == AFTER_DOCUMENT else 0)
    assert len(invoices) == complete
    shard = fullest_shard(hoster)
    markers = service().documents.billed_markers(shard, PERIOD)
    assert {m.number for m in markers.values()} == {i["number"] for i in invoices}
    archive = aws.stack.bucket_names["Archive"]
    pdfs = aws.s3.list_objects_v2(Bucket=archive).get("Contents", [])
    assert len(pdfs) == complete + (1 if point == AFTER_PDF else 0)


@pytest.mark.parametrize("after", [0, 4])
@pytest.mark.parametrize("point", POINTS)
def test_a_killed_worker_run_again_bills_its_shard_as_a_clean_run_would(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch, point: str, after: int
) -> None:
    kill_worker(hoster, monkeypatch, point, after)

    report = bill_every_shard(service()).model_dump(mode="json")

    assert_as_clean(aws, report, clean_drafts(hoster))
    assert report["void_numbers"] == []
    assert report["status"] == "succeeded"


def test_a_killed_worker_run_again_through_the_worker_lambda_bills_as_a_clean_run_would(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    kill_worker(hoster, monkeypatch, AFTER_PDF, 3)
    shard = fullest_shard(hoster)
    event = shard_request(shard).model_dump(mode="json")

    result, error = aws.invoke("billing-invoice-worker", event)

    assert error is None, result
    assert result["invoices"] == len(customers_of(hoster, shard))
    report = bill_every_shard(service()).model_dump(mode="json")
    assert_as_clean(aws, report, clean_drafts(hoster))


def test_a_retry_that_does_not_yet_see_its_own_invoices_in_the_index_issues_none_again(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB's index by shard and period is eventually consistent; moto's is not."""
    kill_worker(hoster, monkeypatch, AFTER_DOCUMENT, 4)
    monkeypatch.setattr(DynamoDocuments, "billed_markers", lambda self, shard, period: {})

    result = service().bill_shard(shard_request(fullest_shard(hoster)))

    assert result.new_invoices == len(customers_of(hoster, fullest_shard(hoster))) - 5
    assert result.voids == ()
    monkeypatch.undo()
    report = bill_every_shard(service()).model_dump(mode="json")
    assert_as_clean(aws, report, clean_drafts(hoster))


@pytest.mark.parametrize("point", [AFTER_PDF, AFTER_DOCUMENT])
def test_a_worker_lost_inside_the_state_machine_is_retried_to_a_clean_run(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    shard = fullest_shard(hoster)
    customers = frozenset(customers_of(hoster, shard))
    fault = Fault(point, 3, customers, error=WorkerLost).install(monkeypatch)

    report = aws.run("run-2026-11-lost-worker")

    assert fault.fired
    assert_as_clean(aws, report, clean_drafts(hoster))
    assert report["void_numbers"] == []
    assert report["status"] == "succeeded"


def test_a_number_whose_customer_vanished_before_the_retry_is_listed_void_in_the_report(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    kill_worker(hoster, monkeypatch, BEFORE_PDF, 2)
    shard = fullest_shard(hoster)
    gone = customers_of(hoster, shard)[4]
    _delete_positions(aws, gone)

    report = bill_every_shard(service()).model_dump(mode="json")

    positions = [p for p in hoster.positions if p.customer_id != gone]
    remaining = Hoster(hoster.customers, positions, hoster.mandates)
    assert_as_clean(aws, report, clean_drafts(remaining))
    voids = [
        (v["pk"], v["number"]) for v in aws.scan("Documents") if v.get("document_type") == "void"
    ]
    assert voids == [(f"CUST#{gone}", format_number(RANGE, 5))]
    assert [v["number"] for v in report["void_numbers"]] == [format_number(RANGE, 5)]


def test_a_customer_whose_positions_changed_after_its_pdf_is_billed_anew_on_the_next_start(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archived PDF cannot be replaced: its number is voided, the next start re-numbers."""
    kill_worker(hoster, monkeypatch, AFTER_PDF, 2)
    changed = customers_of(hoster, fullest_shard(hoster))[2]
    hoster = _order_again(aws, hoster, changed)

    retried = bill_every_shard(service()).model_dump(mode="json")
    report = bill_every_shard(service(), execution="manual-2").model_dump(mode="json")

    conflict = "archived document differs from its recomputation"
    assert retried["failed"] == [{"customer_id": changed, "reason": conflict}]
    assert retried["void_numbers"] == [{"number": format_number(RANGE, 3), "reason": conflict}]
    assert_as_clean(aws, report, clean_drafts(hoster))
    assert report["void_numbers"] == retried["void_numbers"]
    assert report["status"] == "succeeded"


def _order_again(aws: Aws, hoster: Hoster, customer_id: str) -> Hoster:
    """The customer orders one of its positions a second time."""
    ordered = next(p for p in hoster.positions if p.customer_id == customer_id)
    extra = ordered.model_copy(update={"position_id": f"{ordered.position_id}-AGAIN"})
    DynamoContracts(aws.dynamodb, aws.stack.table_names["Contracts"]).save_positions(
        hoster.shards, [extra]
    )
    return Hoster(hoster.customers, [*hoster.positions, extra], hoster.mandates)


def _delete_positions(aws: Aws, customer_id: str) -> None:
    table = aws.stack.table_names["Contracts"]
    for item in aws.scan("Contracts"):
        if item["sk"].startswith(f"{customer_id}#POS#"):
            key = {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}}
            aws.dynamodb.delete_item(TableName=table, Key=key)


# b. The same period started twice.


def start(aws: Aws, name: str, *, period: str = PERIOD, issue_date: str = ISSUE_DATE) -> str:
    payload = {"period": period, "issue_date": issue_date}
    response = aws.stepfunctions.start_execution(
        stateMachineArn=aws.stack.invoice_run_arn, name=name, input=json.dumps(payload)
    )
    return str(response["executionArn"])


def finish(aws: Aws, arn: str) -> dict[str, Any]:
    """Wait for the execution and return its report."""
    deadline = time.monotonic() + 120
    while (execution := aws.stepfunctions.describe_execution(executionArn=arn))["status"] == (
        "RUNNING"
    ):
        assert time.monotonic() < deadline, "execution did not finish within 120 s"
        time.sleep(0.05)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    name = arn.rsplit(":", 1)[1]
    period = json.loads(execution["input"])["period"]
    report = aws.read_json(f"runs/run-{period}/{name}/report.json")
    return dict(report, _execution=execution)


def overlapped(*reports: dict[str, Any]) -> bool:
    starts = [r["_execution"]["startDate"] for r in reports]
    stops = [r["_execution"]["stopDate"] for r in reports]
    return max(starts) < min(stops)


def test_the_same_period_started_twice_at_once_issues_every_invoice_once(
    aws: Aws, hoster: Hoster
) -> None:
    first_arn = start(aws, "run-2026-11-a")
    second_arn = start(aws, "run-2026-11-b")

    first, second = finish(aws, first_arn), finish(aws, second_arn)

    assert overlapped(first, second)
    expected = clean_drafts(hoster)
    assert first["new_invoices"] + second["new_invoices"] == len(expected)
    for report in (first, second):
        assert_as_clean(aws, report, expected)
        assert report["void_numbers"] == []
        assert (report["first_number"], report["last_number"]) == (
            format_number(RANGE, 1),
            format_number(RANGE, len(expected)),
        )


def test_the_same_period_started_again_after_it_finished_issues_nothing_new(
    aws: Aws, hoster: Hoster
) -> None:
    first = aws.run("run-2026-11-first")
    counter = next_number(aws, RANGE)

    second = aws.run("run-2026-11-again")

    assert second["new_invoices"] == 0
    assert next_number(aws, RANGE) == counter
    for key in ("invoices", "net", "vat", "gross", "first_number", "last_number", "void_numbers"):
        assert second[key] == first[key], key
    assert_as_clean(aws, second, clean_drafts(hoster))


def test_a_start_while_the_period_is_running_joins_the_running_execution(
    aws: Aws, hoster: Hoster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.runs import RunDriver, RunTargets

    held = _hold_the_first_worker(monkeypatch)
    driver = RunDriver(
        aws.clients,
        RunTargets(
            state_machine_arn=aws.stack.invoice_run_arn,
            control_table=aws.stack.table_names["Control"],
            work_bucket=aws.stack.bucket_names["Work"],
        ),
    )
    issue_date = date.fromisoformat(ISSUE_DATE)
    first = driver.start(Period.parse(PERIOD), issue_date=issue_date)
    try:
        assert held.started.wait(30), "the first execution never reached a worker"
        second = driver.start(Period.parse(PERIOD), issue_date=issue_date)
    finally:
        held.release.set()

    assert (second.joined, second.execution) == (True, first.execution)
    report = finish(aws, first.execution_arn)
    executions = aws.stepfunctions.list_executions(stateMachineArn=aws.stack.invoice_run_arn)
    assert len(executions["executions"]) == 1
    assert_as_clean(aws, report, clean_drafts(hoster))


@dataclass
class _Held:
    started: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def _hold_the_first_worker(monkeypatch: pytest.MonkeyPatch) -> _Held:
    held = _Held()
    bill_shard = InvoiceRunService.bill_shard

    def hold(self: InvoiceRunService, request: ShardRequest) -> Any:
        held.started.set()
        assert held.release.wait(30), "the test never released the worker"
        return bill_shard(self, request)

    monkeypatch.setattr(InvoiceRunService, "bill_shard", hold)
    return held


# c. Runs for different periods at the same time.


def test_runs_of_different_periods_at_once_share_no_number_and_leave_no_gap(
    aws: Aws, hoster: Hoster
) -> None:
    arns = [
        start(aws, "run-2026-10-p", period="2026-10"),
        start(aws, "run-2026-11-p", period="2026-11"),
        start(aws, "run-2026-12-p", period="2026-12", issue_date="2027-01-02"),
    ]

    reports = [finish(aws, arn) for arn in arns]

    assert overlapped(*reports)
    invoices = aws.invoices()
    assert len({i["number"] for i in invoices}) == len(invoices)
    for period in ("2026-10", "2026-11", "2026-12"):
        billed = Counter(i["customer_id"] for i in invoices if i["period"] == period)
        assert billed == Counter(clean_drafts(hoster, period).keys())
    for number_range in ("RE-2026", "RE-2027"):
        numbers = [i["number"] for i in invoices if i["number"].startswith(number_range)]
        last = next_number(aws, number_range) - 1
        assert sorted(numbers, key=sequence_of) == [
            format_number(number_range, n) for n in range(1, last + 1)
        ]
    assert [r["void_numbers"] for r in reports] == [[], [], []]


# Storage: the invoice item is the document, the number claim and the billed marker at once.


def _invoice(number: str, *, unit_net: str = "9.99") -> Invoice:
    buyer = customer(1, shard=2)
    items = [position(buyer.customer_id, 1, unit_net=unit_net)]
    draft = compose_invoice(buyer, items, Period.parse(PERIOD))
    assert draft is not None
    issue_date = date.fromisoformat(ISSUE_DATE)
    return Invoice(
        number=number,
        run_id=RUN_ID,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=14),
        seller=SELLER,
        draft=draft,
    )


def _documents(aws: Aws) -> DynamoDocuments:
    return DynamoDocuments(aws.dynamodb, aws.stack.table_names["Documents"])


def test_issuing_an_invoice_writes_document_number_claim_and_billed_marker_in_one_item(
    aws: Aws,
) -> None:
    documents, invoice = _documents(aws), _invoice("RE-2026-00000001")

    assert documents.issue_invoice(invoice, shard=2, pdf_key="documents/x.pdf")

    assert len(aws.scan("Documents")) == 1
    assert documents.get_document(invoice.number) == invoice
    assert [m.number for m in documents.billed_markers(2, PERIOD).values()] == [invoice.number]
    void = {"customer_id": invoice.customer_id, "issue_date": invoice.issue_date}
    assert not documents.void_number(**void, number=invoice.number, reason="test")
    assert aws.invoices()[0]["document_type"] == "invoice"


def test_an_invoice_whose_place_is_taken_changes_nothing(aws: Aws) -> None:
    documents = _documents(aws)
    documents.issue_invoice(_invoice("RE-2026-00000001"), shard=2, pdf_key="documents/a.pdf")
    before = aws.scan("Documents")

    again = _invoice("RE-2026-00000001", unit_net="14.99")
    created = documents.issue_invoice(again, shard=2, pdf_key="documents/b.pdf")

    assert not created
    assert aws.scan("Documents") == before


def test_an_invoice_for_a_voided_number_writes_no_document_and_no_marker(aws: Aws) -> None:
    documents, invoice = _documents(aws), _invoice("RE-2026-00000001")
    void = {"customer_id": invoice.customer_id, "issue_date": invoice.issue_date}
    assert documents.void_number(**void, number=invoice.number, reason="customer left")

    created = documents.issue_invoice(invoice, shard=2, pdf_key="documents/a.pdf")

    assert not created
    assert documents.billed_markers(2, PERIOD) == {}
    assert documents.find_by_number(invoice.number) is None
    assert documents.issued_marker(invoice.customer_id, invoice.issue_date, invoice.number) is None
    assert [d["document_type"] for d in aws.scan("Documents")] == ["void"]


def test_a_reservation_that_read_a_stale_counter_writes_no_block_and_takes_the_next_numbers(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranges = DynamoNumberRanges(aws.dynamodb, aws.stack.table_names["Control"])
    issue_date = date.fromisoformat(ISSUE_DATE)
    ranges.reserve(RANGE, RUN_ID, 0, ["C0000001", "C0000002", "C0000003"], issue_date)
    read_counter = DynamoNumberRanges._next_number
    stale = iter([1])
    monkeypatch.setattr(
        DynamoNumberRanges,
        "_next_number",
        lambda self, number_range: next(stale, None) or read_counter(self, number_range),
    )

    block = ranges.reserve(RANGE, RUN_ID, 1, ["C0000004", "C0000005"], issue_date)

    assert (block.first, block.customers) == (4, ("C0000004", "C0000005"))
    assert ranges.blocks(RANGE, RUN_ID, 1) == [block]
    assert next_number(aws, RANGE) == 6
