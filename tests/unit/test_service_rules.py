from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import render_document, xml_key
from shared.invoicing.model import Invoice, InvoiceDraft
from shared.invoicing.numbering import format_number
from shared.invoicing.run import FinalizeRequest, ShardRequest, ShardResult
from shared.invoicing.service import InvoiceRunService, PrepareRequest, RunPolicy, document_key
from shared.periods import Period
from shared.ports import DocumentStore
from shared.tax import TaxCategory
from tests.unit.fakes import SELLER, FailingOnce, FakePorts, customer, position

PERIOD = Period(2026, 11)
RANGE = "RE-2026"
POLICY = RunPolicy(
    seller=SELLER, invoice_prefix="RE", payment_term_days=14, retention_years=8, shard_count=2
)
REQUEST = ShardRequest(
    run_id="run-2026-11",
    period="2026-11",
    issue_date=date(2026, 12, 1),
    execution="first",
    shard=0,
)
DUE = ["C0000001", "C0000002", "C0000004"]


def number(sequence: int) -> str:
    return format_number(RANGE, sequence)


def seed_shard(ports: FakePorts, shard: int = 0, offset: int = 0) -> None:
    """Five customers: three due, one whose contract ended, one without any."""
    people = [customer(offset + n, shard=shard) for n in range(1, 6)]
    ids = [person.customer_id for person in people]
    positions = [
        position(ids[0], 1, unit_net="9.99"),
        position(ids[0], 2, unit_net="6.50", category=TaxCategory.REDUCED),
        position(ids[1], 1, unit_net="89.00"),
        position(ids[1], 2, unit_net="0.99", quantity=3),
        position(ids[2], 1, start=date(2024, 1, 1), end=date(2026, 10, 31)),
        position(ids[3], 1, unit_net="4.99"),
    ]
    ports.contracts.save_customers(people)
    ports.contracts.save_positions({cid: shard for cid in ids}, positions)


def service(ports: FakePorts, documents: DocumentStore | None = None) -> InvoiceRunService:
    return InvoiceRunService(
        contracts=ports.contracts,
        ranges=ports.ranges,
        documents=documents or ports.documents,
        archive=ports.archive,
        runs=ports.runs,
        work=ports.work,
        policy=POLICY,
    )


def drafts_of(ports: FakePorts, shard: int = 0) -> dict[str, InvoiceDraft]:
    snapshot = ports.contracts.load_shard(shard, PERIOD)
    drafts = {}
    for person in snapshot.customers:
        draft = compose_invoice(person, snapshot.positions.get(person.customer_id, []), PERIOD)
        if draft is not None:
            drafts[person.customer_id] = draft
    return drafts


def issued_numbers(ports: FakePorts) -> dict[str, str]:
    return {i.invoice.customer_id: num for num, i in ports.documents.invoices().items()}


def invoices(ports: FakePorts) -> list[Invoice]:
    return [issued.invoice for issued in ports.documents.invoices().values()]


def assert_every_number_accounted_for(ports: FakePorts) -> None:
    """Each number handed out ends as exactly one issued invoice or one recorded void."""
    issued = set(ports.documents.invoices())
    voided = set(ports.documents.voids())

    assert issued.isdisjoint(voided)
    assert sorted(issued | voided) == ports.ranges.handed_out(RANGE)
    assert ports.ranges.voided(RANGE, "run-2026-11", 0) == ports.documents.voids()
    assert len(ports.documents.places) == len(issued) + len(voided)


def crash_at(ports: FakePorts, customer_id: str) -> FailingOnce:
    """Bill the shard until the document write of ``customer_id`` is lost."""
    flaky = FailingOnce(ports.documents, customer_id)
    with pytest.raises(ConnectionError):
        service(ports, flaky).bill_shard(REQUEST)
    return flaky


@pytest.fixture
def ports() -> FakePorts:
    fake = FakePorts()
    seed_shard(fake)
    return fake


def test_one_invoice_per_due_customer_with_consecutive_numbers(ports: FakePorts) -> None:
    drafts = drafts_of(ports)
    assert sorted(drafts) == DUE

    result = service(ports).bill_shard(REQUEST)

    assert issued_numbers(ports) == {
        "C0000001": number(1),
        "C0000002": number(2),
        "C0000004": number(3),
    }
    assert (result.customers, result.invoices, result.new_invoices) == (5, 3, 3)
    assert result.numbers == (number(1), number(2), number(3))
    assert result.voids == ()
    assert result.failed == ()
    assert result.net == sum(d.net for d in drafts.values()) == Decimal("113.45")
    assert result.vat == sum(d.vat for d in drafts.values())
    assert result.gross == result.net + result.vat
    assert [(g.rate, g.net) for g in result.by_rate] == [
        (Decimal(19), Decimal("106.95")),
        (Decimal(7), Decimal("6.50")),
    ]
    assert_every_number_accounted_for(ports)


