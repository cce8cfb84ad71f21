"""Delivery rules without AWS: the e-mail, the status rules, the sender, the hand-over, print."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from itertools import count

import pytest
from pypdf import PdfReader, PdfWriter

from shared.delivery import rules
from shared.delivery.mail import Letterhead, compose
from shared.delivery.model import DeliveryRecord, DeliveryRequest, PrintBatch
from shared.delivery.plan import IssuedNumber, plan_delivery
from shared.delivery.ports import MailRejectedError
from shared.delivery.print_batch import PrintBatches, batch_key, in_number_order
from shared.delivery.service import DeliveryRetryError, DeliveryService
from shared.delivery.summary import summarize
from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import xml_key
from shared.invoicing.model import Invoice, document_key
from shared.invoicing.run import FinalizeRequest, PostDocument, ShardRequest
from shared.invoicing.service import InvoiceRunService, PrepareRequest, RunPolicy
from shared.periods import Period
from tests.unit.fakes import SELLER, FakePorts, customer, position

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
LETTERHEAD = Letterhead(
    sender="rechnung@nordlicht.example",
    sender_name="Nordlicht Hosting GmbH",
    portal_url="https://portal.nordlicht.example/",
)
RUN = "run-2026-11"


def invoice(number: str = "RE-2026-00000007", customer_number: int = 7) -> Invoice:
    buyer = customer(customer_number, name="Jürgen Müller")
    draft = compose_invoice(buyer, [position(buyer.customer_id, 1)], Period(2026, 11))
    assert draft is not None
    return Invoice(
        number=number,
        run_id=RUN,
        issue_date=date(2026, 12, 1),
        due_date=date(2026, 12, 15),
        seller=SELLER,
        draft=draft,
    )


def request_for(
    issued: Invoice, *, attach_pdf: bool = False, attach_xml: bool = False
) -> DeliveryRequest:
    return DeliveryRequest(
        number=issued.number,
        customer_id=issued.customer_id,
        run_id=RUN,
        issue_date=issued.issue_date,
        pdf_key=document_key(issued.customer_id, issued.number),
        attach_pdf=attach_pdf,
        attach_xml=attach_xml,
    )


def pdf_of(pages: int, width: int = 595) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=width, height=842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


class MemoryLog:
    """The delivery log with DynamoDB's conditional put: replace only the version read."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], DeliveryRecord] = {}

    def get(self, run_id: str, number: str) -> DeliveryRecord | None:
        return self.records.get((run_id, number))

    def get_many(self, run_id: str, numbers: Sequence[str]) -> dict[str, DeliveryRecord]:
        return {n: r for n in numbers if (r := self.records.get((run_id, n))) is not None}

    def put(self, record: DeliveryRecord, *, replacing: DeliveryRecord | None) -> bool:
        key = (record.run_id, record.number)
        if self.records.get(key) != replacing:
            return False
        self.records[key] = record
        return True

    def of_run(self, run_id: str) -> Iterator[DeliveryRecord]:
        return (r for (run, _), r in sorted(self.records.items()) if run == run_id)


