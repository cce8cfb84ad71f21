"""The dunning run through the real state machine on the embedded AWS, over calendar time.

Everything is the embedded AWS: the Dunning, Documents, Control and Contracts tables, the DynamoDB
ledger of main (postings beside the documents), the Object Lock archive, the work bucket, the
delivery queue and SES, the provisioning bus and the Distributed Map. One thing is stood in: the
tests post their invoices as postings, not as documents of an invoice run, so the sweep of recent
invoices that finds overdue customers in production (``shared/storage/overdue.py``) would not see
them; the test's ledger answers ``OverdueLedger.overdue_customers`` from the accounts the test
created instead (``dunning_ledger`` is the seam).
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_string, policy
from typing import Any

import pytest
import requests
from pypdf import PdfReader

import shared.wiring
from infra import spec
from localaws import embedded
from localaws.queue_poller import QueuePoller
from shared.accounts.model import Posting
from shared.customers import Address, Customer, shard_of
from shared.dunning.model import Hold
from shared.ports import DocumentQuery
from shared.settings import Settings
from shared.storage.dunning import DynamoDunningStore
from shared.storage.dynamodb import DynamoContracts, DynamoDocuments
from shared.storage.ledger import DynamoLedger
from tests.integration.conftest import SHARDS, Aws

DUE = date(2026, 1, 15)
LEVEL_DAYS = (
    date(2026, 1, 22),
    date(2026, 2, 2),
    date(2026, 2, 13),
    date(2026, 2, 24),
    date(2026, 3, 4),
    date(2026, 3, 19),
)


class ScannedOverdueLedger(DynamoLedger):
    """The DynamoDB ledger; overdue customers found among the accounts the test made."""

    def __init__(self, client: Any, table: str) -> None:
        super().__init__(client, table)
        self.known: set[str] = set()

    def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
        for customer_id in sorted(self.known):
            if shard_of(customer_id, SHARDS) != shard:
                continue
            items = self.account(customer_id).open_items()
            if any(i.due_on is not None and i.due_on < due_before for i in items):
                yield customer_id


@pytest.fixture
def ledger(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScannedOverdueLedger]:
    shared_ledger = ScannedOverdueLedger(aws.dynamodb, aws.stack.table_names["Documents"])
    monkeypatch.setattr(shared.wiring, "dunning_ledger", lambda *_: shared_ledger)
    forget_services()
    yield shared_ledger
    forget_services()


def forget_services() -> None:
    """The handlers keep their use cases per process; each test has a stack of its own."""
    loaded = sys.modules.get("functions.dunning.handler")
    if loaded is not None:
        loaded.service.cache_clear()
        loaded.run_service.cache_clear()


@pytest.fixture
def events(aws: Aws) -> str:
    """A queue that receives whatever dunning puts on the provisioning bus."""
    sqs = aws.clients("sqs")
    url = sqs.create_queue(QueueName="provisioning-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = spec.PROVISIONING_BUS.local_name
    bridge = aws.clients("events")
    bridge.put_rule(
        Name="dunning", EventBusName=bus, EventPattern=json.dumps({"source": ["billing.dunning"]})
    )
    bridge.put_targets(Rule="dunning", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return str(url)


def received(aws: Aws, url: str) -> list[dict[str, Any]]:
    sqs = aws.clients("sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def customer(number: int, **extra: Any) -> Customer:
    customer_id = f"C{number:07d}"
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "name": f"Kundin {number}",
        "email": f"kundin{number}@example.org",
        "address": Address(street="Weg 1", postal_code="20095", city="Hamburg", country="DE"),
        "shard": shard_of(customer_id, SHARDS),
    }
    return Customer.model_validate(values | extra)


def invoice(ledger: ScannedOverdueLedger, who: Customer, amount: str) -> str:
    number = f"RE-2026-{int(who.customer_id[1:]):08d}"
    ledger.known.add(who.customer_id)
    ledger.post(
        [
            Posting(
                posting_id=f"invoice:{number}",
                customer_id=who.customer_id,
                booked_on=date(2026, 1, 1),
                kind="invoice",
                amount=Decimal(amount),
                item=number,
                document_number=number,
                source=f"invoice:{number}",
                due_on=DUE,
            )
        ]
    )
    return number


def pay_all(ledger: ScannedOverdueLedger, who: Customer, on: date) -> None:
    postings = [
        Posting(
            posting_id=f"statement:{who.customer_id}:{item.item}:{on}",
            customer_id=who.customer_id,
            booked_on=on,
            kind="payment",
            amount=-item.open,
            item=item.item,
            source=f"statement:{on}",
        )
        for item in ledger.account(who.customer_id).open_items()
    ]
    ledger.post(postings)


def posting_items(aws: Aws) -> list[str]:
    return sorted(str(i["sk"]) for i in aws.scan("Documents") if str(i["sk"]).startswith("POST#"))


def seed(aws: Aws, *customers: Customer) -> None:
    contracts = DynamoContracts(aws.dynamodb, aws.stack.table_names["Contracts"])
    contracts.save_customers(customers)


def dun(aws: Aws, day: date, name: str | None = None) -> dict[str, Any]:
    execution = name or f"dunning-{day.isoformat()}-t{time.monotonic_ns()}"
    arn = aws.stepfunctions.start_execution(
        stateMachineArn=aws.stack.dunning_run_arn,
        name=execution,
        input=json.dumps({"run_date": day.isoformat()}),
    )["executionArn"]
    finished = aws._wait(arn)
    assert finished["status"] == "SUCCEEDED", finished.get("cause")
    report: dict[str, Any] = aws.read_json(
        f"dunning/dunning-{day.isoformat()}/{execution}/report.json"
    )
    return report


def notices(aws: Aws, who: Customer) -> list[str]:
    documents = DynamoDocuments(aws.dynamodb, aws.stack.table_names["Documents"])
    page = documents.customer_documents(
        who.customer_id, limit=50, cursor=None, query=DocumentQuery(document_types=("dunning",))
    )
    return sorted(d.number for d in page.documents)


def test_an_unpaid_invoice_goes_through_every_level_on_the_real_run(
    aws: Aws, ledger: ScannedOverdueLedger, events: str
) -> None:
    anna, ben, post = customer(1), customer(2), customer(3, delivery="post")
    seed(aws, anna, ben, post)
    for who in (anna, ben, post):
        invoice(ledger, who, "119.00")

    reports = []
    for number, day in enumerate(LEVEL_DAYS, start=1):
        if number == 3:
            pay_all(ledger, ben, date(2026, 2, 5))
        reports.append(dun(aws, day))

    assert [
        r["reached"][key]
        for r, key in zip(
            reports,
            ["reminder", "first_notice", "second_notice", "final_notice", "suspension", "handover"],
            strict=True,
        )
    ] == [3, 3, 2, 2, 2, 2]
    assert reports[2]["settled"] == 1
    assert len(notices(aws, anna)) == 6
    assert len(notices(aws, ben)) == 2
    assert Decimal(reports[1]["fees"]) == Decimal("7.50")
    assert Decimal(reports[1]["interest"]) == Decimal("0.66")  # 3 x 119.00 x 6.27 % x 11/365
    sent = received(aws, events)
    assert sorted((e["detail-type"], e["detail"]["customer_id"]) for e in sent) == [
        ("CustomerSuspended", anna.customer_id),
        ("CustomerSuspended", post.customer_id),
    ]
    assert {e["detail"]["level_key"] for e in sent} == {"suspension"}
    (export,) = reports[-1]["collection_exports"]
    claims = [
        json.loads(line)
        for line in aws.s3.get_object(Bucket=aws.stack.bucket_names["Work"], Key=export["key"])[
            "Body"
        ]
        .read()
        .splitlines()
    ]
    assert sorted(c["customer_id"] for c in claims) == [anna.customer_id, post.customer_id]
    assert {c["total"] for c in claims} == {"132.63"}


def test_notices_are_archived_once_under_retention_and_delivered(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    anna, post = customer(1), customer(3, delivery="post")
    seed(aws, anna, post)
    invoice(ledger, anna, "119.00")
    invoice(ledger, post, "119.00")

    report = dun(aws, LEVEL_DAYS[0])
    QueuePoller(aws.clients, aws.stack).drain()

    bucket = aws.stack.bucket_names["Archive"]
    documents = [i for i in aws.scan("Documents") if i.get("document_type") == "dunning"]
    assert sorted(d["customer_id"] for d in documents) == [anna.customer_id, post.customer_id]
    for document in documents:
        head = aws.s3.head_object(Bucket=bucket, Key=document["pdf_key"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == datetime(2033, 1, 1, tzinfo=UTC)
    (mail,) = [
        message_from_string(m.raw_data, policy=policy.default) for m in embedded.sent_emails()
    ]
    assert mail["To"].addresses[0].addr_spec == anna.email
    assert mail["Subject"].startswith("Zahlungserinnerung MA-2026-")
    (attachment,) = list(mail.iter_attachments())
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Zahlungserinnerung" in text
    assert report["print_batch"] == f"print/dunning-2026-01-22/{report['execution']}.pdf"
    assert report["printed"] == 1


def test_two_runs_on_one_day_change_nothing_the_second_time(
    aws: Aws, ledger: ScannedOverdueLedger, events: str
) -> None:
    anna = customer(1)
    seed(aws, anna)
    invoice(ledger, anna, "119.00")
    for day in LEVEL_DAYS[:4]:
        dun(aws, day)
    first = dun(aws, LEVEL_DAYS[4])
    postings = posting_items(aws)
    documents = [i["sk"] for i in aws.scan("Documents") if i.get("document_type") == "dunning"]
    received(aws, events)

    again = dun(aws, LEVEL_DAYS[4])

    assert posting_items(aws) == postings
    assert [i["sk"] for i in aws.scan("Documents") if i.get("document_type") == "dunning"] == (
        documents
    )
    assert received(aws, events) == []
    assert (again["notices"], again["suspensions"], again["fees"]) == (
        first["notices"],
        first["suspensions"],
        first["fees"],
    )


def suspended(aws: Aws, ledger: ScannedOverdueLedger, events: str) -> Customer:
    """A customer dunned through every level up to suspension, the bus's events read."""
    anna = customer(1)
    seed(aws, anna)
    invoice(ledger, anna, "119.00")
    for day in LEVEL_DAYS[:5]:
        dun(aws, day)
    received(aws, events)
    return anna


