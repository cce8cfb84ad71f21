"""Customers with a usable mandate are invoiced as direct debits, with a pre-notification."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from infra import spec
from shared.invoicing.cii import cii_xml
from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import render_document
from shared.invoicing.model import Invoice
from shared.invoicing.run import ShardRequest
from shared.invoicing.service import InvoiceRunService, RunPolicy
from shared.money import format_eur
from shared.payments.mandates import StoredMandate
from shared.payments.target import is_business_day
from shared.periods import Period
from shared.settings import Settings
from tests.unit.fakes import SELLER, FakePorts, customer, mandate, position
from tools.einvoice.validator import validator

PERIOD = Period(2026, 11)
PERSON = customer(1)
POSITIONS = [position(PERSON.customer_id, 1, unit_net="9.99")]


def test_a_customer_with_a_mandate_is_invoiced_as_a_direct_debit_under_it() -> None:
    stored = StoredMandate(mandate(PERSON.customer_id))

    draft = compose_invoice(PERSON, POSITIONS, PERIOD, mandates=[stored])

    assert draft is not None
    assert draft.buyer.mandate is not None
    assert draft.buyer.mandate.reference == "M0000001-01"
    assert draft.buyer.mandate.iban == "DE89370400440532013000"


def test_revoked_mandates_are_not_used_and_the_newest_usable_one_is() -> None:
    old = StoredMandate(mandate(PERSON.customer_id, number=1, signed_on=date(2024, 3, 1)))
    newer = StoredMandate(mandate(PERSON.customer_id, number=2, signed_on=date(2025, 6, 1)))
    revoked = StoredMandate(
        mandate(PERSON.customer_id, number=3, signed_on=date(2026, 1, 1)),
        revoked_reason="AC04",
        revoked_on=date(2026, 2, 1),
    )

    draft = compose_invoice(PERSON, POSITIONS, PERIOD, mandates=[old, revoked, newer])
    only_revoked = compose_invoice(PERSON, POSITIONS, PERIOD, mandates=[revoked])

    assert draft is not None
    assert draft.buyer.mandate is not None
    assert draft.buyer.mandate.reference == "M0000001-02"
    assert only_revoked is not None
    assert only_revoked.buyer.mandate is None


def _billed(mandates: list[StoredMandate], issue_date: date) -> Invoice:
    ports = FakePorts()
    ports.contracts.save_customers([PERSON])
    ports.contracts.save_positions({PERSON.customer_id: 0}, POSITIONS)
    for stored in mandates:
        ports.contracts.keep_mandate(0, stored)
    policy = RunPolicy(
        seller=SELLER, invoice_prefix="RE", payment_term_days=14, retention_years=8, shard_count=1
    )
    service = InvoiceRunService(
        contracts=ports.contracts,
        ranges=ports.ranges,
        documents=ports.documents,
        archive=ports.archive,
        runs=ports.runs,
        work=ports.work,
        policy=policy,
    )
    request = ShardRequest(
        run_id="run-2026-11", period="2026-11", issue_date=issue_date, execution="x", shard=0
    )
    service.bill_shard(request)
    (issued,) = ports.documents.invoices().values()
    return issued.invoice


def test_the_run_reads_the_mandate_from_the_shard_and_collects_on_a_target_business_day() -> None:
    # 12 Dec 2026 + 14 days is Boxing Day, a Saturday: the next TARGET day is Monday 28 Dec.
    debited = _billed([StoredMandate(mandate(PERSON.customer_id))], date(2026, 12, 12))
    transfer = _billed([], date(2026, 12, 12))

    assert debited.draft.buyer.mandate is not None
    assert debited.due_date == date(2026, 12, 28)
    assert is_business_day(debited.due_date)
    assert transfer.draft.buyer.mandate is None
    assert transfer.due_date == date(2026, 12, 26)


def _pre_notification_parts(invoice: Invoice) -> list[str]:
    return [
        format_eur(invoice.draft.gross),
        f"{invoice.due_date:%d.%m.%Y}",
        "M0000001-01",
        "DE98ZZZ09999999999",
        "DE89 XXXX XXXX XXXX XX30 00",
    ]


def test_the_e_invoice_carries_the_complete_pre_notification_and_stays_valid() -> None:
    invoice = _billed([StoredMandate(mandate(PERSON.customer_id))], date(2026, 12, 1))

    xml = cii_xml(invoice, syntax="factur-x")
    findings = validator().validate(xml)

    assert not findings.fatal, [str(f) for f in findings.findings]
    text = xml.decode()
    for part in _pre_notification_parts(invoice):
        assert part in text, part
    assert "DE89370400440532013000" in text  # BT-91 in full, the note masks it
    assert "<ram:TypeCode>59</ram:TypeCode>" in text


def test_the_pdf_carries_the_same_pre_notification() -> None:
    invoice = _billed([StoredMandate(mandate(PERSON.customer_id))], date(2026, 12, 1))

    pdf = render_document(invoice).pdf
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.replace("\u00a0", " ").split())

    for part in _pre_notification_parts(invoice):
        assert part.replace("\u00a0", " ") in flat, part
    assert "Lastschrift" in flat
    assert "überweisen" not in flat


def test_a_transfer_invoice_names_no_mandate() -> None:
    invoice = _billed([], date(2026, 12, 1))

    xml = cii_xml(invoice, syntax="factur-x").decode()

    assert "DirectDebitMandateID" not in xml
    assert "<ram:TypeCode>58</ram:TypeCode>" in xml


def _settings(**overrides: str) -> Settings:
    values = {key.removeprefix("BILLING_").lower(): v for key, v in spec.default_settings().items()}
    names = {"contracts_table", "documents_table", "control_table", "orders_table", "dunning_table"}
    values |= {name: "table" for name in names} | {"idempotency_table": "table"}
    values |= {"archive_bucket": "bucket", "work_bucket": "bucket"}
    return Settings.model_validate(values | overrides)


def test_one_creditor_id_is_validated_by_its_check_digits_and_kept_compact() -> None:
    assert _settings().seller_creditor_id == "DE98ZZZ09999999999"
    assert _settings(seller_creditor_id="de 98 zzz 09999999999").seller_creditor_id == (
        "DE98ZZZ09999999999"
    )
    assert _settings(seller_creditor_id="").seller_creditor_id is None
    with pytest.raises(ValidationError, match="seller_creditor_id") as raised:
        _settings(seller_creditor_id="DE97ZZZ09999999999")
    assert "not a SEPA creditor identifier" in str(raised.value)


def test_the_gross_is_the_amount_collected() -> None:
    invoice = _billed([StoredMandate(mandate(PERSON.customer_id))], date(2026, 12, 1))

    assert invoice.draft.gross == Decimal("11.89")