def test_issued_invoice_is_archived_once_under_retention(ports: FakePorts) -> None:
    drafts = drafts_of(ports)

    result = service(ports).bill_shard(REQUEST)

    for issued in ports.documents.invoices().values():
        invoice = issued.invoice
        key = document_key(invoice.customer_id, invoice.number)
        assert issued.pdf_key == key
        assert ports.archive.objects[key] == render_document(invoice).pdf
        assert ports.archive.retention[key] == datetime(2035, 1, 1, tzinfo=UTC)
        assert (invoice.issue_date, invoice.due_date) == (date(2026, 12, 1), date(2026, 12, 15))
        assert (invoice.run_id, invoice.seller) == ("run-2026-11", SELLER)
        assert invoice.draft == drafts[invoice.customer_id]
    assert ports.archive.puts == 3
    assert ports.runs.shard_results("run-2026-11", "first") == [result]


def test_billing_the_shard_again_issues_nothing_new(ports: FakePorts) -> None:
    first = service(ports).bill_shard(REQUEST)
    archived = dict(ports.archive.objects)
    places = dict(ports.documents.places)

    again = service(ports).bill_shard(REQUEST)

    assert again.new_invoices == 0
    assert untimed(again) == untimed(first).model_copy(update={"new_invoices": 0})
    assert ports.archive.objects == archived
    assert ports.archive.puts == 3
    assert ports.documents.places == places
    assert ports.ranges.handed_out(RANGE) == [number(1), number(2), number(3)]
    assert_every_number_accounted_for(ports)


def test_a_stale_marker_index_does_not_issue_twice(ports: FakePorts) -> None:
    first = service(ports).bill_shard(REQUEST)
    ports.documents.lagging = True

    again = service(ports).bill_shard(REQUEST)

    assert untimed(again) == untimed(first).model_copy(update={"new_invoices": 0})
    assert ports.archive.puts == 3
    assert_every_number_accounted_for(ports)


def test_a_crash_late_in_a_large_shard_keeps_what_was_written() -> None:
    ports = FakePorts()
    people = [customer(n) for n in range(1, 41)]
    ports.contracts.save_customers(people)
    ports.contracts.save_positions(
        {p.customer_id: 0 for p in people}, [position(p.customer_id, 1) for p in people]
    )
    expected = {p.customer_id: number(n) for n, p in enumerate(people, start=1)}
    flaky = crash_at(ports, "C0000040")
    committed = issued_numbers(ports)

    result = service(ports, flaky).bill_shard(REQUEST)

    assert 0 < len(committed) < 40
    assert committed == dict(list(expected.items())[: len(committed)])
    assert (result.invoices, result.new_invoices) == (40, 40 - len(committed))
    assert issued_numbers(ports) == expected
    assert result.voids == ()
    assert_every_number_accounted_for(ports)


def test_a_second_execution_of_the_run_reports_the_same(ports: FakePorts) -> None:
    first = service(ports).bill_shard(REQUEST)

    second = service(ports).bill_shard(REQUEST.model_copy(update={"execution": "second"}))

    assert untimed(second) == untimed(first).model_copy(update={"new_invoices": 0})
    assert ports.runs.shard_results("run-2026-11", "second") == [second]


def test_crash_after_the_pdf_is_stored_leaves_no_document(ports: FakePorts) -> None:
    crash_at(ports, "C0000002")

    assert "C0000002" not in issued_numbers(ports)
    assert document_key("C0000002", number(2)) in ports.archive.objects
    assert ports.documents.voids() == {}
    assert ports.ranges.handed_out(RANGE) == [number(1), number(2), number(3)]


def test_retry_after_a_crash_issues_with_the_same_number_and_no_void(ports: FakePorts) -> None:
    flaky = crash_at(ports, "C0000002")
    committed = issued_numbers(ports)

    result = service(ports, flaky).bill_shard(REQUEST)

    assert issued_numbers(ports) == {
        "C0000001": number(1),
        "C0000002": number(2),
        "C0000004": number(3),
    }
    assert (result.invoices, result.new_invoices) == (3, 3 - len(committed))
    assert result.numbers == (number(1), number(2), number(3))
    assert result.voids == ()
    assert result.failed == ()
    assert ports.archive.puts == 3
    assert ports.ranges.handed_out(RANGE) == [number(1), number(2), number(3)]
    assert_every_number_accounted_for(ports)


