"""Bad files are refused with an error naming where and why, and nothing is returned."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from localaws import bank
from shared.payments.camt import parser_options
from shared.payments.statement import StatementError
from shared.payments.statements import DEFAULT_MAX_BYTES, read_statement, read_statement_file

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
STATEMENT = bank.BankStatement(
    (
        bank.Booking(Decimal("119.00"), date(2026, 12, 1), end_to_end_id="C0000001-RE1"),
        bank.Booking(Decimal("-20.00"), date(2026, 12, 2), remittance="Gebuehren"),
    )
)
CAMT = bank.camt053(STATEMENT)
MT940 = bank.mt940(STATEMENT).decode()


def _refused(data: bytes, **options: int) -> StatementError:
    with pytest.raises(StatementError) as refused:
        read_statement(data, **options)
    return refused.value


def test_malformed_xml_names_the_line() -> None:
    broken = CAMT.replace(b"</AcctSvcrRef>", b"</AcctSvcRef>", 1)

    error = _refused(broken)

    assert error.field.startswith("line ")
    assert "not well-formed XML" in error.reason


def test_a_truncated_camt_file_is_refused() -> None:
    error = _refused(CAMT[: len(CAMT) * 2 // 3])

    assert "not well-formed XML" in error.reason


def test_a_truncated_mt940_file_is_refused() -> None:
    cut = MT940[: MT940.index(":62F:")]

    error = _refused(cut.encode())

    assert error.field.startswith(":62F:")
    assert "cut off" in error.reason


def test_an_unknown_namespace_is_named() -> None:
    other = CAMT.replace(NS.encode(), b"urn:iso:std:iso:20022:tech:xsd:pain.008.001.02")

    error = _refused(other)

    assert error.field == "Document"
    assert "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" in error.reason


def test_a_message_under_another_messages_namespace_is_refused() -> None:
    other = CAMT.replace(NS.encode(), b"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08")

    error = _refused(other)

    assert error.field == "BkToCstmrStmt"
    assert "camt.054" in error.reason


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr>
<MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrStmt></Document>"""


def test_billion_laughs_is_refused_without_expanding() -> None:
    started = time.perf_counter()

    error = _refused(BILLION_LAUGHS)

    assert time.perf_counter() - started < 2
    assert error.field == "file"
    assert "DOCTYPE" in error.reason


def _external_entity(target: Path) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY secret SYSTEM "file://{target}">]>'
        f'<Document xmlns="{NS}"><BkToCstmrStmt><GrpHdr><MsgId>&secret;</MsgId>'
        "<CreDtTm>2026-12-01T06:00:00</CreDtTm></GrpHdr></BkToCstmrStmt></Document>"
    ).encode()


def test_an_external_entity_is_refused_and_the_file_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")

    error = _refused(_external_entity(secret))

    assert "DOCTYPE" in error.reason
    assert "TOP-SECRET-4711" not in str(error)


def test_the_parser_options_alone_would_not_read_an_external_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    parser = etree.XMLParser(**parser_options())

    document = etree.fromstring(_external_entity(secret), parser)

    assert b"TOP-SECRET-4711" not in etree.tostring(document)
    assert "TOP-SECRET-4711" not in "".join(document.itertext())


def test_any_doctype_is_refused() -> None:
    declared = CAMT.replace(b"?>", b"?>\n<!DOCTYPE Document>", 1)

    error = _refused(declared)

    assert (error.field, "DOCTYPE" in error.reason) == ("file", True)


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as sparse:
        sparse.truncate(200 * 1024 * 1024)

    with pytest.raises(StatementError) as refused:
        read_statement_file(huge)

    assert refused.value.field == "file"
    assert f"{DEFAULT_MAX_BYTES:,} bytes" in refused.value.reason
    assert "209,715,200 bytes" in refused.value.reason


def test_the_limit_holds_for_bytes_too() -> None:
    error = _refused(CAMT, max_bytes=len(CAMT) - 1)

    assert f"limit of {len(CAMT) - 1:,} bytes" in error.reason