def test_payment_in_full_reactivates_at_once_through_the_settle_hook(
    aws: Aws, ledger: ScannedOverdueLedger, events: str
) -> None:
    anna = suspended(aws, ledger, events)

    pay_all(ledger, anna, date(2026, 3, 6))
    outcomes = shared.wiring.dunning_service(Settings()).settle_all(
        {anna.customer_id, "C9999999"}, on=date(2026, 3, 6)
    )
    after = dun(aws, LEVEL_DAYS[5])

    assert outcomes == {anna.customer_id: "reactivated", "C9999999": "no_case"}
    (event,) = received(aws, events)
    assert (event["detail-type"], event["detail"]["occurred_on"]) == (
        "CustomerReactivated",
        "2026-03-06",
    )
    assert after["handovers"] == 0
    store = DynamoDunningStore(aws.dynamodb, aws.stack.table_names["Dunning"], SHARDS)
    assert store.case(anna.customer_id) is None
    assert [c["reason"] for c in store.closed_cases(anna.customer_id)] == ["paid in full"]


def test_a_block_and_a_dispute_set_like_the_cli_does_are_kept_by_the_run(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    blocked, disputed = customer(1), customer(2)
    seed(aws, blocked, disputed)
    invoice(ledger, blocked, "119.00")
    item = invoice(ledger, disputed, "119.00")
    store = DynamoDunningStore(aws.dynamodb, aws.stack.table_names["Dunning"], SHARDS)
    store.put_hold(
        Hold(
            customer_id=blocked.customer_id,
            kind="block",
            reason="goodwill",
            set_on=date(2026, 1, 1),
        )
    )
    store.put_hold(
        Hold(
            customer_id=disputed.customer_id,
            kind="dispute",
            item=item,
            reason="service was down",
            set_on=date(2026, 1, 1),
        )
    )

    report = dun(aws, LEVEL_DAYS[0])

    assert report["excluded"] == {"block": 1, "dispute": 1}
    assert notices(aws, blocked) == notices(aws, disputed) == []
    assert store.remove_hold(blocked.customer_id, "block", None)
    assert dun(aws, LEVEL_DAYS[0] + timedelta(days=1))["notices"] == 1


def test_the_archive_api_lists_a_customer_s_notices_as_type_dunning(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    from localaws.embedded import client_factory
    from localaws.http_api import LocalIssuer, serve

    anna = customer(1)
    seed(aws, anna)
    number = invoice(ledger, anna, "119.00")
    dun(aws, LEVEL_DAYS[0])
    dun(aws, LEVEL_DAYS[1])
    issuer = LocalIssuer.generate()
    server = serve(0, lambda: client_factory()("lambda"), issuer)
    try:
        headers = {"Authorization": f"Bearer {issuer.token(anna.customer_id)}"}
        listed = requests.get(
            server.url + "/documents", headers=headers, params={"type": "dunning"}, timeout=30
        )
        invoices = requests.get(
            server.url + "/documents", headers=headers, params={"type": "invoice"}, timeout=30
        )
        first = listed.json()["documents"][-1]["number"]
        pdf = requests.get(
            server.url + f"/documents/{first}/pdf",
            headers=headers,
            allow_redirects=False,
            timeout=30,
        )
    finally:
        server.shutdown()

    assert listed.status_code == 200
    documents = listed.json()["documents"]
    assert [(d["document_type"], d["gross"]) for d in documents] == [
        ("dunning", "121.72"),
        ("dunning", "119.00"),
    ]
    assert invoices.json()["documents"] == []
    assert pdf.status_code == 302
    assert number not in {d["number"] for d in documents}


def test_a_partial_payment_and_a_returned_debit_show_on_the_notices(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    from shared.storage.dunning import DynamoNotices

    cara, dora = customer(4), customer(5)
    seed(aws, cara, dora)
    cara_invoice = invoice(ledger, cara, "119.00")
    dora_invoice = invoice(ledger, dora, "49.00")
    returned = [
        Posting(
            posting_id="statement:debit:dora",
            customer_id=dora.customer_id,
            booked_on=DUE,
            kind="payment",
            amount=Decimal("-49.00"),
            item=dora_invoice,
            source="statement:debit",
        ),
        Posting(
            posting_id="statement:return:dora",
            customer_id=dora.customer_id,
            booked_on=date(2026, 1, 20),
            kind="debit_return",
            amount=Decimal("49.00"),
            item=dora_invoice,
            source="statement:return",
            reason="AC04",
        ),
    ]
    ledger.post(returned)
    dun(aws, LEVEL_DAYS[0])
    ledger.post(
        [
            Posting(
                posting_id="statement:cara:part",
                customer_id=cara.customer_id,
                booked_on=date(2026, 1, 28),
                kind="payment",
                amount=Decimal("-50.00"),
                item=cara_invoice,
                source="statement:part",
            )
        ]
    )

    report = dun(aws, LEVEL_DAYS[1])

    store = DynamoNotices(aws.dynamodb, aws.stack.table_names["Documents"])
    cara_notice = store.notice(cara.customer_id, LEVEL_DAYS[1], max(notices(aws, cara)))
    dora_first = store.notice(dora.customer_id, LEVEL_DAYS[0], min(notices(aws, dora)))
    assert cara_notice is not None
    assert dora_first is not None
    assert (cara_notice.lines[0].open, cara_notice.total) == (Decimal("69.00"), Decimal("71.67"))
    assert dora_first.lines[0].return_reason == "AC04"
    pdf = aws.s3.get_object(
        Bucket=aws.stack.bucket_names["Archive"],
        Key=next(
            i["pdf_key"] for i in aws.scan("Documents") if i.get("doc_number") == dora_first.number
        ),
    )["Body"].read()
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Grund AC04: Konto erloschen" in text
    assert report["reached"]["first_notice"] == 2


def test_billing_dunning_run_follows_the_run_and_prints_its_result(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    anna, ben = customer(1), customer(2)
    seed(aws, anna, ben)
    invoice(ledger, anna, "119.00")
    invoice(ledger, ben, "3.00")
    runner = CliRunner()

    shown = runner.invoke(cli, ["dunning", "run", "--date", "2026-01-22"], terminal_width=200)
    again = runner.invoke(cli, ["dunning", "run", "--date", "2026-01-22", "--json"])
    stored = runner.invoke(cli, ["dunning", "report", "dunning-2026-01-22", "--json"])

    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.replace("│", " ").split()) for line in shown.output.splitlines()]
    assert "4/4 shards" in lines[0]
    for expected in (
        "customers checked 2",
        "reached reminder 1",
        "excluded: below_threshold 1",
        "notices 1",
        "numbers MA-2026-00000001 .. MA-2026-00000001",
    ):
        assert any(expected in line for line in lines), expected
    repeated = json.loads(again.output)
    assert (repeated["notices"], repeated["reached"]["reminder"]) == (1, 1)
    assert json.loads(stored.output)["execution"] == repeated["execution"]


def test_the_daily_schedule_starts_the_day_s_run_once(
    aws: Aws, ledger: ScannedOverdueLedger
) -> None:
    anna = customer(1)
    seed(aws, anna)
    invoice(ledger, anna, "119.00")
    fired = {"scheduled_time": "2026-01-22T05:00:00Z"}

    answer, error = aws.invoke(spec.DUNNING_SCHEDULE.local_name, fired)
    prefix = aws.stack.dunning_run_arn.replace(":stateMachine:", ":execution:")
    finished = aws._wait(f"{prefix}:{answer['execution']}")
    again, _ = aws.invoke(spec.DUNNING_SCHEDULE.local_name, fired)

    assert error is None, answer
    assert answer == {
        "run_id": "dunning-2026-01-22",
        "execution": "dunning-2026-01-22-scheduled",
        "joined": False,
    }
    assert finished["status"] == "SUCCEEDED"
    assert again["joined"] is True
    listed = aws.stepfunctions.list_executions(stateMachineArn=aws.stack.dunning_run_arn)
    assert [e["name"] for e in listed["executions"]] == ["dunning-2026-01-22-scheduled"]
    assert notices(aws, anna) == ["MA-2026-00000001"]


def test_a_statement_import_paying_the_claim_reactivates_the_customer_at_once(
    aws: Aws, ledger: ScannedOverdueLedger, events: str
) -> None:
    from localaws import bank
    from shared.payments.statements import read_statement
    from shared.wiring import payment_import

    anna = suspended(aws, ledger, events)
    owed = ledger.account(anna.customer_id).balance
    paid = bank.Booking(owed, date(2026, 3, 6), remittance="Mahnung MA 2026 00000005")
    statement = bank.BankStatement(
        [paid], account=bank.Account(iban="DE02120300000000202051"), statement_id="STMT-0306"
    )

    report = payment_import(Settings(), aws.dynamodb).run(read_statement(bank.camt053(statement)))

    assert (owed, report.by_rule) == (Decimal("132.32"), {"dunning_notice": 1})
    (event,) = received(aws, events)
    assert (event["detail-type"], event["detail"]["customer_id"]) == (
        "CustomerReactivated",
        anna.customer_id,
    )
    store = DynamoDunningStore(aws.dynamodb, aws.stack.table_names["Dunning"], SHARDS)
    assert store.case(anna.customer_id) is None
    assert dun(aws, LEVEL_DAYS[5])["handovers"] == 0