def test_retry_reports_what_an_uninterrupted_run_reports(ports: FakePorts) -> None:
    smooth = FakePorts()
    seed_shard(smooth)
    expected = service(smooth).bill_shard(REQUEST)
    flaky = crash_at(ports, "C0000004")
    committed = issued_numbers(ports)

    result = service(ports, flaky).bill_shard(REQUEST)

    assert untimed(result) == untimed(expected).model_copy(
        update={"new_invoices": 3 - len(committed)}
    )


def test_number_of_a_customer_whose_positions_vanished_is_voided(ports: FakePorts) -> None:
    flaky = crash_at(ports, "C0000002")
    committed = issued_numbers(ports)
    ports.contracts.remove_positions(0, "C0000002")

    result = service(ports, flaky).bill_shard(REQUEST)

    assert issued_numbers(ports) == {"C0000001": number(1), "C0000004": number(3)}
    assert [void.number for void in result.voids] == [number(2)]
    assert "no invoice" in result.voids[0].reason
    assert ports.documents.voids() == {number(2): result.voids[0].reason}
    assert ports.ranges.voided(RANGE, "run-2026-11", 0) == {number(2): result.voids[0].reason}
    assert (result.invoices, result.new_invoices) == (2, 2 - len(committed))
    assert result.numbers == (number(1), number(3))
    assert_every_number_accounted_for(ports)


def test_a_voided_number_stays_void_on_later_attempts(ports: FakePorts) -> None:
    flaky = crash_at(ports, "C0000002")
    ports.contracts.remove_positions(0, "C0000002")
    voiding = service(ports, flaky).bill_shard(REQUEST)

    later = service(ports, flaky).bill_shard(REQUEST)

    assert untimed(later) == untimed(voiding).model_copy(update={"new_invoices": 0})
    assert ports.ranges.handed_out(RANGE) == [number(1), number(2), number(3)]


def test_positions_that_return_get_a_new_number_after_a_void(ports: FakePorts) -> None:
    flaky = crash_at(ports, "C0000002")
    vanished = ports.contracts.positions[0].copy()
    ports.contracts.remove_positions(0, "C0000002")
    service(ports, flaky).bill_shard(REQUEST)
    ports.contracts.positions[0] = vanished

    result = service(ports, flaky).bill_shard(REQUEST)

    assert issued_numbers(ports)["C0000002"] == number(4)
    assert result.numbers == (number(1), number(3), number(4))
    assert [void.number for void in result.voids] == [number(2)]
    assert_every_number_accounted_for(ports)


def test_changed_positions_after_a_crash_void_the_number_and_report_the_customer(
    ports: FakePorts,
) -> None:
    flaky = crash_at(ports, "C0000002")
    ports.contracts.save_positions(
        {"C0000002": 0}, [position("C0000002", 2, unit_net="0.99", quantity=4)]
    )

    changed = service(ports, flaky).bill_shard(REQUEST)
    settled = service(ports, flaky).bill_shard(REQUEST)

    assert [f.customer_id for f in changed.failed] == ["C0000002"]
    assert "differs" in changed.failed[0].reason
    assert [v.number for v in changed.voids] == [number(2)]
    assert settled.failed == ()
    assert issued_numbers(ports) == {
        "C0000001": number(1),
        "C0000002": number(4),
        "C0000004": number(3),
    }
    assert ports.documents.invoices()[number(4)].invoice.draft.lines[1].quantity == 4
    assert_every_number_accounted_for(ports)


def test_a_customer_added_between_attempts_gets_the_next_number(ports: FakePorts) -> None:
    flaky = crash_at(ports, "C0000002")
    newcomer = customer(9)
    ports.contracts.save_customers([newcomer])
    ports.contracts.save_positions({newcomer.customer_id: 0}, [position("C0000009", 1)])

    result = service(ports, flaky).bill_shard(REQUEST)

    assert issued_numbers(ports) == {
        "C0000001": number(1),
        "C0000002": number(2),
        "C0000004": number(3),
        "C0000009": number(4),
    }
    assert result.voids == ()
    assert_every_number_accounted_for(ports)


