"""The DATEV export: bookings per VAT group and posting, the CSV, totals that reconcile."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.accounts.datev import (
    COLUMNS,
    DatevError,
    account_totals,
    accounts_for,
    check_range,
    debtor_account,
    document_bookings,
    posting_bookings,
    reconcile,
    with_debtors,
)
from shared.accounts.datev_export import (
    DatevExport,
    DatevOptions,
    IssuedDocument,
    IssuedInRange,
)
from shared.accounts.model import Posting
from shared.customers import Address, Customer
from shared.invoicing.compose import compose_invoice
from shared.invoicing.corrections import reversed_draft
from shared.invoicing.model import Correction, Invoice
from shared.periods import Period
from shared.tax import TaxCategory
from tests.unit.fakes import SELLER, position
from tests.unit.ledger_fakes import MemoryDebtorNumbers, MemoryLedger

PERIOD = Period(2026, 11)
# The customers of these tests, numbered as an export gives them numbers (C0000001 first).
NUMBERED = {f"C{number:07d}": number for number in range(1, 100)}
SKR03 = with_debtors(accounts_for("SKR03"), NUMBERED)
AT_VAT_ID = "ATU13585627"  # python-stdnum's own example of a valid UID


def person(number: int, country: str = "DE", **extra: object) -> Customer:
    return Customer.model_validate(
        {
            "customer_id": f"C{number:07d}",
            "name": "Jürgen Müller",
            "email": f"kunde{number}@example.org",
            "address": Address(street="Weg 1", postal_code="1010", city="Ort", country=country),
            "shard": 0,
        }
        | extra
    )


def invoice(customer: Customer, *categories: TaxCategory, sequence: int = 1) -> Invoice:
    positions = [
        position(customer.customer_id, index, unit_net="10.00", category=category)
        for index, category in enumerate(categories, start=1)
    ]
    draft = compose_invoice(customer, positions, PERIOD)
    assert draft is not None
    return Invoice(
        number=f"RE-2026-{sequence:08d}",
        run_id="run-2026-11",
        issue_date=date(2026, 12, 1),
        due_date=date(2026, 12, 15),
        seller=SELLER,
        draft=draft,
    )


def cancellation(original: Invoice) -> Invoice:
    return Invoice(
        document_type="cancellation",
        correction=Correction(
            refers_to=original.number, refers_to_date=original.issue_date, reason="storniert"
        ),
        number="GS-2026-00000001",
        run_id=original.run_id,
        issue_date=date(2026, 12, 10),
        due_date=date(2026, 12, 10),
        seller=SELLER,
        draft=reversed_draft(original.draft),
    )


def posting(kind: str, amount: str, *, item: str | None = "RE-2026-00000001") -> Posting:
    return Posting.model_validate(
        {
            "posting_id": f"{kind}:{amount}",
            "customer_id": "C0000001",
            "booked_on": date(2026, 12, 16),
            "kind": kind,
            "amount": Decimal(amount),
            "item": item,
            "source": "statement:tx1",
        }
    )


def test_a_german_invoice_books_each_rate_gross_from_the_debtor_to_its_revenue_account() -> None:
    issued = invoice(person(1), TaxCategory.STANDARD, TaxCategory.REDUCED)

    bookings = document_bookings(issued, SKR03)

    assert [(b.side, b.account, b.contra, b.amount) for b in bookings] == [
        ("S", 10001, 8400, Decimal("11.90")),
        ("S", 10001, 8300, Decimal("10.70")),
    ]
    assert sum(b.amount for b in bookings) == issued.draft.gross
    assert {b.document for b in bookings} == {"RE-2026-00000001"}
    assert bookings[0].text == "Rechnung RE-2026-00000001 Jürgen Müller"


def test_a_cancellation_books_the_other_way() -> None:
    original = invoice(person(1), TaxCategory.STANDARD)

    (booked,) = document_bookings(cancellation(original), SKR03)

    assert (booked.side, booked.account, booked.contra) == ("H", 10001, 8400)
    assert booked.amount == original.draft.gross


def test_eu_businesses_oss_consumers_and_buyers_abroad_get_their_own_accounts() -> None:
    business = invoice(person(2, "AT", kind="business", vat_id=AT_VAT_ID), TaxCategory.STANDARD)
    consumer = invoice(person(3, "AT"), TaxCategory.STANDARD)
    abroad = invoice(person(4, "CH"), TaxCategory.STANDARD)

    (reverse_charge,) = document_bookings(business, SKR03)
    (oss,) = document_bookings(consumer, SKR03)
    (non_eu,) = document_bookings(abroad, SKR03)

    assert (reverse_charge.contra, reverse_charge.eu_id, reverse_charge.amount) == (
        8336,
        AT_VAT_ID,
        Decimal("10.00"),
    )
    assert (oss.contra, oss.eu_id, oss.eu_rate, oss.amount) == (
        8320,
        "AT",
        Decimal("20"),
        Decimal("12.00"),
    )
    assert (non_eu.contra, non_eu.eu_id, non_eu.amount) == (8338, "", Decimal("10.00"))


def test_exempt_fees_go_to_the_exempt_account_and_skr04_has_its_own_numbers() -> None:
    issued = invoice(person(1), TaxCategory.STANDARD, TaxCategory.EXEMPT)

    skr04 = document_bookings(issued, with_debtors(accounts_for("SKR04"), NUMBERED))
    skr03 = document_bookings(issued, SKR03)

    assert [b.contra for b in skr03] == [8400, 8100]
    assert [b.contra for b in skr04] == [4400, 4100]


def test_postings_book_against_bank_fee_and_write_off_accounts() -> None:
    bookings = [
        b
        for p in [
            posting("payment", "-11.90"),
            posting("debit_return", "11.90"),
            posting("return_fee", "3.00", item="FEE1"),
            posting("dunning_fee", "5.00", item="FEE2"),
            posting("refund", "2.00", item=None),
            posting("write_off", "-8.00"),
            posting("invoice", "11.90"),  # a document: booked from the document, not here
        ]
        for b in posting_bookings(p, SKR03)
    ]

    assert [(b.side, b.account, b.contra, b.amount, b.source) for b in bookings] == [
        ("S", 1200, 10001, Decimal("11.90"), "payment"),
        ("S", 10001, 1200, Decimal("11.90"), "posting"),
        ("S", 10001, 2700, Decimal("3.00"), "posting"),
        ("S", 10001, 2700, Decimal("5.00"), "posting"),
        ("S", 10001, 1200, Decimal("2.00"), "posting"),
        ("S", 2400, 10001, Decimal("8.00"), "posting"),
    ]


def test_each_customer_has_the_debtor_account_of_its_number_and_a_full_range_is_refused() -> None:
    numbers = {"C255271576117": 1, "C000000000042": 2, "C310000000001": 100}
    narrow = with_debtors(
        accounts_for("SKR03", {"debtor_first": 10000, "debtor_last": 10099}), numbers
    )

    assert debtor_account("C255271576117", narrow) == 10001
    assert debtor_account("C000000000042", narrow) == 10002
    with pytest.raises(DatevError, match=r"10000\.\.10099 is full") as full:
        debtor_account("C310000000001", narrow)
    assert full.value.field == "datev_accounts"
    with pytest.raises(DatevError, match="C0000777 has no debtor number"):
        debtor_account("C0000777", narrow)
    with pytest.raises(DatevError, match="no such account setting: debtors"):
        accounts_for("SKR03", {"debtors": 1})
    with pytest.raises(DatevError, match="no such account setting: debitor"):
        accounts_for("SKR03", {"debitor": 1})
    with pytest.raises(DatevError, match="as many digits"):
        accounts_for("SKR03", {"debtor_first": 10000, "debtor_last": 100000})


def test_a_longer_debtor_range_lengthens_the_ledger_accounts() -> None:
    wide = accounts_for("SKR03", {"debtor_first": 100000000, "debtor_last": 699999999})

    assert (wide.revenue_19, wide.bank, wide.write_off) == (84000000, 12000000, 24000000)
    assert debtor_account("C255271576117", with_debtors(wide, {"C255271576117": 7})) == 100000007
    assert accounts_for("SKR03", {"bank": 1210}).bank == 1210
    with pytest.raises(DatevError, match="bank 121000 is longer than the account length 4"):
        accounts_for("SKR03", {"bank": 121000})


def test_a_range_is_one_fiscal_year() -> None:
    assert check_range(date(2026, 12, 1), date(2026, 12, 31)) == date(2026, 1, 1)
    assert check_range(date(2027, 3, 1), date(2027, 6, 30), 7) == date(2026, 7, 1)
    with pytest.raises(DatevError, match="one fiscal year") as spanning:
        check_range(date(2026, 12, 1), date(2027, 1, 31))
    with pytest.raises(DatevError, match="before the start") as backwards:
        check_range(date(2026, 12, 2), date(2026, 12, 1))
    assert spanning.value.field == backwards.value.field == "to"


class Register:
    def __init__(self, documents: list[Invoice], *, missing: tuple[str, ...] = ()) -> None:
        self.documents = documents
        self.missing = missing
        self.recorded_offset = Decimal("0.00")

    def issued_between(self, first: date, last: date) -> IssuedInRange:
        issued = [d for d in self.documents if first <= d.issue_date <= last]
        return IssuedInRange(
            documents=[IssuedDocument(d, d.draft.gross + self.recorded_offset) for d in issued],
            voids=1,
            missing=list(self.missing),
        )


def _export(register: Register, ledger: MemoryLedger) -> DatevExport:
    options = DatevOptions(chart="SKR03", consultant=1001, client=1, accounts=SKR03)
    return DatevExport(
        register,
        ledger,
        options,
        MemoryDebtorNumbers(),
        clock=lambda: datetime(2027, 1, 5, 8, 30, 1, 250000, UTC),
    )


@pytest.fixture
def books() -> tuple[Register, MemoryLedger]:
    first = invoice(person(1), TaxCategory.STANDARD, TaxCategory.REDUCED, sequence=1)
    second = invoice(person(2, "AT"), TaxCategory.STANDARD, sequence=2)
    register = Register([first, second, cancellation(second)])
    ledger = MemoryLedger()
    ledger.post(
        [
            posting("payment", "-22.60"),
            posting("return_fee", "3.00", item="FEE1"),
            Posting(
                posting_id="invoice:RE-2026-00000001",
                customer_id="C0000001",
                booked_on=date(2026, 12, 1),
                kind="invoice",
                amount=Decimal("22.60"),
                item="RE-2026-00000001",
                source="invoice:RE-2026-00000001",
            ),
        ]
    )
    return register, ledger


def test_the_export_reconciles_with_documents_and_ledger_to_the_cent(
    books: tuple[Register, MemoryLedger],
) -> None:
    result = _export(*books).export(date(2026, 12, 1), date(2026, 12, 31))

    assert result.reconciliation.ok, result.reconciliation.checks
    assert [(c.name, c.expected) for c in result.reconciliation.checks][:3] == [
        ("invoices and corrections (gross)", Decimal("22.60")),
        ("payments received (ledger)", Decimal("22.60")),
        ("other postings: returns, fees, refunds, write-offs (ledger)", Decimal("3.00")),
    ]
    totals = {t.account: t for t in result.totals}
    assert (totals[8400].credit, totals[8300].credit) == (Decimal("11.90"), Decimal("10.70"))
    assert (totals[8320].credit, totals[8320].debit) == (Decimal("12.00"), Decimal("12.00"))
    assert totals[1200].debit == Decimal("22.60")
    assert totals[2700].credit == Decimal("3.00")
    assert totals[10000].balance == Decimal("3.00")
    assert (result.documents, result.postings, result.voids) == (3, 2, 1)


def test_the_csv_is_a_datev_buchungsstapel(books: tuple[Register, MemoryLedger]) -> None:
    result = _export(*books).export(date(2026, 12, 1), date(2026, 12, 31))

    lines = result.csv.split(b"\r\n")
    header = lines[0].decode("cp1252").split(";")
    assert header[:5] == ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]
    assert header[5] == "20270105083001250"
    assert header[10:16] == ["1001", "1", "20260101", "4", "20261201", "20261231"]
    assert header[26] == '"03"'
    assert len(header) == 31
    assert lines[1].decode("cp1252").split(";") == list(COLUMNS)
    rows = [line.decode("cp1252").split(";") for line in lines[2:] if line]
    assert len(rows) == len(result.bookings) == 6
    assert all(len(row) == len(COLUMNS) for row in rows)
    first = rows[0]
    assert first[:3] == ["11,90", '"S"', '"EUR"']
    assert first[6:11] == ["10001", "8400", "", "0112", '"RE-2026-00000001"']
    assert first[13] == '"Rechnung RE-2026-00000001 Jürgen Müller"'
    assert "Müller".encode("cp1252") in result.csv
    oss = next(row for row in rows if row[7] == "8320")
    assert oss[39:41] == ['"AT"', "20,00"]


def test_a_gross_that_differs_from_its_bookings_does_not_reconcile(
    books: tuple[Register, MemoryLedger],
) -> None:
    register, ledger = books
    register.recorded_offset = Decimal("0.01")

    result = _export(register, ledger).export(date(2026, 12, 1), date(2026, 12, 31))

    assert not result.reconciliation.ok
    (wrong,) = [c for c in result.reconciliation.checks if not c.ok]
    assert (wrong.expected - wrong.booked) == Decimal("0.03")


def test_a_number_without_document_or_void_fails_the_reconciliation(
    books: tuple[Register, MemoryLedger],
) -> None:
    register, ledger = books
    register.missing = ("RE-2026-00000009",)

    result = _export(register, ledger).export(date(2026, 12, 1), date(2026, 12, 31))

    assert not result.reconciliation.ok
    assert result.missing == ("RE-2026-00000009",)


def test_debits_and_credits_balance() -> None:
    bookings = document_bookings(invoice(person(1), TaxCategory.STANDARD), SKR03)
    bookings += posting_bookings(posting("payment", "-11.90"), SKR03)

    totals = account_totals(bookings, SKR03)
    checks = reconcile(Decimal("11.90"), [posting("payment", "-11.90")], bookings, SKR03)

    assert sum(t.debit for t in totals) == sum(t.credit for t in totals) == Decimal("23.80")
    assert checks.ok
