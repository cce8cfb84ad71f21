"""The tricky MT940 field parsers, by table and by property."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localaws import bank
from shared.payments import mt940_fields as fields
from shared.payments.mt940 import decode
from shared.payments.statement import StatementError
from shared.payments.statements import read_statement


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("300,", "300.00"),
        ("1,5", "1.50"),
        ("0,05", "0.05"),
        ("000000000127,50", "127.50"),  # Rabobank's zero padding
        ("000000000000000001,00", "1.00"),
        ("915311,55", "915311.55"),
    ],
)
def test_amounts_with_a_decimal_comma(text: str, value: str) -> None:
    assert fields.amount(text, ":61:") == Decimal(value)
    assert str(fields.amount(text, ":61:")) == value


@pytest.mark.parametrize("text", ["12.34", "", ",50", "1,2,3", "-5,00", "1 000,00", "12,3456"])
def test_what_is_not_an_amount(text: str) -> None:
    with pytest.raises(StatementError, match="is not an amount"):
        fields.amount(text, ":61:")


@given(st.decimals(min_value=0, max_value=10**12, places=2))
def test_any_amount_in_cents_reads_back(value: Decimal) -> None:
    written = f"{value:.2f}".replace(".", ",")

    assert fields.amount(written, ":61:") == value


@pytest.mark.parametrize(
    ("text", "day"),
    [("070904", date(2007, 9, 4)), ("991231", date(1999, 12, 31)), ("260229", None)],
)
def test_swift_dates(text: str, day: date | None) -> None:
    if day is None:
        with pytest.raises(StatementError, match="is not a date"):
            fields.yymmdd(text, ":61:")
    else:
        assert fields.yymmdd(text, ":61:") == day


@pytest.mark.parametrize(
    ("line", "amount", "value", "booked", "reversal", "own", "bank_ref"),
    [
        (
            "0709040904CR300,NTRFTFNr 40005 MSGID//0724710345313905",  # funds code R
            "300.00",
            date(2007, 9, 4),
            date(2007, 9, 4),
            False,
            "TFNr 40005 MSGID",
            "0724710345313905",
        ),
        ("0709040904RCR204,88NRTINONREF", "-204.88", date(2007, 9, 4), None, True, None, None),
        ("0709040904RD5,00NRTINONREF", "5.00", date(2007, 9, 4), None, True, None, None),
        ("170914D233,15NMSC", "-233.15", date(2017, 9, 14), None, False, None, None),
        (
            "1002170204C80,N05100001238972230329",
            "80.00",
            date(2010, 2, 17),
            date(2010, 2, 4),
            False,
            "00001238972230329",
            None,
        ),
        (
            "2601021231D5,00NTRFNONREF",
            "-5.00",
            date(2026, 1, 2),
            date(2025, 12, 31),
            False,
            None,
            None,
        ),
        (
            "2512310102C5,00NTRFNONREF",
            "5.00",
            date(2025, 12, 31),
            date(2026, 1, 2),
            False,
            None,
            None,
        ),
        (
            "130403D000000000127,50N102EREF",
            "-127.50",
            date(2013, 4, 3),
            None,
            False,
            "EREF",
            None,
        ),
    ],
)
def test_statement_lines(line, amount, value, booked, reversal, own, bank_ref) -> None:
    parsed = fields.statement_line([line], ":61:")

    assert parsed.amount == Decimal(amount)
    assert parsed.value_date == value
    assert parsed.booking_date == (booked or value)
    assert (parsed.reversal, parsed.own_reference, parsed.bank_reference) == (
        reversal,
        own,
        bank_ref,
    )


def test_a_bank_reference_wrapped_onto_the_next_line_is_joined() -> None:
    lines = ["1402200220C1,56NTRFEREF//00000000001", "005", "/TRCD/00100/"]

    parsed = fields.statement_line(lines, ":61:")

    assert (parsed.bank_reference, parsed.details) == ("00000000001005", "/TRCD/00100/")


def test_a_second_line_after_a_full_line_is_the_details() -> None:
    lines = ["130403D000000000127,50N102EREF", "NL96RBOS0523149468"]

    parsed = fields.statement_line(lines, ":61:")

    assert fields.counter_account(parsed.details) == ("NL96RBOS0523149468", None)


def test_german_subfields_tags_and_the_27_character_rule() -> None:
    text = (
        "166?00GUTSCHRIFT?100399?20EREF+EndToEndIdTFNR20001000?2101?22SVWZ+TO 13 TFNr 2000"
        "1 Einga?23ngskanal Mint?30PBNKDEFF100?31DE42100100100043921105?32Richter Renate"
    )

    info = fields.information([text], ":86:")

    assert (info.gvc, info.posting_text) == ("166", "GUTSCHRIFT")
    assert info.end_to_end_id == "EndToEndIdTFNR2000100001"  # ?20 full: runs on, no space
    assert info.remittance == "TO 13 TFNr 20001 Eingangskanal Mint"
    assert (info.counterparty_bic, info.counterparty_iban) == (
        "PBNKDEFF100",
        "DE42100100100043921105",
    )
    assert info.counterparty_name == "Richter Renate"


def test_a_short_tagged_subfield_ends_its_tag() -> None:
    text = "159?00RETOURE?100399?20EREF+TFNR 40005 00005?21MTLG:Grund nicht spezifizie?22rt?34914"

    info = fields.information([text], ":86:")

    assert info.end_to_end_id == "TFNR 40005 00005"
    assert info.remittance == "MTLG:Grund nicht spezifiziert"
    assert (info.is_return, info.bank_return_code, info.return_reason) == (True, "914", None)


def test_pre_sepa_purpose_lines_are_joined_with_a_space() -> None:
    info = fields.information(["051?00Gutschrift?20SPENDE, BITTE AM JAHRESENDE?21EINE"], "x")

    assert info.remittance == "SPENDE, BITTE AM JAHRESENDE EINE"


def test_an_iso_reason_in_a_return_text_is_taken() -> None:
    info = fields.information(["109?00RUECKLASTSCHRIFT AC04?20EREF+C0000001-X"], ":86:")

    assert (info.is_return, info.return_reason) == (True, "AC04")


def test_original_amount_and_compensation_of_a_return() -> None:
    info = fields.information(["109?00RUECKBELASTUNG?20OAMT+50,00?21COAM+3,00"], ":86:")

    assert (info.instructed_amount, info.charges) == (Decimal("50.00"), Decimal("3.00"))


def test_dutch_tags() -> None:
    text = (
        "/RTRN/MS03//EREF/20120501P0123478//MARF/MND-120123//CSID/NL32ZZZ999999991234//CNTP/"
        "NL32INGB0000012345/INGBNL2A/J.Janssen///REMI/USTD//CONTRIBUTIE FEB 2014/"
    )

    info = fields.information([text], ":86:")

    assert (info.return_reason, info.end_to_end_id, info.mandate_id) == (
        "MS03",
        "20120501P0123478",
        "MND-120123",
    )
    assert (info.creditor_id, info.counterparty_iban, info.counterparty_bic) == (
        "NL32ZZZ999999991234",
        "NL32INGB0000012345",
        "INGBNL2A",
    )
    assert (info.counterparty_name, info.remittance) == ("J.Janssen", "CONTRIBUTIE FEB 2014")


def test_dutch_structured_reference_and_ordering_party() -> None:
    strd = fields.information(["/EREF/1581//REMI/STRD/CUR/9001123412341234/"], ":86:")
    ordp = fields.information(["/ORDP//NAME/Bedrijf B.V./REMI/NR.201303-111/11.3.2013"], "x")

    assert strd.creditor_reference == "9001123412341234"
    assert (ordp.counterparty_name, ordp.remittance) == ("Bedrijf B.V.", "NR.201303-111/11.3.2013")


def test_unstructured_text_lines_keep_their_spaces() -> None:
    info = fields.information(["Miete Dezember", "Wohnung 3"], ":86:")

    assert (info.gvc, info.remittance) == (None, "Miete Dezember Wohnung 3")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Müller".encode(), "Müller"),
        ("Müller".encode("cp850"), "Müller"),  # DOS: ü is 0x81
        ("Müller".encode("latin-1"), "Müller"),
        ("MÜLLER".encode("cp850").decode("cp1252").encode(), "MÜLLER"),  # "MšLLER"
        ("Jiří Šťastný".encode(), "Jiří Šťastný"),  # real š with no umlaut lost
    ],
)
def test_code_pages(data: bytes, text: str) -> None:
    assert decode(data) == text


SWIFT_TEXT = (
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-.,()' ",
        min_size=1,
        max_size=35,
    )
    .map(lambda value: " ".join(value.split()))
    .filter(bool)
)


@given(
    end_to_end=SWIFT_TEXT,
    mandate=SWIFT_TEXT,
    remittance=st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.,: ",
        min_size=1,
        max_size=140,
    )
    .map(lambda value: " ".join(value.split()))
    .filter(bool),
    name=SWIFT_TEXT,
)
def test_the_simulated_banks_field_86_reads_back(end_to_end, mandate, remittance, name) -> None:
    booking = bank.Booking(
        Decimal("23.80"),
        date(2026, 12, 2),
        end_to_end_id=end_to_end,
        mandate_id=mandate,
        remittance=remittance,
        counterparty_name=name,
        counterparty_iban="DE02120300000000202051",
    )

    (read,) = read_statement(bank.mt940(bank.BankStatement((booking,)))).statements[0].transactions

    assert (read.end_to_end_id, read.mandate_id) == (end_to_end, mandate)
    assert read.remittance == remittance
    assert read.counterparty_name == name[:54]
