"""The customer account on the embedded AWS: invoices from the run's documents, postings beside."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from shared.accounts.model import Posting
from shared.invoicing.corrections import CorrectionService
from shared.money import total
from shared.storage.dynamodb import DynamoDocuments, DynamoNumberRanges, to_item
from shared.storage.ledger import BOOKING_BUCKETS, DynamoLedger, booking_day
from shared.storage.s3 import S3Archive
from tests.integration.conftest import Aws

DUE = date(2026, 12, 15)


def _ledger(aws: Aws) -> DynamoLedger:
    return DynamoLedger(aws.dynamodb, aws.stack.table_names["Documents"])


def _payment(customer_id: str, posting_id: str, amount: str, item: str | None, day: int) -> Posting:
    return Posting(
        posting_id=posting_id,
        customer_id=customer_id,
        booked_on=date(2026, 12, day),
        kind="payment",
        amount=Decimal(amount),
        item=item,
        source=f"statement:{posting_id}",
    )


def test_an_issued_invoice_is_an_open_item_of_its_customer_without_any_posting_written(
    aws: Aws,
) -> None:
    aws.seed(3)
    aws.run("run-2026-11-ledger")
    invoices = {i["customer_id"]: i for i in aws.invoices()}
    before = len(aws.scan("Documents"))

    accounts = _ledger(aws).accounts(list(invoices))

    assert len(aws.scan("Documents")) == before
    for customer_id, invoice in invoices.items():
        (item,) = accounts[customer_id].open_items()
        assert (item.item, item.kind, item.status) == (invoice["number"], "invoice", "open")
        assert (item.open, item.due_on) == (Decimal(invoice["gross"]), DUE)
        assert accounts[customer_id].balance == Decimal(invoice["gross"])


def test_payments_post_once_and_settle_the_item_to_the_cent(aws: Aws) -> None:
    aws.seed(2)
    aws.run("run-2026-11-pay")
    invoice = aws.invoices()[0]
    customer, number, gross = invoice["customer_id"], invoice["number"], Decimal(invoice["gross"])
    ledger = _ledger(aws)
    part = (gross / 2).quantize(Decimal("0.01"))
    payments = [
        _payment(customer, "pay:TX-A:" + number, str(-part), number, 3),
        _payment(customer, "pay:TX-B:" + number, str(part - gross), number, 4),
        _payment(customer, "pay:TX-B:credit", "-1.00", None, 4),
    ]

    first = ledger.post(payments)
    again = ledger.post(payments)
    account = ledger.account(customer)

    assert (first, again) == (3, 0)
    item = account.item(number)
    assert item is not None
    assert (item.status, item.open) == ("paid", Decimal("0.00"))
    assert account.balance == Decimal("-1.00") == total(p.amount for p in account.postings)
    assert account.unapplied_credit == Decimal("1.00")


def test_a_cancellation_credits_the_invoice_it_refers_to(aws: Aws) -> None:
    aws.seed(2)
    aws.run("run-2026-11-cancelled")
    corrections = CorrectionService(
        documents=DynamoDocuments(aws.dynamodb, aws.stack.table_names["Documents"]),
        ranges=DynamoNumberRanges(aws.dynamodb, aws.stack.table_names["Control"]),
        archive=S3Archive(aws.s3, aws.stack.bucket_names["Archive"]),
        credit_prefix="GS",
        retention_years=8,
    )
    invoice = aws.invoices()[0]

    done = corrections.cancel(invoice["number"], reason="Doppelt", today=date(2026, 12, 5))
    account = _ledger(aws).account(invoice["customer_id"])

    item = account.item(invoice["number"])
    assert item is not None
    assert (item.open, item.status) == (Decimal("0.00"), "paid")
    kinds = {(p.kind, p.document_number) for p in account.postings}
    assert ("cancellation", done.cancellation.number) in kinds
    assert account.balance == Decimal("0.00")


def test_a_document_item_from_before_due_dates_takes_it_from_the_document(aws: Aws) -> None:
    aws.seed(1)
    aws.run("run-2026-11-old")
    (invoice,) = aws.invoices()
    aws.dynamodb.update_item(
        TableName=aws.stack.table_names["Documents"],
        Key=to_item({"pk": invoice["pk"], "sk": invoice["sk"]}),
        UpdateExpression="REMOVE due_date",
    )

    (item,) = _ledger(aws).account(invoice["customer_id"]).open_items()

    assert "due_date" not in next(
        i for i in aws.scan("Documents") if i["sk"] == invoice["sk"] and i["pk"] == invoice["pk"]
    )
    assert item.due_on == DUE


def test_postings_between_reads_every_bucket_of_every_day_in_booking_order(aws: Aws) -> None:
    ledger = _ledger(aws)
    postings = [
        _payment(f"C{index % 7:07d}", f"pay:TX-{index:04d}:credit", "-1.00", None, 1 + index % 4)
        for index in range(120)
    ]
    ledger.post(postings)

    found = list(ledger.postings_between(date(2026, 12, 2), date(2026, 12, 3)))

    expected = sorted(
        (p for p in postings if p.booked_on in (date(2026, 12, 2), date(2026, 12, 3))),
        key=lambda p: (p.booked_on, p.posting_id),
    )
    assert found == expected
    days = {booking_day(p.booked_on, p.posting_id) for p in postings}
    assert len(days) > BOOKING_BUCKETS  # the postings of one day spread over the buckets
    assert list(ledger.postings_between(date(2026, 12, 5), date(2026, 12, 5) + timedelta(1))) == []
