"""Delivery on the embedded AWS: a real invoice run, the queue, the paced sender, SES, print."""

from __future__ import annotations

import io
import json
from collections import Counter
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Any

import pytest
from pypdf import PdfReader

from cli.seed import Hoster
from infra import spec
from localaws import embedded
from localaws.queue_poller import PollResult, QueuePoller
from shared.delivery.model import DeliveryRequest
from shared.invoicing.documents import xml_key
from tests.integration.conftest import Aws

CUSTOMERS = 120
PORTAL = spec.default_settings()["BILLING_PORTAL_URL"]
MAIL_FROM = spec.default_settings()["BILLING_MAIL_FROM"]


def deliver(aws: Aws) -> PollResult:
    return QueuePoller(aws.clients, aws.stack).drain()


def emails() -> list[EmailMessage]:
    parsed = [
        message_from_string(m.raw_data, policy=policy.default) for m in embedded.sent_emails()
    ]
    return [message for message in parsed if isinstance(message, EmailMessage)]


def recipient(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def records(aws: Aws) -> dict[str, dict[str, Any]]:
    items = aws.scan("Documents")
    return {item["sk"]: item for item in items if str(item["pk"]).startswith("DELIVERY#")}


def archived(aws: Aws, key: str) -> bytes:
    body = aws.s3.get_object(Bucket=aws.stack.bucket_names["Archive"], Key=key)["Body"]
    return bytes(body.read())


def backlog(aws: Aws) -> int:
    return QueuePoller(aws.clients, aws.stack).backlog()


@pytest.fixture
def billed(aws: Aws) -> tuple[Hoster, dict[str, Any]]:
    hoster = aws.seed(CUSTOMERS)
    report = aws.run("first")
    return hoster, report


def email_and_post(aws: Aws, hoster: Hoster) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    wants = {customer.customer_id: customer.delivery for customer in hoster.customers}
    invoices = sorted(aws.invoices(), key=lambda invoice: invoice["number"])
    by_mail = [i for i in invoices if wants[i["customer_id"]] == "email"]
    by_post = [i for i in invoices if wants[i["customer_id"]] == "post"]
    return by_mail, by_post


def test_each_email_customer_gets_one_message_with_its_link_and_the_pdf_only_if_asked(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    hoster, report = billed
    customers = {customer.customer_id: customer for customer in hoster.customers}
    by_mail, by_post = email_and_post(aws, hoster)
    assert by_post, "the sample needs customers who get post"
    assert any(customers[i["customer_id"]].attach_pdf for i in by_mail)

    drained = deliver(aws)

    sent = emails()
    assert (drained.messages, drained.failed) == (len(by_mail), 0)
    assert report["delivery"]["emails_announced"] == len(by_mail)
    assert len(sent) == len(by_mail)
    assert Counter(recipient(m) for m in sent) == Counter(
        customers[i["customer_id"]].email for i in by_mail
    )
    for invoice in by_mail:
        customer = customers[invoice["customer_id"]]
        (message,) = [m for m in sent if recipient(m) == customer.email]
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        attachments = list(message.iter_attachments())
        assert message["Subject"].endswith(f"{invoice['number']} vom 01.12.2026")
        assert f"{PORTAL}/documents/{invoice['number']}" in text
        assert message["From"].addresses[0].addr_spec == MAIL_FROM
        expected = []
        if customer.attach_pdf:
            expected.append(archived(aws, invoice["pdf_key"]))
        if customer.einvoice == "xrechnung-xml":
            expected.append(archived(aws, xml_key(invoice["pdf_key"])))
        assert [attachment.get_content() for attachment in attachments] == expected
    mailed_to = {recipient(m) for m in sent}
    assert not mailed_to & {customers[i["customer_id"]].email for i in by_post}


def test_the_status_of_every_invoice_is_recorded(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    hoster, report = billed
    customers = {customer.customer_id: customer for customer in hoster.customers}
    by_mail, by_post = email_and_post(aws, hoster)

    deliver(aws)

    status = records(aws)
    ses_ids = {message.id for message in embedded.sent_emails()}
    assert set(status) == {i["number"] for i in by_mail + by_post}
    for invoice in by_mail:
        record = status[invoice["number"]]
        customer = customers[invoice["customer_id"]]
        assert (record["status"], record["channel"], record["recipient"]) == (
            "sent",
            "email",
            customer.email,
        )
        assert record["message_id"] in ses_ids
        assert record["attached_pdf"] is customer.attach_pdf
    for invoice in by_post:
        record = status[invoice["number"]]
        assert (record["status"], record["print_batch"]) == (
            "printed",
            report["delivery"]["print_batch"],
        )


def test_a_redelivered_message_and_a_second_run_send_nothing_new(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    hoster, _ = billed
    deliver(aws)
    before = len(embedded.sent_emails())
    first_status = records(aws)
    customers = {customer.customer_id: customer for customer in hoster.customers}
    by_mail, _ = email_and_post(aws, hoster)
    invoice = by_mail[0]
    again = DeliveryRequest(
        number=invoice["number"],
        customer_id=invoice["customer_id"],
        run_id=invoice["run_id"],
        issue_date=invoice["issue_date"],
        pdf_key=invoice["pdf_key"],
        attach_pdf=customers[invoice["customer_id"]].attach_pdf,
    )
    sqs = aws.clients("sqs")
    for _ in range(2):
        sqs.send_message(
            QueueUrl=aws.stack.queue_urls[spec.DELIVERY_QUEUE.id],
            MessageBody=again.model_dump_json(),
        )

    redelivered = deliver(aws)
    rerun = aws.run("second")
    after_rerun = deliver(aws)

    assert (redelivered.messages, redelivered.failed) == (2, 0)
    assert rerun["delivery"]["emails_announced"] == len(by_mail)
    assert (after_rerun.messages, after_rerun.failed) == (len(by_mail), 0)
    assert len(embedded.sent_emails()) == before
    assert records(aws) == first_status
    assert rerun["delivery"]["print_batch"] is None
    assert backlog(aws) == 0


def test_post_invoices_are_in_one_print_batch_in_number_order(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    hoster, report = billed
    _, by_post = email_and_post(aws, hoster)
    key = report["delivery"]["print_batch"]
    assert key == f"print/{report['run_id']}/first.pdf"

    body = aws.s3.get_object(Bucket=aws.stack.bucket_names["Work"], Key=key)["Body"].read()
    batch = PdfReader(io.BytesIO(body))
    originals = [PdfReader(io.BytesIO(archived(aws, i["pdf_key"]))) for i in by_post]

    expected_pages = [page.extract_text() for pdf in originals for page in pdf.pages]
    assert len(batch.pages) == sum(len(pdf.pages) for pdf in originals)
    assert report["delivery"]["print_pages"] == len(batch.pages)
    assert report["delivery"]["printed"] == len(by_post)
    assert [page.extract_text() for page in batch.pages] == expected_pages
    first_pages = [pdf.pages[0].extract_text() for pdf in originals]
    assert all(i["number"] in text for i, text in zip(by_post, first_pages, strict=True))
    assert [i["number"] for i in by_post] == sorted(i["number"] for i in by_post)


def test_finalize_again_keeps_the_one_batch(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    _, report = billed
    work = aws.stack.bucket_names["Work"]
    before = aws.s3.get_object(Bucket=work, Key=report["delivery"]["print_batch"])["ETag"]
    event = {key: report[key] for key in ("run_id", "period", "issue_date", "dry_run")} | {
        "execution": "first",
        "shards": report["shards_total"],
    }

    answer, error = aws.invoke(aws.stack.function_arns[spec.INVOICE_FINALIZE.id], event)

    assert error is None, answer
    again = aws.read_json(f"runs/{report['run_id']}/first/report.json")
    assert again["delivery"] == report["delivery"]
    prints = aws.s3.list_objects_v2(Bucket=work, Prefix="print/")["Contents"]
    assert [item["Key"] for item in prints] == [report["delivery"]["print_batch"]]
    assert prints[0]["ETag"] == before


def test_a_dry_run_delivers_nothing(aws: Aws) -> None:
    aws.seed(40)

    report = aws.run("dry", dry_run=True)

    assert report["delivery"]["emails_announced"] == 0
    assert report["delivery"]["print_batch"] is None
    assert backlog(aws) == 0
    assert records(aws) == {}
    assert "Contents" not in aws.s3.list_objects_v2(
        Bucket=aws.stack.bucket_names["Work"], Prefix="print/"
    )


def test_a_rejected_e_mail_is_recorded_as_failed_and_sent_by_a_later_run(
    aws: Aws, billed: tuple[Hoster, dict[str, Any]]
) -> None:
    hoster, _ = billed
    by_mail, _ = email_and_post(aws, hoster)
    sesv2 = aws.clients("sesv2")
    sesv2.delete_email_identity(EmailIdentity=MAIL_FROM)

    rejected = deliver(aws)
    failed = records(aws)
    sesv2.create_email_identity(EmailIdentity=MAIL_FROM)
    aws.run("second")
    deliver(aws)

    assert (rejected.messages, rejected.failed) == (len(by_mail), 0)
    for invoice in by_mail:
        record = failed[invoice["number"]]
        assert record["status"] == "failed"
        assert record["reason"].startswith("MessageRejected")
    final = records(aws)
    assert {final[i["number"]]["status"] for i in by_mail} == {"sent"}
    assert {int(final[i["number"]]["attempts"]) for i in by_mail} == {2}
    assert len(embedded.sent_emails()) == len(by_mail)


def test_local_event_sources_leave_polling_to_the_local_poller(aws: Aws) -> None:
    """moto would run the sender inside the worker's SendMessage; the source is disabled."""
    mappings = aws.lambda_.list_event_source_mappings()["EventSourceMappings"]
    assert len(mappings) == len(spec.EVENT_SOURCES)
    assert all(mapping["State"] in {"Disabled", "Disabling"} for mapping in mappings)
    (mapping,) = [
        m for m in mappings if m["FunctionArn"].endswith(spec.INVOICE_DELIVERY.local_name)
    ]
    sqs = aws.clients("sqs")
    url = aws.stack.queue_urls[spec.DELIVERY_QUEUE.id]
    request = {"number": "RE-2026-00000001", "customer_id": "C0000001", "run_id": "run-2026-11"}
    body = json.dumps(request | {"issue_date": "2026-12-01", "pdf_key": "documents/x.pdf"})

    sqs.send_message(QueueUrl=url, MessageBody=body)

    assert mapping["State"] in {"Disabled", "Disabling"}
    assert mapping["BatchSize"] == spec.EVENT_SOURCES[0].batch_size
    assert backlog(aws) == 1
    assert deliver(aws).messages == 1


def test_shared_records_carry_the_service_of_the_function_invoked(aws: Aws) -> None:
    """The sender's module, imported after the invoice run's, does not relabel its records."""
    event = {"input": {"period": "2026-11", "issue_date": "2026-12-01"}, "execution": "labels"}
    aws.invoke(spec.INVOICE_PREPARE.local_name, event)
    aws.invoke(spec.INVOICE_DELIVERY.local_name, {"Records": []})

    aws.invoke(spec.INVOICE_PREPARE.local_name, event)

    logs = aws.clients("logs")
    group = f"/aws/lambda/{spec.INVOICE_PREPARE.local_name}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    records = [
        json.loads(log_event["message"])
        for stream in streams
        for log_event in logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"]
        )["events"]
        if log_event["message"].startswith("{")
    ]
    prepared = [r for r in records if r.get("message") == "invoice run prepared"]
    assert [r["service"] for r in prepared] == ["invoice_run", "invoice_run"]