def test_dry_run_writes_nothing_and_reports_totals(ports: FakePorts) -> None:
    drafts = drafts_of(ports)

    result = service(ports).bill_shard(REQUEST.model_copy(update={"dry_run": True}))

    assert result.dry_run is True
    assert (result.customers, result.invoices, result.new_invoices) == (5, 3, 0)
    assert result.net == sum(d.net for d in drafts.values())
    assert result.vat == sum(d.vat for d in drafts.values())
    assert result.gross == sum(d.gross for d in drafts.values())
    assert sum(g.net for g in result.by_rate) == result.net
    assert result.numbers == ()
    assert ports.ranges.counters == {}
    assert ports.ranges.block_records == {}
    assert ports.documents.places == {}
    assert ports.archive.objects == {}


def test_dry_run_then_real_run_bill_the_same(ports: FakePorts) -> None:
    dry = service(ports).bill_shard(REQUEST.model_copy(update={"dry_run": True}))

    real = service(ports).bill_shard(REQUEST)

    assert (real.invoices, real.net, real.vat, real.gross) == (
        dry.invoices,
        dry.net,
        dry.vat,
        dry.gross,
    )
    assert real.by_rate == dry.by_rate


def clock(*moments: datetime) -> Iterator[datetime]:
    yield from moments


def test_prepare_bill_and_finalize_a_whole_run() -> None:
    ports = FakePorts()
    seed_shard(ports, shard=0)
    seed_shard(ports, shard=1, offset=10)
    times = clock(datetime(2026, 12, 1, 6, tzinfo=UTC), datetime(2026, 12, 1, 6, 2, tzinfo=UTC))
    run = service(ports)
    run.clock = lambda: next(times)

    prepared = run.prepare(PrepareRequest(), execution="nightly")
    shards = [
        run.bill_shard(ShardRequest.model_validate(prepared | {"shard": item["shard"]}))
        for item in ports.work.read_json(prepared["manifest_key"])
    ]
    report = run.finalize(FinalizeRequest.model_validate(prepared))

    assert (prepared["run_id"], prepared["period"], prepared["issue_date"]) == (
        "run-2026-11",
        "2026-11",
        "2026-12-01",
    )
    assert [shard.shard for shard in shards] == [0, 1]
    assert report.status == "succeeded"
    assert (report.invoices, report.new_invoices, report.customers) == (6, 6, 10)
    assert report.gross == sum(shard.gross for shard in shards)
    assert (report.first_number, report.last_number) == (number(1), number(6))
    assert report.seconds == Decimal("120.0")
    assert ports.work.read_json("runs/run-2026-11/report.json")["status"] == "succeeded"
    assert ports.runs.get_run("run-2026-11") == ports.runs.runs["run-2026-11"]
    assert ports.runs.runs["run-2026-11"]["status"] == "succeeded"


def test_finalize_without_every_shard_completes_with_failures(ports: FakePorts) -> None:
    run = service(ports)
    prepared = run.prepare(PrepareRequest(period="2026-11"), execution="nightly")
    run.bill_shard(ShardRequest.model_validate(prepared | {"shard": 1}))

    report = run.finalize(FinalizeRequest.model_validate(prepared))

    assert report.status == "completed_with_failures"
    assert report.missing_shards == (0,)
    assert ports.runs.runs["run-2026-11"]["status"] == "completed_with_failures"


def test_prepare_defaults_to_the_previous_month_and_today() -> None:
    ports = FakePorts()
    run = service(ports)
    run.clock = lambda: datetime(2027, 1, 3, 8, tzinfo=UTC)

    prepared = run.prepare(PrepareRequest(dry_run=True), execution="x")

    assert (prepared["run_id"], prepared["issue_date"], prepared["dry_run"]) == (
        "run-2026-12",
        "2027-01-03",
        True,
    )
    assert ports.work.read_json(prepared["manifest_key"]) == [{"shard": 0}, {"shard": 1}]


@st.composite
def interruptions(draw: st.DrawFn) -> tuple[str, str]:
    crashed = draw(st.sampled_from(DUE))
    change = draw(st.sampled_from(["none", "vanish", "price", "newcomer"]))
    return crashed, change


def change_positions(ports: FakePorts, crashed: str, change: str) -> None:
    if change == "vanish":
        ports.contracts.remove_positions(0, crashed)
    elif change == "price":
        ports.contracts.save_positions({crashed: 0}, [position(crashed, 1, unit_net="1.00")])
    elif change == "newcomer":
        ports.contracts.save_customers([customer(9)])
        ports.contracts.save_positions({"C0000009": 0}, [position("C0000009", 1)])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(interruptions(), st.integers(min_value=1, max_value=3))