def test_the_default_limit_admits_a_100_000_entry_statement() -> None:
    assert 100 * 1000 * 1000 < DEFAULT_MAX_BYTES < 200 * 1000 * 1000


def test_a_camt_entry_without_amount_is_refused() -> None:
    document = etree.fromstring(CAMT)
    entry = document.find(f".//{{{NS}}}Ntry")
    entry.remove(entry.find(f"{{{NS}}}Amt"))

    error = _refused(etree.tostring(document))

    assert (error.field, error.reason) == ("Stmt[1]/Ntry[1]/Amt", "the amount is missing")


def test_a_camt_entry_without_indicator_is_refused() -> None:
    document = etree.fromstring(CAMT)
    entry = document.findall(f".//{{{NS}}}Ntry")[1]
    entry.remove(entry.find(f"{{{NS}}}CdtDbtInd"))

    error = _refused(etree.tostring(document))

    assert error.field == "Stmt[1]/Ntry[2]/CdtDbtInd"
    assert "indicator is missing" in error.reason


@pytest.mark.parametrize(
    ("good", "bad", "reason"),
    [
        (b">119.00<", b">119,00<", "'119,00' is not an amount"),
        (b">119.00<", b">NaN<", "'NaN' is not an amount"),
        (b">119.00<", b">-119.00<", "'-119.00' is not an amount"),
        (b"<CdtDbtInd>CRDT<", b"<CdtDbtInd>CREDIT<", "'CREDIT' is neither CRDT nor DBIT"),
        (b"<Dt>2026-12-01<", b"<Dt>2026-13-01<", "'2026-13-01' is not a date"),
        (b'Ccy="EUR">119', b'Ccy="euro">119', "currency 'euro' is not an ISO 4217 code"),
    ],
)
def test_bad_camt_values_are_named(good: bytes, bad: bytes, reason: str) -> None:
    start = CAMT.index(b"<Ntry>")

    error = _refused(CAMT[:start] + CAMT[start:].replace(good, bad, 1))

    assert error.field.startswith("Stmt[1]/Ntry[1]")
    assert reason in error.reason


def test_details_that_do_not_add_up_to_the_entry_are_refused() -> None:
    batch = bank.Batch(
        (
            bank.Booking(Decimal("10.00"), date(2026, 12, 2), mandate_id="M1"),
            bank.Booking(Decimal("5.00"), date(2026, 12, 2), mandate_id="M2"),
        )
    )
    data = bank.camt053(bank.BankStatement((batch,)))
    altered = data.replace(b'<Amt Ccy="EUR">5.00</Amt>', b'<Amt Ccy="EUR">6.00</Amt>', 1)

    error = _refused(altered)

    assert error.field == "Stmt[1]/Ntry[1]/NtryDtls"
    assert "add up to 16.00, the entry books 15.00" in error.reason


def test_an_mt940_with_a_bad_amount_names_the_field() -> None:
    bad = MT940.replace("C119,00NTRF", "C119.00NTRF", 1)

    error = _refused(bad.encode())

    assert error.field.startswith(":61: (line 5)")
    assert "'119' is not an amount (digits with a decimal comma)" in error.reason


def test_an_mt940_line_without_its_date_names_the_field() -> None:
    bad = MT940.replace(":61:2612011201C119,00", ":61:C119,00", 1)

    error = _refused(bad.encode())

    assert error.field.startswith(":61: (line 5)")
    assert "does not start with a value date" in error.reason


def test_an_mt940_with_an_impossible_date_names_it() -> None:
    bad = MT940.replace(":61:2612011201", ":61:2613011301", 1)

    error = _refused(bad.encode())

    assert "'261301' is not a date" in error.reason


def test_an_mt940_without_account_is_refused() -> None:
    bad = MT940.replace(":25:DE89370400440532013000\r\n", "", 1)

    error = _refused(bad.encode())

    assert error.field.startswith(":25:")


@pytest.mark.parametrize("data", [b"", b"   \n", b"hello world", b"%PDF-1.7"])
def test_what_is_neither_camt_nor_mt940_is_refused(data: bytes) -> None:
    error = _refused(data)

    assert error.field == "file"
