"""Direct debits and the DATEV export on the embedded AWS, after a real invoice run."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from cli.seed import Hoster
from shared.accounts.model import Posting
from shared.invoicing.corrections import CorrectionService
from shared.invoicing.documents import xml_key
from shared.money import format_eur
from shared.payments.debit_export import DebitExportRequest, DebitExportResult
from shared.payments.debits import read_pain008, validate_pain008
from shared.payments.iban import masked_iban
from shared.payments.target import next_business_day
from shared.settings import Settings
from shared.storage.dynamodb import (
    DynamoDocuments,
    DynamoNumberRanges,
    invoice_from_item,
    mandate_key,
)
from shared.storage.ledger import DynamoLedger
from shared.storage.s3 import S3Archive
from shared.wiring import datev_export, debit_export_service
from tests.integration.conftest import Aws
from tools.einvoice.validator import validator

pytestmark = pytest.mark.xdist_group("debits")

CUSTOMERS = 24
COLLECTION = date(2026, 12, 15)  # the run issues on 1 December, due 14 days later
EXPORTED_AT = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)


class Books:
    def __init__(self, aws: Aws, hoster: Hoster) -> None:
        self.aws = aws
        self.hoster = hoster
        self.settings = Settings()
        self.ledger = DynamoLedger(aws.dynamodb, aws.stack.table_names["Documents"])

    def export(self, version: str = "001.08") -> DebitExportResult:
        service = debit_export_service(
            self.settings, self.ledger, dynamodb=self.aws.dynamodb, s3=self.aws.s3
        )
        service = replace(service, clock=lambda: EXPORTED_AT)
        return service.export(DebitExportRequest.parse(COLLECTION.isoformat(), version))

    def control(self, prefix: str) -> list[dict[str, Any]]:
        return [i for i in self.aws.scan("Control") if str(i["pk"]).startswith(prefix)]

    def work_object(self, key: str) -> bytes:
        bucket = self.aws.stack.bucket_names["Work"]
        body: bytes = self.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


@pytest.fixture
def books(aws: Aws) -> Books:
    hoster = aws.seed(CUSTOMERS)
    aws.run("run-2026-11-debits")
    return Books(aws, hoster)


def _cancel(books: Books, original: dict[str, Any]) -> Decimal:
    """Cancel an invoice of the run on 5 December; the gross it takes back."""
    tables = books.aws.stack.table_names
    corrections = CorrectionService(
        documents=DynamoDocuments(books.aws.dynamodb, tables["Documents"]),
        ranges=DynamoNumberRanges(books.aws.dynamodb, tables["Control"]),
        archive=S3Archive(books.aws.s3, books.aws.stack.bucket_names["Archive"]),
        credit_prefix="GS",
        retention_years=8,
    )
    done = corrections.cancel(original["number"], reason="storniert", today=date(2026, 12, 5))
    return -done.cancellation.draft.gross


def _revoke(books: Books, customer_id: str) -> None:
    mandate = next(m for m in books.hoster.mandates if m.customer_id == customer_id)
    shard = next(c.shard for c in books.hoster.customers if c.customer_id == customer_id)
    key = mandate_key(shard, customer_id, mandate.reference)
    books.aws.dynamodb.update_item(
        TableName=books.aws.stack.table_names["Contracts"],
        Key={name: {"S": value} for name, value in key.items()},
        UpdateExpression="SET revoked_reason = :reason, revoked_on = :on",
        ExpressionAttributeValues={":reason": {"S": "AC04"}, ":on": {"S": "2026-12-05"}},
    )


def test_debit_invoices_carry_the_pre_notification_in_xml_and_pdf(books: Books) -> None:
    mandates = {m.customer_id: m for m in books.hoster.mandates}
    checked = 0
    for item in books.aws.invoices():
        invoice = invoice_from_item(item)
        mandate = mandates.get(invoice.customer_id)
        xml, text = _documents_of(books, item)
        if mandate is None:
            assert invoice.draft.buyer.mandate is None
            assert "Lastschrift" not in text
            continue
        expected = [
            format_eur(invoice.draft.gross),
            f"{invoice.due_date:%d.%m.%Y}",
            mandate.reference,
            "DE98ZZZ09999999999",
            masked_iban(mandate.iban),
        ]
        plain_xml = xml.decode()
        for part in expected:
            assert part in plain_xml, (invoice.number, part)
            assert part.replace("\u00a0", " ") in text, (invoice.number, part)
        xrechnung = invoice.draft.buyer.einvoice != "factur-x"
        findings = validator(xrechnung=xrechnung).validate(xml)
        assert not findings.fatal, (invoice.number, [str(f) for f in findings.findings])
        checked += 1
    assert checked == len({i["customer_id"] for i in books.aws.invoices()} & set(mandates))
    assert checked > CUSTOMERS // 2


def _documents_of(books: Books, item: dict[str, Any]) -> tuple[bytes, str]:
    bucket = books.aws.stack.bucket_names["Archive"]
    pdf = books.aws.s3.get_object(Bucket=bucket, Key=item["pdf_key"])["Body"].read()
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    text = text.replace("\u00a0", " ")
    if reader.attachments:
        (contents,) = reader.attachments.values()
        return contents[0], text
    xml = books.aws.s3.get_object(Bucket=bucket, Key=xml_key(item["pdf_key"]))["Body"].read()
    return xml, text


def _due_debits(books: Books, revoked: set[str]) -> dict[str, Decimal]:
    """By hand: each mandate customer's invoice of the run with something to pay."""
    mandates = {m.customer_id for m in books.hoster.mandates} - revoked
    return {
        str(i["customer_id"]): Decimal(str(i["gross"]))
        for i in books.aws.invoices()
        if i["customer_id"] in mandates and Decimal(str(i["gross"])) > 0
    }