def test_any_crash_and_change_leaves_every_number_accounted_for(
    interruption: tuple[str, str], retries: int
) -> None:
    ports = FakePorts()
    seed_shard(ports)
    crashed, change = interruption
    flaky = crash_at(ports, crashed)
    change_positions(ports, crashed, change)

    results: list[ShardResult] = [service(ports, flaky).bill_shard(REQUEST) for _ in range(retries)]

    assert_every_number_accounted_for(ports)
    due = set(drafts_of(ports))
    billed = {invoice.customer_id for invoice in invoices(ports)}
    failed = {f.customer_id for f in results[-1].failed}
    assert billed | failed == due
    assert len(billed) == len(invoices(ports))
    for invoice in invoices(ports):
        assert invoice.draft == drafts_of(ports)[invoice.customer_id]
        assert ports.archive.objects[document_key(invoice.customer_id, invoice.number)] == (
            render_document(invoice).pdf
        )
    assert results[-1].numbers == tuple(sorted(ports.documents.invoices()))


def test_overlapping_executions_with_another_issue_date_keep_numbers_issued(
    ports: FakePorts,
) -> None:
    service(ports).bill_shard(REQUEST)
    ports.documents.lagging = True
    later = REQUEST.model_copy(update={"execution": "second", "issue_date": date(2026, 12, 2)})

    result = service(ports).bill_shard(later)

    assert sorted(issued_numbers(ports)) == DUE
    assert result.failed == ()
    assert_every_number_accounted_for(ports)


def test_a_customer_with_an_unknown_product_fails_alone_and_the_others_are_billed(
    ports: FakePorts,
) -> None:
    seed_shard(ports)
    odd = position("C0000002", 3).model_copy(update={"product_id": "HOST-XXL"})
    ports.contracts.save_positions({"C0000002": 0}, [odd])

    result = service(ports).bill_shard(REQUEST)

    assert [(f.customer_id, f.reason) for f in result.failed] == [
        ("C0000002", "unknown product 'HOST-XXL': it is not in the catalog")
    ]
    assert sorted(issued_numbers(ports)) == ["C0000001", "C0000004"]
    assert result.voids == ()


def untimed(result: ShardResult) -> ShardResult:
    """A shard's result without its step timings, which differ from attempt to attempt."""
    return result.model_copy(update={"step_seconds": {}})


def xml_only(ports: FakePorts, customer_id: str) -> None:
    """The customer takes its XRechnung as the XML alone (a public buyer with a Leitweg-ID)."""
    person = next(
        c for c in ports.contracts.load_shard(0, PERIOD).customers if c.customer_id == customer_id
    )
    public = person.model_copy(
        update={"kind": "business", "einvoice": "xrechnung-xml", "buyer_reference": LEITWEG_ID}
    )
    ports.contracts.save_customers([public])


LEITWEG_ID = "04011000-1234512345-06"


def test_an_xml_only_customer_gets_its_xrechnung_archived_beside_a_readable_pdf(
    ports: FakePorts,
) -> None:
    seed_shard(ports)
    xml_only(ports, "C0000002")

    service(ports).bill_shard(REQUEST)

    invoice = next(i for i in invoices(ports) if i.customer_id == "C0000002")
    pdf_key = document_key(invoice.customer_id, invoice.number)
    rendered = render_document(invoice)
    assert rendered.xml is not None
    assert ports.archive.objects[xml_key(pdf_key)] == rendered.xml
    assert ports.archive.objects[pdf_key] == rendered.pdf
    assert b"xrechnung.xml" not in rendered.pdf
    others = [i for i in invoices(ports) if i.customer_id != "C0000002"]
    assert all(
        xml_key(document_key(i.customer_id, i.number)) not in ports.archive.objects for i in others
    )


def test_a_document_whose_e_invoice_cannot_be_made_fails_its_customer_alone(
    ports: FakePorts,
) -> None:
    seed_shard(ports)
    xml_only(ports, "C0000002")
    no_phone = POLICY.seller.model_copy(update={"phone": None})
    broken = service(ports)
    broken.policy = RunPolicy(
        seller=no_phone,
        invoice_prefix="RE",
        payment_term_days=14,
        retention_years=8,
        shard_count=2,
    )

    result = broken.bill_shard(REQUEST)

    assert [f.customer_id for f in result.failed] == ["C0000002"]
    assert "phone" in result.failed[0].reason
    assert {i.customer_id for i in invoices(ports)} == {"C0000001", "C0000004"}
    assert_every_number_accounted_for(ports)