class Mailbox:
    def __init__(self, *, fail: MailRejectedError | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.fail = fail
        self._ids = count(1)

    def send(self, message: EmailMessage) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return f"ses-{next(self._ids)}"


class Issued:
    def __init__(self, *invoices: Invoice) -> None:
        self.by_number = {i.number: i for i in invoices}

    def invoice(self, customer_id: str, issue_date: date, number: str) -> Invoice | None:
        found = self.by_number.get(number)
        return found if found and found.customer_id == customer_id else None


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def sender(
    mailbox: Mailbox,
    log: MemoryLog,
    *invoices: Invoice,
    clock: Clock | None = None,
    archived: dict[str, bytes] | None = None,
) -> DeliveryService:
    ports = FakePorts()
    for issued in invoices:
        ports.archive.objects[document_key(issued.customer_id, issued.number)] = pdf_of(1)
    ports.archive.objects.update(archived or {})
    return DeliveryService(
        mailer=mailbox,
        log=log,
        invoices=Issued(*invoices),
        archive=ports.archive,
        letterhead=LETTERHEAD,
        clock=clock or Clock(),
    )


# The e-mail


def test_the_mail_names_number_amount_due_date_and_links_the_document() -> None:
    issued = invoice()

    message = compose(issued, LETTERHEAD, pdf=None, now=NOW)
    text = message.get_content()

    assert message["Subject"] == "Ihre Rechnung RE-2026-00000007 vom 01.12.2026"
    assert message["To"].addresses[0].addr_spec == "kunde7@example.org"
    assert message["From"].addresses[0].addr_spec == "rechnung@nordlicht.example"
    assert "Rechnungsbetrag: 11,89 €" in text
    assert "Fällig am: 15.12.2026" in text
    assert "Leistungszeitraum: 01.11.2026 bis 30.11.2026" in text
    assert "https://portal.nordlicht.example/documents/RE-2026-00000007" in text
    assert "beigefügt" not in text
    assert not list(message.iter_attachments())


def test_the_pdf_travels_only_when_given_and_arrives_unchanged() -> None:
    body = pdf_of(2)

    message = compose(invoice(), LETTERHEAD, pdf=body, now=NOW)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    (attachment,) = list(parsed.iter_attachments())  # type: ignore[attr-defined]

    assert attachment.get_filename() == "RE-2026-00000007.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == body
    assert "beigefügt" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


# The status rules


def record(status: str, *, age: timedelta = timedelta(0)) -> DeliveryRecord:
    return DeliveryRecord(
        run_id=RUN,
        number="RE-2026-00000007",
        customer_id="C0000007",
        channel="email",
        status=status,
        updated_at=NOW - age,
    )


@pytest.mark.parametrize(
    ("existing", "allowed"),
    [
        (None, True),
        (record("failed"), True),
        (record("sent"), False),
        (record("printed"), False),
        (record("sending"), False),
        (record("sending", age=rules.CLAIM_LEASE - timedelta(seconds=1)), False),
        (record("sending", age=rules.CLAIM_LEASE + timedelta(seconds=1)), True),
    ],
    ids=["new", "failed", "sent", "printed", "held", "held-in-lease", "held-past-lease"],
)
def test_who_may_claim_an_invoice(existing: DeliveryRecord | None, allowed: bool) -> None:
    assert rules.may_claim(existing, NOW) is allowed


def test_a_claim_counts_attempts_and_a_send_clears_the_last_failure() -> None:
    first = rules.claimed(request_for(invoice()), None, NOW)
    failure = rules.failed(first, reason="Throttling: slow down", now=NOW)
    second = rules.claimed(request_for(invoice()), failure, NOW)
    done = rules.sent(
        second, recipient="kunde7@example.org", message_id="m", attached=False, now=NOW
    )

    assert (first.status, first.attempts, second.attempts) == ("sending", 1, 2)
    assert (done.status, done.reason, done.message_id) == ("sent", None, "m")


# The sender


def test_an_invoice_is_mailed_once_however_often_it_is_announced() -> None:
    issued = invoice()
    mailbox, log = Mailbox(), MemoryLog()
    service = sender(mailbox, log, issued)

    outcomes = [service.deliver(request_for(issued)) for _ in range(3)]

    assert outcomes == ["sent", "skipped", "skipped"]
    assert len(mailbox.sent) == 1
    stored = log.get(RUN, issued.number)
    assert stored is not None
    assert (stored.status, stored.message_id, stored.recipient) == (
        "sent",
        "ses-1",
        "kunde7@example.org",
    )


def test_a_copy_arriving_while_another_attempt_holds_the_invoice_sends_nothing() -> None:
    issued = invoice()
    mailbox, log = Mailbox(), MemoryLog()
    log.put(rules.claimed(request_for(issued), None, NOW), replacing=None)

    assert sender(mailbox, log, issued).deliver(request_for(issued)) == "skipped"
    assert mailbox.sent == []


def test_the_pdf_is_attached_only_for_customers_who_asked() -> None:
    plain, attached = invoice("RE-2026-00000001", 1), invoice("RE-2026-00000002", 2)
    mailbox, log = Mailbox(), MemoryLog()
    service = sender(mailbox, log, plain, attached)

    service.deliver(request_for(plain))
    service.deliver(request_for(attached, attach_pdf=True))

    assert [len(list(m.iter_attachments())) for m in mailbox.sent] == [0, 1]
    stored = [log.get(RUN, n) for n in ("RE-2026-00000001", "RE-2026-00000002")]
    assert [r.attached_pdf for r in stored if r] == [False, True]


def test_an_xml_only_customer_gets_the_archived_xrechnung_attached() -> None:
    issued = invoice()
    mailbox, log = Mailbox(), MemoryLog()
    xml = b"<rsm:CrossIndustryInvoice/>"
    pdf_key = document_key(issued.customer_id, issued.number)
    service = sender(mailbox, log, issued, archived={xml_key(pdf_key): xml})

    service.deliver(request_for(issued, attach_xml=True))

    (attachment,) = mailbox.sent[0].iter_attachments()
    assert attachment.get_filename() == f"{issued.number}.xml"
    assert attachment.get_content_type() == "application/xml"
    assert attachment.get_content() == xml
    assert "XRechnung" in mailbox.sent[0].get_body().get_content()


def test_the_plan_attaches_the_xml_only_for_customers_who_take_the_xml_alone() -> None:
    buyers = [
        customer(1),
        customer(2).model_copy(
            update={"einvoice": "xrechnung-xml", "buyer_reference": "04011000-1234512345-06"}
        ),
    ]
    issued = [
        IssuedNumber(c.customer_id, f"RE-2026-0000000{n}", RUN) for n, c in enumerate(buyers, 1)
    ]
    dates = {i.number: date(2026, 12, 1) for i in issued}

    plan = plan_delivery(RUN, buyers, issued, dates)

    assert [request.attach_xml for request in plan.emails] == [False, True]


def test_a_permanent_rejection_is_recorded_and_not_retried() -> None:
    issued = invoice()
    log = MemoryLog()
    rejected = Mailbox(fail=MailRejectedError("MessageRejected: bad address", permanent=True))

    assert sender(rejected, log, issued).deliver(request_for(issued)) == "failed"
    stored = log.get(RUN, issued.number)
    assert stored is not None
    assert (stored.status, stored.reason) == ("failed", "MessageRejected: bad address")


def test_a_passing_failure_is_recorded_raised_for_the_queue_and_cured_by_the_retry() -> None:
    issued = invoice()
    log = MemoryLog()
    throttled = Mailbox(fail=MailRejectedError("TooManyRequestsException", permanent=False))
    with pytest.raises(DeliveryRetryError):
        sender(throttled, log, issued).deliver(request_for(issued))
    failed = log.get(RUN, issued.number)

    mailbox = Mailbox()
    assert sender(mailbox, log, issued).deliver(request_for(issued)) == "sent"
    assert failed is not None
    assert failed.status == "failed"
    done = log.get(RUN, issued.number)
    assert done is not None
    assert (done.status, done.attempts, len(mailbox.sent)) == ("sent", 2, 1)


def test_an_attempt_that_died_holding_the_invoice_is_taken_over_after_the_lease() -> None:
    issued = invoice()
    mailbox, log, clock = Mailbox(), MemoryLog(), Clock()
    log.put(rules.claimed(request_for(issued), None, NOW), replacing=None)
    clock.now = NOW + rules.CLAIM_LEASE + timedelta(seconds=1)

    assert sender(mailbox, log, issued, clock=clock).deliver(request_for(issued)) == "sent"
    assert len(mailbox.sent) == 1


def test_an_announcement_without_its_issued_invoice_fails_for_good() -> None:
    issued = invoice()
    log = MemoryLog()

    assert sender(Mailbox(), log, issued).deliver(request_for(invoice("RE-2026-00000099"))) == (
        "failed"
    )
    stored = log.get(RUN, "RE-2026-00000099")
    assert stored is not None
    assert "no issued invoice" in (stored.reason or "")


# The hand-over from the run


def test_the_plan_mails_email_customers_and_prints_post_customers_of_this_run_only() -> None:
    mail = customer(1).model_copy(update={"attach_pdf": True})
    paper = customer(2).model_copy(update={"delivery": "post"})
    issued = [
        IssuedNumber(mail.customer_id, "RE-2026-00000002", RUN),
        IssuedNumber(paper.customer_id, "RE-2026-00000001", RUN),
        IssuedNumber(customer(3).customer_id, "RE-2026-00000003", "run-2026-10"),
    ]
    dates = {f"RE-2026-0000000{n}": date(2026, 12, 1) for n in (1, 2, 3)}

    plan = plan_delivery(RUN, [mail, paper, customer(3)], issued, dates)

    assert [(r.number, r.attach_pdf, r.channel) for r in plan.emails] == [
        ("RE-2026-00000002", True, "email")
    ]
    assert plan.post == (
        PostDocument(
            customer_id=paper.customer_id,
            number="RE-2026-00000001",
            pdf_key=document_key(paper.customer_id, "RE-2026-00000001"),
        ),
    )
    assert plan.unplanned == ()


class Announced:
    def __init__(self) -> None:
        self.requests: list[DeliveryRequest] = []

    def announce(self, requests: Sequence[DeliveryRequest]) -> None:
        self.requests.extend(requests)


class Printer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []

    def print_run(
        self, run_id: str, execution: str, documents: Sequence[PostDocument]
    ) -> PrintBatch | None:
        numbers = [d.number for d in documents]
        self.calls.append((run_id, execution, numbers))
        return PrintBatch(key=batch_key(run_id, execution), invoices=1, pages=2, numbers=())


def run_service(ports: FakePorts, queue: Announced, printer: Printer) -> InvoiceRunService:
    people = [customer(1), customer(2).model_copy(update={"delivery": "post"}), customer(3)]
    ports.contracts.save_customers(people)
    ports.contracts.save_positions(
        {p.customer_id: 0 for p in people}, [position(p.customer_id, 1) for p in people]
    )
    return InvoiceRunService(
        contracts=ports.contracts,
        ranges=ports.ranges,
        documents=ports.documents,
        archive=ports.archive,
        runs=ports.runs,
        work=ports.work,
        policy=RunPolicy(
            seller=SELLER,
            invoice_prefix="RE",
            payment_term_days=14,
            retention_years=8,
            shard_count=1,
        ),
        deliveries=queue,
        printer=printer,
    )


SHARD = ShardRequest(
    run_id=RUN, period="2026-11", issue_date=date(2026, 12, 1), execution="first", shard=0
)


def test_a_shard_announces_its_email_invoices_again_on_a_retry_and_lists_post() -> None:
    queue, printer, ports = Announced(), Printer(), FakePorts()
    service = run_service(ports, queue, printer)

    first = service.bill_shard(SHARD)
    retry = service.bill_shard(SHARD)

    numbers = [r.number for r in queue.requests]
    assert first.announced == retry.announced == 2
    assert numbers[:2] == numbers[2:]
    assert {r.customer_id for r in queue.requests} == {"C0000001", "C0000003"}
    assert (
        [d.customer_id for d in first.post] == [d.customer_id for d in retry.post] == ["C0000002"]
    )


def prepared(service: InvoiceRunService, *, dry_run: bool = False) -> None:
    request = PrepareRequest(period="2026-11", issue_date=SHARD.issue_date, dry_run=dry_run)
    service.prepare(request, execution=SHARD.execution)


def test_finalize_prints_the_post_invoices_and_reports_the_batch() -> None:
    queue, printer, ports = Announced(), Printer(), FakePorts()
    service = run_service(ports, queue, printer)
    prepared(service)
    result = service.bill_shard(SHARD)

    report = service.finalize(FinalizeRequest(**SHARD.model_dump(exclude={"shard"}), shards=1))

    assert printer.calls == [(RUN, "first", [result.post[0].number])]
    assert report.delivery.emails_announced == 2
    assert report.delivery.print_batch == "print/run-2026-11/first.pdf"
    assert (report.delivery.printed, report.delivery.print_pages) == (1, 2)


def test_a_dry_run_delivers_nothing() -> None:
    queue, printer, ports = Announced(), Printer(), FakePorts()
    service = run_service(ports, queue, printer)
    dry = SHARD.model_copy(update={"dry_run": True})
    prepared(service, dry_run=True)

    result = service.bill_shard(dry)
    report = service.finalize(FinalizeRequest(**dry.model_dump(exclude={"shard"}), shards=1))

    assert (queue.requests, result.post, printer.calls) == ([], (), [])
    assert report.delivery.print_batch is None


# The print batch


def post_document(n: int) -> PostDocument:
    return PostDocument(
        customer_id=f"C{n:07d}",
        number=f"RE-2026-{n:08d}",
        pdf_key=f"documents/{n}.pdf",
    )


class Batches:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def store(self, key: str, body: bytes) -> bool:
        if key in self.objects:
            return False
        self.objects[key] = body
        return True


def printer_with(pages: dict[int, int]) -> tuple[PrintBatches, Batches, MemoryLog]:
    ports, batches, log = FakePorts(), Batches(), MemoryLog()
    for n, count_ in pages.items():
        ports.archive.objects[f"documents/{n}.pdf"] = pdf_of(count_, width=100 + n)
    return PrintBatches(log=log, archive=ports.archive, store=batches, clock=Clock()), batches, log


def test_the_batch_holds_every_post_invoice_in_number_order() -> None:
    printer, batches, log = printer_with({12: 2, 3: 1, 7: 3})

    batch = printer.print_run(RUN, "first", [post_document(n) for n in (12, 3, 7)])

    assert batch is not None
    assert batch.numbers == ("RE-2026-00000003", "RE-2026-00000007", "RE-2026-00000012")
    reader = PdfReader(io.BytesIO(batches.objects[batch.key]))
    widths = [int(page.mediabox.width) for page in reader.pages]
    assert widths == [103, 107, 107, 107, 112, 112]
    assert batch.pages == 6
    assert {r.status for r in log.of_run(RUN)} == {"printed"}


def test_finalize_again_builds_the_same_batch_and_a_later_execution_only_the_rest() -> None:
    printer, batches, _ = printer_with({1: 1, 2: 1, 3: 1})

    first = printer.print_run(RUN, "first", [post_document(1), post_document(2)])
    again = printer.print_run(RUN, "first", [post_document(1), post_document(2)])
    later = printer.print_run(RUN, "second", [post_document(n) for n in (1, 2, 3)])
    nothing = printer.print_run(RUN, "third", [post_document(n) for n in (1, 2, 3)])

    assert first is not None
    assert again is not None
    assert later is not None
    assert first.numbers == again.numbers
    assert first.key == again.key
    assert later.numbers == ("RE-2026-00000003",)
    assert nothing is None
    assert sorted(batches.objects) == [
        "print/run-2026-11/first.pdf",
        "print/run-2026-11/second.pdf",
    ]


def test_in_number_order_sorts_by_sequence_and_drops_repeats() -> None:
    ordered = in_number_order([post_document(10), post_document(9), post_document(10)])

    assert [d.number for d in ordered] == ["RE-2026-00000009", "RE-2026-00000010"]


def test_the_summary_counts_statuses_attachments_and_lists_failures() -> None:
    log = MemoryLog()
    base = rules.claimed(request_for(invoice("RE-2026-00000001", 1)), None, NOW)
    log.put(
        rules.sent(base, recipient="a@b.example", message_id="m", attached=True, now=NOW),
        replacing=None,
    )
    other = rules.claimed(request_for(invoice("RE-2026-00000002", 2)), None, NOW)
    log.put(rules.failed(other, reason="MessageRejected", now=NOW), replacing=None)

    summary = summarize(RUN, log.of_run(RUN))

    assert summary.by_status == {"failed": 1, "sent": 1}
    assert (summary.emails_sent, summary.with_attachment) == (1, 1)
    assert [(f.number, f.reason) for f in summary.failed] == [
        ("RE-2026-00000002", "MessageRejected")
    ]
