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
    assert read.entry_status == "BOOK"


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


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_mt940_reads_back_booking_for_booking(encoding: str) -> None:
    read = read_statement(bank.mt940(STATEMENT, encoding=encoding))

    (statement,) = read.statements
    assert (read.format, statement.account_iban) == ("mt940", STATEMENT.account.iban)
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1000.00"),
        STATEMENT.closing_balance,
    )
    transfer, *collected, summed, returned, paid_out = statement.transactions
    pairs = zip((TRANSFER, *COLLECTED, RETURNED), (transfer, *collected, returned), strict=True)
    for booking, detail in pairs:
        assert (detail.amount, detail.booking_date, detail.end_to_end_id) == (
            booking.amount,
            booking.booking_date,
            booking.end_to_end_id,
        )
        assert (detail.mandate_id, detail.counterparty_name, detail.counterparty_iban) == (
            booking.mandate_id,
            booking.counterparty_name,
            booking.counterparty_iban,
        )
        assert (detail.reversal, detail.return_reason) == (booking.reversal, booking.return_reason)
    assert transfer.remittance == TRANSFER.remittance
    assert transfer.counterparty_name == "Bäckerei Müller GmbH"
    assert {d.payment_info_id for d in collected} == {"PMT-2026-12-RCUR"}
    assert {d.creditor_id for d in collected} == {CREDITOR_ID}
    assert (summed.amount, summed.payment_info_id, summed.mandate_id) == (
        Decimal("41.65"),
        "PMT-2026-12-SUM",
        None,
    )
    assert returned.value_date == RETURNED.value_date
    assert (returned.bank_code, paid_out.amount) == ("109", PAID_OUT.amount)
    assert "RF18539007547034" in paid_out.remittance


def test_mt940_with_lf_line_ends_reads_the_same() -> None:
    crlf = bank.mt940(STATEMENT)

    same = read_statement(crlf.replace(b"\r\n", b"\n")).statements[0].transactions

    assert [(t.transaction_id, t.amount) for t in same] == [
        (t.transaction_id, t.amount) for t in read_statement(crlf).statements[0].transactions
    ]


def test_camt_elements_in_any_order_read_the_same() -> None:
    data = bank.camt053(STATEMENT)
    document = etree.fromstring(data)
    for element in document.iter():
        groups: dict[str, list[etree._Element]] = {}
        for child in element:
            groups.setdefault(child.tag, []).append(child)
        for tag in reversed(list(groups)):  # other elements first, repeated ones in order
            for child in groups[tag]:
                element.append(child)

    shuffled = read_statement(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))

    assert shuffled.statements == read_statement(data).statements


def test_mt940_inside_swift_blocks_and_after_a_940_line_reads_the_same() -> None:
    plain = bank.mt940(STATEMENT)
    body = plain.removesuffix(b"-\r\n")
    wrapped = b"{1:F01COBADEFFXXX0000000000}{2:I940COBADEFFXXXN}{4:\r\n" + body + b"-}"
    headed = b":940:\r\n" + plain

    expected = read_statement(plain).statements[0].transactions
    for variant in (wrapped, headed):
        assert read_statement(variant).statements[0].transactions == expected


def test_an_only_detail_with_another_amount_books_the_entrys_amount() -> None:
    returned = bank.Booking(
        Decimal("-53.00"), date(2026, 12, 3), mandate_id="M1", reversal=True, return_reason="MS03"
    )
    data = bank.camt053(bank.BankStatement((returned,)))
    start = data.index(b"<TxDtls>")
    detail_says_50 = data[:start] + data[start:].replace(b">53.00<", b">50.00<", 1)

    (read,) = read_statement(detail_says_50).statements[0].transactions

    assert (read.amount, read.instructed_amount, read.instructed_currency) == (
        Decimal("-53.00"),
        Decimal("50.00"),
        "EUR",
    )