def test_an_export_collects_every_due_debit_once_in_a_valid_file(books: Books) -> None:
    revoked = books.hoster.mandates[0].customer_id
    _revoke(books, revoked)
    due = _due_debits(books, {revoked})
    sequences = {m.customer_id: m.sequence for m in books.hoster.mandates}

    result = books.export()

    written = result.new_file
    assert written is not None
    assert written.key == f"debits/2026-12-15/{written.file_id}.xml"
    xml = books.work_object(written.key)
    validate_pain008(xml, "001.08")
    collected = read_pain008(xml).collections
    assert {c.customer_id: c.amount for c in collected} == due
    assert revoked not in {c.customer_id for c in collected}
    assert {c.customer_id: c.sequence for c in collected} == {c: sequences[c] for c in due}
    assert (written.items, written.total) == (len(due), sum(due.values()))
    assert written.frst_items + written.rcur_items == written.items
    batches = books.control("DEBITBATCH#")
    assert sorted(str(b["pk"]).removeprefix("DEBITBATCH#") for b in batches) == sorted(
        written.payment_info_ids
    )
    assert len(books.control("DEBITCLAIM#")) == len(due)
    contracts = books.aws.scan("Contracts")
    noted = {
        str(i["sk"]).split("#")[0] for i in contracts if i.get("first_collected_on") == "2026-12-15"
    }
    assert noted == {c for c in due if sequences[c] == "FRST"}


def test_the_same_date_again_gives_the_same_file_and_claims_nothing_new(books: Books) -> None:
    first = books.export()
    assert first.new_file is not None
    body = books.work_object(first.new_file.key)
    claims = books.control("DEBITCLAIM#")

    again = books.export()

    assert again.new_file is None
    assert [f.key for f in again.files] == [first.new_file.key]
    assert again.files == first.files
    assert again.already_claimed == first.new_file.items
    assert books.work_object(first.new_file.key) == body
    assert books.control("DEBITCLAIM#") == claims


