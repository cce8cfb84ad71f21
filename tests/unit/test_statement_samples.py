"""Every published sample parses, and says what its provenance row says it holds.

The facts asserted here were read from the files themselves (their elements and fields), not
from what a parser printed. Permissively licensed samples are in ``tests/fixtures/bank``;
the copyleft ones (LGPL, AGPL) are read from the team's sample collection.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from shared.payments.statement import BankTransaction, StatementFile
from shared.payments.statements import read_statement_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bank"
COLLECTION = Path(
    os.environ.get("BANK_SAMPLES", Path(__file__).resolve().parents[3] / "shared/samples/bank")
)
COPYLEFT = pytest.mark.skipif(
    not COLLECTION.is_dir(),
    reason=f"the copyleft samples (LGPL/AGPL) are not copied into the repository; "
    f"they are read from {COLLECTION}, which is absent here (set BANK_SAMPLES)",
)


def _read(path: str) -> StatementFile:
    return read_statement_file(FIXTURES / path)


def _shared(path: str) -> StatementFile:
    return read_statement_file(COLLECTION / path)


def _all(read: StatementFile) -> list[BankTransaction]:
    return [t for statement in read.statements for t in statement.transactions]


def _d(value: str) -> Decimal:
    return Decimal(value)


def test_every_fixture_parses_with_unique_ids() -> None:
    files = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".xml", ".sta"))

    assert len(files) == 15
    for path in files:
        transactions = _all(read_statement_file(path))
        assert transactions, path.name
        assert len({t.transaction_id for t in transactions}) == len(transactions), path.name


def test_vrbank_proprietary_gvc_batch_notprovided_and_bban() -> None:
    read = _read("camt053/camt053.001.02_de_vrbank-rottal-inn_camt_parser.xml")

    (statement,) = read.statements
    assert (statement.account_iban, statement.opening_balance, statement.closing_balance) == (
        "DE14740618130000033626",
        _d("33.06"),
        _d("23.06"),
    )
    first, second, third, *batch = statement.transactions
    # entry 1: elements out of schema order, <BkTxCd/> empty on the entry, GVC on the detail
    assert (first.amount, first.bank_code, first.mandate_id) == (
        _d("-2.00"),
        "NTRF+020",
        "MandateReference",
    )
    assert first.end_to_end_id == "EndToEndReference"
    assert "Überweisungs-Gutschrift" in first.additional_info
    assert (second.amount, second.end_to_end_id) == (_d("-3.00"), None)  # NOTPROVIDED
    assert (third.amount, third.counterparty_iban, third.counterparty_account) == (
        _d("1.00"),
        None,
        "740618130100033626",  # Othr/Id with SchmeNm BBAN
    )
    assert [t.amount for t in batch] == [_d("-3.50"), _d("-2.50")]  # Btch NbOfTxs 2, 6.00
    assert {t.payment_info_id for t in batch} == {"STZV-PmInf27122013-11:02-2"}


def test_abnamro_collection_with_and_without_details_and_its_returns() -> None:
    read = _read("camt053/camt053.001.02_nl_abnamro_example.xml")

    (statement,) = read.statements
    transactions = statement.transactions
    assert len(transactions) == 29  # 13 entries: 26 details and 3 entries without details
    assert (statement.opening_balance, statement.closing_balance) == (_d("1000.01"), _d("100.01"))
    ours = [t for t in transactions if (t.mandate_id or "").startswith("mandateref24-")]
    assert sorted(t.mandate_id for t in ours) == [f"mandateref24-{n}" for n in range(1, 8)]
    assert {(t.amount, t.payment_info_id) for t in ours} == {(_d("1.00"), "BATCHID")}
    # each Ustrd runs over the schema's 140 characters with its line breaks: read whole
    assert {(len(t.remittance), t.remittance[-8:]) for t in ours} == {(140, "LI NOSIT")}
    (summed,) = [t for t in transactions if t.batch_count == 7]
    assert (summed.amount, summed.payment_info_id, summed.end_to_end_id) == (
        _d("7.00"),
        "BATCHID",  # only in AddtlNtryInf /PREF/
        None,
    )
    returns = [t for t in transactions if t.reversal]
    assert [(t.amount, t.return_reason, t.bank_code) for t in returns] == [
        (_d("-1.00"), "MS03", "PMNT/IDDT/UPDD"),
        (_d("-921.00"), "MS03", "PMNT/IDDT/UPDD"),
    ]
    assert [t.mandate_id for t in returns] == ["123456789XXmandaat", "123456788XXmandaat"]
    assert {t.counterparty_name for t in returns} == {"Debtor"}  # named as creditor by ABN
    assert "1234567812345678" in {t.creditor_reference for t in transactions}
    assert sum(1 for t in transactions if t.end_to_end_id is None) >= 15  # NOTPROVIDED


def test_ing_batch_without_details_returned_transfer_and_b2b_reversal() -> None:
    read = _read("camt053/camt053.001.02_nl_ing_example.xml")

    transactions = _all(read)
    assert len(transactions) == 9
    (collection,) = [t for t in transactions if t.bank_code == "PMNT/IDDT/ESDD"]
    assert (collection.amount, collection.batch_count, collection.payment_info_id) == (
        _d("270.00"),
        2,
        "SCTBtchId20140103A2PSTN",
    )
    (returned,) = [t for t in transactions if t.bank_code == "PMNT/RCDT/RRTN"]
    assert (returned.amount, returned.return_reason) == (_d("125.00"), "AC04")
    (b2b,) = [t for t in transactions if t.bank_code == "PMNT/RDDT/BBDD"]
    (reversal,) = [t for t in transactions if t.reversal]
    assert (b2b.amount, b2b.mandate_id) == (_d("-30.00"), "BBDDMdtESNTR")
    assert (reversal.amount, reversal.return_reason, reversal.bank_code) == (
        _d("-30.00"),
        "MD06",
        "PMNT/IDDT/UPDD",
    )
    assert any(t.creditor_reference for t in transactions)
    assert any(t.remittance for t in transactions)


def test_finnish_statement_foreign_currency_charges_and_batches() -> None:
    transactions = _all(_read("camt053/camt053.001.02_fi_finance-finland_sample.xml"))

    (usd,) = [t for t in transactions if t.instructed_currency == "USD"]
    assert (usd.amount, usd.currency, usd.instructed_amount) == (
        _d("2120.00"),
        "EUR",
        _d("3200.00"),
    )
    assert (usd.exchange_rate, usd.charges) == (_d("0.666667"), _d("20.00"))
    assert {t.batch_count for t in transactions if t.batch_count} == {3, 4}
    (received_debit,) = [t for t in transactions if t.bank_code == "PMNT/RDDT/PMDD"]
    assert received_debit.amount == _d("500.00")
    assert "RF98123456789012" in {t.creditor_reference for t in transactions}
    charges = [t for t in transactions if t.bank_reference == "091029ARCH09001"]
    assert [t.amount for t in charges] == [_d("-100.00"), _d("-100.00")]  # entry of 200.00


def test_genkgo_two_statements_in_one_document() -> None:
    read = _read("camt053/camt053.001.02_genkgo_multi-statement.xml")

    assert [s.statement_id for s in read.statements] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    first, second = (s.transactions[0] for s in read.statements)
    assert (first.amount, first.end_to_end_id, first.remittance, first.reversal) == (
        _d("8.85"),
        "000000001",
        "Transaction Description 1",
        False,
    )
    assert (second.amount, second.end_to_end_id, second.reversal) == (
        _d("-7.00"),
        "000000002",
        False,
    )


def test_six_large_batches_dd_returns_narr_returns_and_charges() -> None:
    read = _read("camt053/camt053.001.04_ch_six-business-example_camt_parser.xml")

    transactions = _all(read)
    assert (read.statements[0].version, len(transactions)) == ("001.04", 32)
    by_reference = Counter(t.bank_reference[:14] for t in transactions if t.bank_reference)
    assert max(by_reference.values()) <= 10
    dd_returns = [t for t in transactions if t.return_reason == "MD06"]
    assert [(t.amount, t.reversal, t.charges) for t in dd_returns] == [
        (_d("-6.00"), True, _d("0.70")),
        (_d("-15.53"), True, _d("0.70")),
    ]
    narr = [t for t in transactions if t.return_reason == "NARR"]
    assert len(narr) == 3
    assert all("BEGUENSTIGTER UNBEKANNT" in t.additional_info for t in narr)
    assert sum(1 for t in transactions if t.charges is not None) >= 10
    assert sum(1 for t in transactions if not t.reversal) == 30  # RvslInd false written out


def test_ubs_version_08_exchange_and_qr_reference() -> None:
    read = _read("camt053/camt053.001.08_ch_ubs_camt_parser.xml")

    first, second, third = _all(read)
    assert read.statements[0].version == "001.08"
    assert (first.amount, first.counterparty_bic) == (_d("474.4"), "UBSWCHZH80A")  # BICFI
    assert (second.payment_info_id, second.creditor_reference) == (
        "8d8075ce49134553a261033714278400",
        "RF38000000000000000000552",
    )
    assert (third.amount, third.currency, third.instructed_amount) == (
        _d("-20.97"),
        "EUR",
        _d("19.69"),
    )
    assert (third.instructed_currency, third.exchange_rate) == ("CHF", _d("0.9433"))
    assert third.creditor_reference == "000000270148751802165444888"  # QR reference


def test_finnish_notification_returns_and_three_currencies() -> None:
    read = _read("camt054/camt054.001.02_fi_finance-finland_sample.xml")

    transactions = _all(read)
    assert (read.format, len(transactions)) == ("camt.054", 13)
    assert read.statements[0].opening_balance is None  # notifications carry no balances
    assert {t.return_reason for t in transactions if t.reversal} == {"AC01", "CUST"}
    # the failed debits are reported for information only (Sts INFO), not booked
    assert [(t.entry_status, t.amount) for t in transactions if t.entry_status != "BOOK"] == [
        ("INFO", _d("40.00")),
        ("INFO", _d("60.00")),
    ]
    foreign = {(t.instructed_currency, t.exchange_rate) for t in transactions}
    assert {("USD", _d("0.666667")), ("JPY", _d("0.00630875"))} <= foreign
    assert {t.currency for t in transactions} == {"EUR"}
    assert sum(1 for t in transactions if t.creditor_reference) >= 8


def test_swiss_dd_returns_notification() -> None:
    transactions = _all(_read("camt054/camt054.001.04_ch_dd-returns_camt_parser.xml"))

    collected = [t.amount for t in transactions if not t.reversal]
    returned = [(t.amount, t.return_reason, t.charges) for t in transactions if t.reversal]
    assert collected == [_d("15.00"), _d("9.00"), _d("56.56")]
    assert returned == [(_d("-6.00"), "MD06", _d("0.70")), (_d("-15.53"), "MD06", _d("0.70"))]
    assert {t.bank_code for t in transactions if not t.reversal} == {"PMNT/RDDT/PMDD"}


def test_postfinance_returned_transfer_batch_of_one() -> None:
    (returned,) = _all(_read("camt054/camt054.001.04_ch_postfinance_returns.xml"))

    assert (returned.amount, returned.currency, returned.return_reason) == (
        _d("400.00"),
        "CHF",
        "AC01",
    )
    assert (returned.end_to_end_id, returned.payment_info_id, returned.bank_code) == (
        "EndToEndId-004-01-01",
        "PmtInfId-004-01",
        "PMNT/ICDT/RRTN",
    )


def test_betterplace_26_statements_returns_and_stornos() -> None:
    read = _read("mt940/mt940_de_betterplace_sepa.sta")

    transactions = _all(read)
    assert len(read.statements) == 26
    assert len({s.account_other for s in read.statements}) == 20
    assert len(transactions) == 97
    returns = [t for t in transactions if t.bank_code == "159"]
    assert len(returns) == 17
    assert all(t.reversal and t.amount > 0 for t in returns)
    texts = " ".join(t.remittance for t in returns)
    assert "Konto gesperrt" in texts
    assert "IBAN ungueltig" in texts
    assert {t.bank_return_code for t in returns} == {"901", "903", "914"}
    stornos = [t for t in transactions if "STORNO" in t.additional_info]
    assert [(t.amount, t.reversal) for t in stornos] == [(_d("-204.88"), True)] * 2  # RC
    assert returns[0].end_to_end_id == "TFNR 40005 00005"  # EREF+ over ?20, MTLG after it


def test_sparkasse_pages_blz_accounts_and_dos_umlauts() -> None:
    read = _read("mt940/mt940_de_sparkasse.sta")

    assert [s.statement_id for s in read.statements] == [
        "STARTUMS/09198/001",
        "STARTUMS/09198/002",
        "STARTUMS/09199/001",
        "STARTUMS/09199/002",
    ]
    transactions = _all(read)
    assert len(transactions) == 10
    first = transactions[0]
    assert (first.amount, first.bank_code, first.counterparty_account) == (
        _d("80.00"),
        "051",
        "20010020/0012345678",
    )
    assert first.counterparty_name == "MÜLLER, GRETEL SOMECITY"  # "MšLLER" in the file
    assert "Überweisungsgutschr." in {t.additional_info for t in transactions}
    assert read.statements[1].opening_balance == read.statements[0].closing_balance  # :60M:


def test_kontist_iban_invoice_numbers_and_direct_debits() -> None:
    read = _read("mt940/mt940_de_kontist.sta")

    assert read.statements[0].account_iban == "DE85110101002482488293"
    transactions = _all(read)
    assert [t.bank_code for t in transactions] == ["166", "166", "166", "171", "166", "171"]
    assert "Rechnung-Nr.: INV-00002 v. 13.02.21" in {t.remittance for t in transactions}
    assert "INV-00003" in {t.remittance for t in transactions}
    assert "Lucien Schünke" in {t.counterparty_name for t in transactions}
    assert [t.amount for t in transactions if t.bank_code == "171"] == [_d("-2.38"), _d("-117.81")]


def test_basislastschrift_with_subfields_up_to_62() -> None:
    (debit,) = _all(_read("mt940/mt940_de_basislastschrift_details.sta"))

    assert (debit.amount, debit.bank_code) == (_d("-233.15"), "105")
    assert (debit.mandate_id, debit.creditor_id) == ("BYA12345678901", "DE99ZZZ00000012345")
    assert debit.end_to_end_id == "123/123/12345-----L1101234567890123"  # ?20 full, on in ?21
    assert debit.remittance.startswith("STEUERNR 123/123/12345 KOERPST 3VJ.17")
    assert "ABWA: Finanzamt Sentinel" in debit.additional_info  # ?62
    assert (debit.counterparty_iban, debit.counterparty_bic) == (
        "DE99700500000000012345",
        "BYLADEMM",
    )
    assert debit.counterparty_name == "Finanzamt Muenchen Abteilung Erhebung"
    assert not debit.reversal


def test_rabobank_940_header_padded_amounts_and_counter_iban() -> None:
    read = _read("mt940/mt940_nl_rabobank.sta")

    transactions = _all(read)
    assert (len(read.statements), len(transactions)) == (2, 12)
    assert read.statements[0].opening_balance == _d("1147.95")  # 000000001147,95
    first, second = transactions[:2]
    assert (first.amount, first.counterparty_iban) == (_d("-127.50"), "NL96RBOS0523149468")
    assert first.counterparty_name == "Nespresso Nederland B.V."  # wrapped mid-word
    assert first.end_to_end_id == "02-04-2013 22:56 1120000153447185"
    assert (second.amount, second.counterparty_name) == (_d("169.90"), "Bedrijf B.V.")
    assert second.remittance.startswith("NR.201303-111/11.3.2013")


@COPYLEFT
def test_hbci4java_ruecklastschrift_lgpl() -> None:
    (returned,) = _all(_shared("camt052/camt052.001.02_de_ruecklastschrift_hbci4java.xml"))

    assert (returned.amount, returned.instructed_amount, returned.charges) == (
        _d("-53.00"),
        _d("50.00"),
        _d("3.00"),
    )
    assert (returned.return_reason, returned.mandate_id) == ("MS03", "TEST1234")
    assert returned.counterparty_name == "Sven Schuldner"  # the debtor of the collection


@COPYLEFT
def test_hbci4java_basislastschrift_v08_lgpl() -> None:
    read = _shared("camt052/camt052.001.08_de_basislastschrift_hbci4java.xml")

    (debit,) = _all(read)
    assert (read.format, read.statements[0].version) == ("camt.052", "001.08")
    assert (debit.amount, debit.bank_code, debit.proprietary_code) == (
        _d("-34.00"),
        "PMNT/RDDT/ESDD",
        "NDDT+105+9200+992",
    )
    assert (debit.end_to_end_id, debit.mandate_id, debit.creditor_id) == (
        "123456789012",
        "12345678/001",
        "DE46ZZZ00000012345",
    )


@COPYLEFT
def test_oca_returned_sdd_batch_agpl() -> None:
    transactions = _all(_shared("camt053/camt053.001.02_nl_oca_test-camt053.xml"))

    returned = [t for t in transactions if t.reversal]
    assert [(t.amount, t.return_reason) for t in returned] == [
        (_d("-564.05"), "AC06"),
        (_d("-100.00"), "AC06"),
    ]
    assert [t.mandate_id for t in returned] == [
        "NL22ZZZ524885430000-C0125.1",
        "NL22ZZZ524885430000-C0125.2",
    ]
    assert [t.end_to_end_id for t in returned] == [
        "TESTBANK/NL/20141229/01206408",
        "TESTBANK/NL/20141229/01206407",
    ]
    assert sum(t.amount for t in returned) == _d("-664.05")  # the entry's amount


@COPYLEFT
def test_ing_mt940_hard_wraps_and_returns_agpl() -> None:
    read = _shared("mt940/mt940_nl_ing_returns.940")

    (statement,) = read.statements
    assert (statement.account_iban, statement.statement_id) == (
        "NL77INGB0574908765",
        "P140220000000001/00000",  # :28C:0000 wrapped before its last 0
    )
    transactions = statement.transactions
    assert len(transactions) == 8
    returns = [t for t in transactions if t.return_reason]
    assert [(t.amount, t.return_reason, t.reversal) for t in returns] == [
        (_d("1.57"), "MS03", True),
        (_d("-12.75"), "MS03", True),
    ]
    assert {t.mandate_id for t in transactions if t.mandate_id} == {"MND-EV01", "MND-120123"}
    assert transactions[0].bank_reference == "00000000001005"
    assert transactions[3].end_to_end_id == "EV123REP123412T1234"
    assert transactions[3].creditor_id == "NL32ZZZ999999991234"
