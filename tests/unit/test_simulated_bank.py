"""The simulated bank writes files the official schemas accept and our reader reads back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from localaws import bank
from shared.payments.statement import BankTransaction, StatementFile
from shared.payments.statements import read_statement

XSD = Path(__file__).resolve().parent.parent / "fixtures" / "bank" / "xsd"
CREDITOR_ID = "DE98ZZZ09999999999"
DAY = date(2026, 12, 1)


def _booking(amount: str, **fields: Any) -> bank.Booking:
    return bank.Booking(Decimal(amount), fields.pop("booking_date", DAY), **fields)


TRANSFER = _booking(
    "119.00",
    end_to_end_id="C0000001-RE202600000001",
    remittance="Rechnung RE-2026-00000001 Kunde C0000001",
    counterparty_name="Bäckerei Müller GmbH",
    counterparty_iban="DE02120300000000202051",
    counterparty_bic="BYLADEM1001",
)
COLLECTED = tuple(
    _booking(
        amount,
        booking_date=date(2026, 12, 2),
        end_to_end_id=f"C000000{n}-RE20260000000{n}",
        mandate_id=f"MNDT-C000000{n}",
        creditor_id=CREDITOR_ID,
        counterparty_name=f"Kunde {n}",
        counterparty_iban="DE02120300000000202051",
    )
    for n, amount in ((2, "23.80"), (3, "11.90"), (4, "5.95"))
)
RETURNED = _booking(
    "-23.80",
    booking_date=date(2026, 12, 5),
    value_date=date(2026, 12, 4),
    end_to_end_id="C0000002-RE202600000002",
    mandate_id="MNDT-C0000002",
    reversal=True,
    return_reason="AC04",
    counterparty_name="Kunde 2",
    counterparty_iban="DE02120300000000202051",
)
PAID_OUT = _booking(
    "-50.00",
    booking_date=date(2026, 12, 5),
    creditor_reference="RF18539007547034",
    counterparty_name="Registry GmbH",
    counterparty_iban="DE75512108001245126199",
)
ITEMS: tuple[bank.Item, ...] = (
    TRANSFER,
    bank.Batch(COLLECTED, payment_info_id="PMT-2026-12-RCUR"),
    bank.Batch(COLLECTED, payment_info_id="PMT-2026-12-SUM", as_sum=True),
    RETURNED,
    PAID_OUT,
)
STATEMENT = bank.BankStatement(ITEMS, opening_balance=Decimal("1000.00"))
CAMT = [
    (bank.camt053, "camt.053", "001.08"),
    (bank.camt053, "camt.053", "001.02"),
    (bank.camt054, "camt.054", "001.08"),
    (bank.camt054, "camt.054", "001.02"),
]


@cache
def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / f"{name}.xsd")))


@pytest.mark.parametrize(("write", "message", "version"), CAMT)
def test_camt_files_validate_against_the_official_schema(write, message, version) -> None:
    schema = _schema(f"{message}.{version}")

    document = etree.fromstring(write(STATEMENT, version=version))

    assert schema.validate(document), schema.error_log


@pytest.mark.parametrize(("write", "message", "version"), CAMT)
def test_camt_files_read_back_booking_for_booking(write, message, version) -> None:
    read = read_statement(write(STATEMENT, version=version))

    (statement,) = read.statements
    assert (read.format, statement.format, statement.version) == (message, message, version)
    assert statement.account_iban == STATEMENT.account.iban
    assert statement.statement_id == STATEMENT.statement_id
    if message == "camt.053":
        assert statement.opening_balance == Decimal("1000.00")
        assert statement.closing_balance == Decimal("1000.00") + sum(item.amount for item in ITEMS)
    transfer, *collected, summed, returned, paid_out = statement.transactions
    _assert_same(transfer, TRANSFER)
    for detail, booking in zip(collected, COLLECTED, strict=True):
        _assert_same(detail, booking)
        assert detail.payment_info_id == "PMT-2026-12-RCUR"
        assert detail.creditor_id == CREDITOR_ID
    assert (summed.amount, summed.batch_count, summed.payment_info_id) == (
        Decimal("41.65"),
        3,
        "PMT-2026-12-SUM",
    )
    assert summed.end_to_end_id is None
    _assert_same(returned, RETURNED)
    _assert_same(paid_out, PAID_OUT)


def _assert_same(read: BankTransaction, booking: bank.Booking) -> None:
    assert read.amount == booking.amount
    assert read.currency == "EUR"
    assert read.booking_date == booking.booking_date
    assert read.value_date == (booking.value_date or booking.booking_date)
    assert read.reversal is booking.reversal
    assert read.return_reason == booking.return_reason
    assert read.end_to_end_id == booking.end_to_end_id
    assert read.mandate_id == booking.mandate_id
    assert read.remittance == booking.remittance
    assert read.creditor_reference == booking.creditor_reference
    assert read.counterparty_name == booking.counterparty_name
    assert read.counterparty_iban == booking.counterparty_iban
    assert read.counterparty_bic == booking.counterparty_bic


def test_ids_are_the_same_on_every_read_and_never_shared() -> None:
    data = bank.camt053(STATEMENT)

    first, again = read_statement(data), read_statement(data)

    ids = [t.transaction_id for t in _transactions(first)]
    assert ids == [t.transaction_id for t in _transactions(again)]
    assert len(set(ids)) == len(ids) == 1 + 3 + 1 + 1 + 1


def test_two_statements_in_one_file_are_two_statements() -> None:
    other = bank.BankStatement(
        (TRANSFER,),
        account=bank.Account(iban="DE75512108001245126199"),
        statement_id="STMT-2026-0002",
    )

    read = read_statement(bank.camt053(STATEMENT, other))

    assert [s.account_iban for s in read.statements] == [
        STATEMENT.account.iban,
        "DE75512108001245126199",
    ]
    assert [len(s.transactions) for s in read.statements] == [7, 1]


def test_a_batch_must_share_direction_and_day() -> None:
    with pytest.raises(ValueError, match="share direction"):
        bank.Batch((TRANSFER, PAID_OUT))


def test_amounts_are_whole_cents() -> None:
    with pytest.raises(ValueError, match="cents"):
        _booking("1.005")


def _transactions(read: StatementFile) -> list[BankTransaction]:
    return [t for s in read.statements for t in s.transactions]