def test_the_datev_export_of_the_month_reconciles(books: Books) -> None:
    collected = books.export().new_file
    assert collected is not None
    customer = books.hoster.mandates[1].customer_id
    invoice = next(i for i in books.aws.invoices() if i["customer_id"] == customer)
    books.ledger.post(
        [
            Posting(
                posting_id=f"statement:{collected.payment_info_ids[-1]}:{customer}",
                customer_id=customer,
                booked_on=date(2026, 12, 16),
                kind="payment",
                amount=-Decimal(str(invoice["gross"])),
                item=str(invoice["number"]),
                document_number=str(invoice["number"]),
                source=f"statement:{collected.file_id}",
            )
        ]
    )
    cancelled = _cancel(
        books, next(i for i in books.aws.invoices() if i["number"] != invoice["number"])
    )
    export = datev_export(books.settings, books.ledger, dynamodb=books.aws.dynamodb)

    result = export.export(date(2026, 12, 1), date(2026, 12, 31))

    assert result.reconciliation.ok, result.reconciliation.checks
    invoiced = sum(Decimal(str(i["gross"])) for i in books.aws.invoices())
    gross = invoiced - cancelled
    assert result.reconciliation.checks[0].expected == gross
    assert result.documents == len(books.aws.invoices()) + 1
    assert result.missing == ()
    totals = {t.account: t for t in result.totals}
    assert totals[1200].debit == Decimal(str(invoice["gross"]))
    assert totals[10000].balance == gross - Decimal(str(invoice["gross"]))
    assert sum(b.amount for b in result.bookings if b.document.startswith("GS-")) == cancelled
    assert result.csv.startswith(b'"EXTF";700;21;"Buchungsstapel";13;')


class _StopsAfterWriting:
    """The S3 side of an export that dies right after its file is written."""

    def __init__(self, files: Any) -> None:
        self._files = files

    def store_once(self, key: str, body: bytes) -> bool:
        self._files.store_once(key, body)
        raise ConnectionError("stopped after the file was written")

    def read_if_present(self, key: str) -> bytes | None:
        body: bytes | None = self._files.read_if_present(key)
        return body


def test_an_export_stopped_after_its_file_is_completed_by_the_next_one(books: Books) -> None:
    service = debit_export_service(
        books.settings, books.ledger, dynamodb=books.aws.dynamodb, s3=books.aws.s3
    )
    stopping = replace(service, clock=lambda: EXPORTED_AT, files=_StopsAfterWriting(service.files))
    with pytest.raises(ConnectionError):
        stopping.export(DebitExportRequest(COLLECTION))
    (lease,) = books.control("DEBITEXPORT")
    assert "holder" not in lease
    assert lease["pending_key"].startswith("debits/2026-12-15/")
    assert books.control("DEBITCLAIM#") == []

    result = books.export()

    assert result.new_file is None
    assert result.completed_pending is not None
    (written,) = result.files
    assert written.key == lease["pending_key"]
    assert len(books.control("DEBITCLAIM#")) == written.items
    assert books.control("DEBITEXPORT") == []


def test_a_second_export_while_the_lease_is_held_is_refused(books: Books) -> None:
    from shared.payments.debit_ports import DebitBusyError
    from shared.storage.debits import DynamoDebitRegister

    register = DynamoDebitRegister(books.aws.dynamodb, books.aws.stack.table_names["Control"])
    register.acquire("someone", now=EXPORTED_AT, until=datetime(2026, 12, 11, 8, 15, tzinfo=UTC))

    with pytest.raises(DebitBusyError, match="until"):
        books.export()
    assert books.control("DEBITCLAIM#") == []
    register.release("someone")
    assert books.export().new_file is not None


def test_the_daily_function_exports_for_the_next_business_day(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functions.debit_export.handler as handler

    monkeypatch.setattr(handler, "ledger", lambda settings: books.ledger)
    # The function takes the clock: on Monday 14 December (or later) it collects for the next day.
    day = max(date(2026, 12, 14), date.today())
    event = {"scheduled_time": f"{day.isoformat()}T05:00:00Z"}
    collection = next_business_day(day).isoformat()

    answer, failed = books.aws.invoke("billing-debit-export", event)
    again, _ = books.aws.invoke("billing-debit-export", event)

    assert failed is None, answer
    assert answer["collection_date"] == collection
    assert answer["items"] == len(_due_debits(books, set()))
    assert answer["new_file"].startswith(f"debits/{collection}/")
    assert (again["items"], again["new_file"], again["files"]) == (0, None, [answer["new_file"]])
