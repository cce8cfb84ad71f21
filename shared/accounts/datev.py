"""Bookings for the tax advisor: a DATEV "Buchungsstapel" (EXTF format 700, category 21).

Pure rules, no I/O. What becomes a booking:
- Every invoice and correction issued in the range, one booking per VAT group: the gross of the
  group from the customer's debtor account (Soll) to the revenue account of its kind: German
  19 % and 7 % (automatic accounts: DATEV splits the VAT off the gross), the buyer's own rate in
  another EU state (OSS, with country and rate in the EU fields), reverse charge for EU
  businesses (with the buyer's VAT id), supplies not taxable here (outside the EU), exempt
  fees. A cancellation is stored with negated amounts and so books the other way (Haben).
- Every posting of the ledger in the range that is not a document: payments and refunds against
  the bank account, returned debits back to the debtor, return and dunning fees, interest,
  collection fees and write-offs against their accounts. Invoices, cancellations and credit
  notes are documents and are booked from the documents only, never twice.

Each customer has a debtor account of its own in a configurable range: the range's start plus
a number assigned to the customer once, at its first export (``DebtorNumbers``), so no two
customers share an account whatever their customer numbers look like. Accounts of each chart
(SKR03, SKR04) have defaults that the settings can override one by one. The
defaults are the charts' usual accounts for these cases; confirm them with the tax advisor.
The file: semicolons, CRLF, Windows-1252, decimal comma, texts in double quotes.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from shared.accounts.model import Posting
from shared.invoicing.model import Invoice, VatGroup
from shared.money import ZERO, to_cents
from shared.tax import SELLER_COUNTRY, eu_member_states

Chart = Literal["SKR03", "SKR04"]
Side = Literal["S", "H"]
ENCODING = "cp1252"
TEXT_LENGTH = 60
DOCUMENT_FIELD_LENGTH = 36
GERMAN_RATES = (Decimal("19"), Decimal("7"))
# Postings the documents stand for: booked from the documents, not from the ledger.
DOCUMENT_KINDS = frozenset({"invoice", "cancellation", "credit_note"})


@dataclass(frozen=True)
class DatevAccounts:
    """The accounts the export books to; every one can be overridden by name in settings."""

    revenue_19: int
    revenue_7: int
    revenue_oss: int
    revenue_reverse_charge: int
    revenue_non_eu: int
    revenue_exempt: int
    bank: int
    return_fees: int
    dunning_fees: int
    interest: int
    collection_fees: int
    write_off: int
    debtor_first: int = 10000
    debtor_last: int = 69999
    # Each customer's number in the debtor range, assigned once (``DebtorNumbers``); the
    # customer's debtor account is debtor_first plus it. Not a setting.
    debtors: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def labels(self) -> dict[int, str]:
        return {
            self.revenue_19: "Erlöse 19 % USt",
            self.revenue_7: "Erlöse 7 % USt",
            self.revenue_oss: "Erlöse im anderen EU-Land steuerpflichtig (OSS)",
            self.revenue_reverse_charge: "Erlöse EU, Steuerschuld des Leistungsempfängers",
            self.revenue_non_eu: "Erlöse im Drittland, im Inland nicht steuerbar",
            self.revenue_exempt: "Steuerfreie Umsätze",
            self.bank: "Bank",
            self.return_fees: "Rücklastschriftgebühren",
            self.dunning_fees: "Mahngebühren",
            self.interest: "Verzugszinsen",
            self.collection_fees: "Inkassokosten",
            self.write_off: "Forderungsverluste",
        }


# The fields the settings may override: every account and the debtor range.
ACCOUNT_SETTINGS = frozenset(DatevAccounts.__dataclass_fields__) - {"debtors"}

CHART_DEFAULTS: Mapping[Chart, DatevAccounts] = {
    "SKR03": DatevAccounts(
        revenue_19=8400,
        revenue_7=8300,
        revenue_oss=8320,
        revenue_reverse_charge=8336,
        revenue_non_eu=8338,
        revenue_exempt=8100,
        bank=1200,
        return_fees=2700,
        dunning_fees=2700,
        interest=2650,
        collection_fees=2700,
        write_off=2400,
    ),
    "SKR04": DatevAccounts(
        revenue_19=4400,
        revenue_7=4300,
        revenue_oss=4320,
        revenue_reverse_charge=4336,
        revenue_non_eu=4338,
        revenue_exempt=4100,
        bank=1800,
        return_fees=4830,
        dunning_fees=4830,
        interest=7100,
        collection_fees=4830,
        write_off=6930,
    ),
}


class DatevError(ValueError):
    """Input the export refuses, naming the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def accounts_for(chart: Chart, overrides: Mapping[str, int] | None = None) -> DatevAccounts:
    accounts = CHART_DEFAULTS[chart]
    chosen_values: dict[str, Any] = dict(overrides or {})
    unknown = sorted(set(chosen_values) - ACCOUNT_SETTINGS)
    if unknown:
        raise DatevError("datev_accounts", f"no such account setting: {', '.join(unknown)}")
    chosen = replace(accounts, **chosen_values)
    if not 0 < chosen.debtor_first <= chosen.debtor_last:
        raise DatevError("datev_accounts", "debtor_first must lie between 1 and debtor_last")
    if len(str(chosen.debtor_first)) != len(str(chosen.debtor_last)):
        raise DatevError("datev_accounts", "debtor_first and debtor_last need as many digits")
    return _at_length(chosen, len(str(chosen.debtor_first)) - 1)


def _at_length(accounts: DatevAccounts, length: int) -> DatevAccounts:
    """The ledger accounts at the account length the debtor range sets (one digit less than a
    debtor account): DATEV lengthens an account by zeros on the right (8400 at 6 is 840000)."""
    longer: dict[str, Any] = {}
    for name in sorted(ACCOUNT_SETTINGS - {"debtor_first", "debtor_last"}):
        account = getattr(accounts, name)
        digits = len(str(account))
        if digits > length:
            raise DatevError(
                "datev_accounts", f"{name} {account} is longer than the account length {length}"
            )
        longer[name] = account * 10 ** (length - digits)
    return replace(accounts, **longer)


@dataclass(frozen=True)
class Booking:
    """One line of the batch: ``amount`` is positive, ``side`` applies to ``account``."""

    amount: Decimal
    side: Side
    account: int
    contra: int
    day: date
    document: str
    text: str
    source: Literal["document", "payment", "posting"]
    tax_key: str = ""
    eu_id: str = ""
    eu_rate: Decimal | None = None

    @property
    def signed(self) -> Decimal:
        """The amount as it adds to ``account``: positive on its Soll side."""
        return self.amount if self.side == "S" else -self.amount


@dataclass(frozen=True)
class Details:
    """What a booking says besides its amount and accounts."""

    day: date
    document: str
    text: str
    source: Literal["document", "payment", "posting"]
    eu_id: str = ""
    eu_rate: Decimal | None = None


def booking(debited: int, credited: int, amount: Decimal, details: Details) -> Booking | None:
    """``amount`` from ``credited`` to ``debited``; a negative amount books the other way, zero
    books nothing (DATEV takes no zero amounts)."""
    amount = to_cents(amount)
    if amount == ZERO:
        return None
    return Booking(
        amount=abs(amount),
        side="S" if amount > 0 else "H",
        account=debited,
        contra=credited,
        day=details.day,
        document=details.document,
        text=details.text,
        source=details.source,
        eu_id=details.eu_id,
        eu_rate=details.eu_rate,
    )


def debtor_account(customer_id: str, accounts: DatevAccounts) -> int:
    """The customer's own debtor account: debtor_first plus the number assigned to the customer
    (``accounts.debtors``). Two customers never share one; a range that is full is refused."""
    number = accounts.debtors.get(customer_id)
    if number is None:
        raise DatevError("customer_id", f"{customer_id} has no debtor number assigned")
    account = accounts.debtor_first + number
    if account > accounts.debtor_last:
        raise DatevError(
            "datev_accounts",
            f"the debtor range {accounts.debtor_first}..{accounts.debtor_last} is full: "
            f"{customer_id} is debtor number {number}; set a longer range",
        )
    return account


def with_debtors(accounts: DatevAccounts, numbers: Mapping[str, int]) -> DatevAccounts:
    return replace(accounts, debtors=dict(numbers))


def revenue_account(invoice: Invoice, group: VatGroup, accounts: DatevAccounts) -> int:
    """Where a VAT group's revenue goes, by category, rate and the buyer's country."""
    country = invoice.draft.buyer.address.country
    if group.category_code == "AE":
        return accounts.revenue_reverse_charge
    if group.category_code == "O":
        return accounts.revenue_non_eu
    if group.category_code in {"E", "Z", "K", "G"}:
        return accounts.revenue_exempt
    if country != SELLER_COUNTRY and country in eu_member_states():
        return accounts.revenue_oss
    if group.rate == GERMAN_RATES[0]:
        return accounts.revenue_19
    if group.rate == GERMAN_RATES[1]:
        return accounts.revenue_7
    raise DatevError("datev_accounts", f"no revenue account for German VAT at {group.rate} %")


def document_bookings(invoice: Invoice, accounts: DatevAccounts) -> list[Booking]:
    """One booking per VAT group of an invoice or correction, gross, against the debtor."""
    debtor = debtor_account(invoice.customer_id, accounts)
    text = datev_text(f"{invoice.title} {invoice.number} {invoice.draft.buyer.name}")
    found: list[Booking] = []
    for group in invoice.draft.vat_groups:
        eu_id, eu_rate = _eu_fields(invoice, group)
        details = Details(
            day=invoice.issue_date,
            document=document_field(invoice.number),
            text=text,
            source="document",
            eu_id=eu_id,
            eu_rate=eu_rate,
        )
        revenue = revenue_account(invoice, group, accounts)
        made = booking(debtor, revenue, group.net + group.vat, details)
        if made is not None:
            found.append(made)
    return found


def _eu_fields(invoice: Invoice, group: VatGroup) -> tuple[str, Decimal | None]:
    """The buyer's VAT id for reverse charge; country and rate for OSS."""
    buyer = invoice.draft.buyer
    if group.category_code == "AE" and buyer.vat_id:
        return "".join(c for c in buyer.vat_id.upper() if c.isalnum()), None
    country = buyer.address.country
    if group.category_code == "S" and country != SELLER_COUNTRY and country in eu_member_states():
        return country, group.rate
    return "", None


def posting_bookings(posting: Posting, accounts: DatevAccounts) -> list[Booking]:
    """The booking of a ledger posting that is not a document; none for documents."""
    if posting.kind in DOCUMENT_KINDS:
        return []
    debtor = debtor_account(posting.customer_id, accounts)
    details = Details(
        day=posting.booked_on,
        document=document_field(posting.document_number or posting.item or posting.posting_id),
        text=datev_text(f"{_POSTING_TEXT[posting.kind]} {posting.customer_id}"),
        source="payment" if posting.kind == "payment" else "posting",
    )
    # A payment credits the customer (negative amount): the bank is debited with its receipt.
    if posting.kind in {"payment", "write_off"}:
        target = accounts.bank if posting.kind == "payment" else accounts.write_off
        made = booking(target, debtor, -posting.amount, details)
    else:
        made = booking(debtor, _contra_of(posting, accounts), posting.amount, details)
    return [made] if made is not None else []


_POSTING_TEXT = {
    "payment": "Zahlung",
    "refund": "Erstattung",
    "debit_return": "Rücklastschrift",
    "return_fee": "Rücklastschriftgebühr",
    "dunning_fee": "Mahngebühr",
    "interest": "Verzugszinsen",
    "collection_fee": "Inkassokosten",
    "write_off": "Forderungsverlust",
}


def _contra_of(posting: Posting, accounts: DatevAccounts) -> int:
    return {
        "refund": accounts.bank,
        "debit_return": accounts.bank,
        "return_fee": accounts.return_fees,
        "dunning_fee": accounts.dunning_fees,
        "interest": accounts.interest,
        "collection_fee": accounts.collection_fees,
    }[posting.kind]


def document_field(value: str) -> str:
    """Belegfeld 1: letters, digits and $ % - / only, at most 36 characters."""
    kept = "".join(c if c.isascii() and (c.isalnum() or c in "$%-/") else "-" for c in value)
    return kept[-DOCUMENT_FIELD_LENGTH:]


def datev_text(text: str) -> str:
    """A text that Windows-1252 can carry, without quotes' trouble, at most 60 characters."""
    kept = []
    for char in text:
        if _encodable(char):
            kept.append(char)
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        kept.append(base if _encodable(base) else "?")
    return " ".join("".join(kept).split())[:TEXT_LENGTH]


def _encodable(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return char.isprintable()


@dataclass(frozen=True)
class DatevHeader:
    consultant: int
    client: int
    chart: Chart
    first: date
    last: date
    created_at: datetime
    fiscal_year_start: date
    account_length: int
    title: str = "Rechnungen und Zahlungen"
    fixed: bool = False


def check_range(first: date, last: date, fiscal_year_start_month: int = 1) -> date:
    """The start of the fiscal year both dates lie in; DatevError naming the field if not."""
    if last < first:
        raise DatevError("to", f"{last} lies before the start {first}")
    start = fiscal_year_start(first, fiscal_year_start_month)
    if fiscal_year_start(last, fiscal_year_start_month) != start:
        raise DatevError("to", f"a DATEV batch covers one fiscal year; {first} and {last} do not")
    return start


def fiscal_year_start(day: date, month: int) -> date:
    year = day.year if day.month >= month else day.year - 1
    return date(year, month, 1)


COLUMNS = (
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    *(f"Beleginfo - {kind} {n}" for n in range(1, 9) for kind in ("Art", "Inhalt")),
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
)


def buchungsstapel(header: DatevHeader, bookings: Iterable[Booking]) -> bytes:
    """The CSV file: header line, column line, one line per booking; Windows-1252, CRLF."""
    lines = [_header_line(header), ";".join(COLUMNS)]
    lines += [_booking_line(b) for b in bookings]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)


def _header_line(header: DatevHeader) -> str:
    fields = [
        _quoted("EXTF"),
        "700",
        "21",
        _quoted("Buchungsstapel"),
        "13",
        header.created_at.strftime("%Y%m%d%H%M%S") + f"{header.created_at.microsecond // 1000:03d}",
        "",
        _quoted("RE"),
        _quoted(""),
        _quoted(""),
        str(header.consultant),
        str(header.client),
        f"{header.fiscal_year_start:%Y%m%d}",
        str(header.account_length),
        f"{header.first:%Y%m%d}",
        f"{header.last:%Y%m%d}",
        _quoted(datev_text(header.title)[:30]),
        _quoted(""),
        "1",
        "0",
        "1" if header.fixed else "0",
        _quoted("EUR"),
        "",
        _quoted(""),
        "",
        "",
        _quoted(header.chart[-2:]),
        "",
        "",
        _quoted(""),
        _quoted(""),
    ]
    return ";".join(fields)


def _booking_line(entry: Booking) -> str:
    values = [""] * len(COLUMNS)
    values[0] = decimal_comma(entry.amount)
    values[1] = _quoted(entry.side)
    values[2] = _quoted("EUR")
    values[6] = str(entry.account)
    values[7] = str(entry.contra)
    values[8] = _quoted(entry.tax_key) if entry.tax_key else ""
    values[9] = f"{entry.day:%d%m}"
    values[10] = _quoted(entry.document)
    values[13] = _quoted(entry.text)
    values[39] = _quoted(entry.eu_id) if entry.eu_id else ""
    values[40] = decimal_comma(entry.eu_rate) if entry.eu_rate is not None else ""
    return ";".join(values)


def decimal_comma(amount: Decimal) -> str:
    return f"{to_cents(amount):.2f}".replace(".", ",")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@dataclass
class AccountTotal:
    account: int
    label: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def account_totals(bookings: Iterable[Booking], accounts: DatevAccounts) -> list[AccountTotal]:
    """Soll and Haben per account; the debtor accounts summed as one line."""
    labels = accounts.labels()
    totals: dict[int, AccountTotal] = {}

    def add(account: int, debit: Decimal, credit: Decimal) -> None:
        key = accounts.debtor_first if _is_debtor(account, accounts) else account
        label = "Debitoren (alle)" if key == accounts.debtor_first else labels.get(key, "")
        line = totals.setdefault(key, AccountTotal(key, label))
        line.debit += debit
        line.credit += credit

    for entry in bookings:
        add(entry.account, *((entry.amount, ZERO) if entry.side == "S" else (ZERO, entry.amount)))
        add(entry.contra, *((ZERO, entry.amount) if entry.side == "S" else (entry.amount, ZERO)))
    return [totals[key] for key in sorted(totals)]


def _is_debtor(account: int, accounts: DatevAccounts) -> bool:
    return accounts.debtor_first <= account <= accounts.debtor_last


@dataclass(frozen=True)
class Check:
    """One reconciliation: what the source says, what the bookings say."""

    name: str
    expected: Decimal
    booked: Decimal

    @property
    def ok(self) -> bool:
        return self.expected == self.booked


@dataclass
class Reconciliation:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def reconcile(
    documents_gross: Decimal,
    postings: Iterable[Posting],
    bookings: Iterable[Booking],
    accounts: DatevAccounts,
) -> Reconciliation:
    """Documents against their bookings on the debtor side, payments against the bank, every
    other posting against its bookings; and the batch balanced, Soll against Haben."""
    entries = list(bookings)
    ledger = [p for p in postings if p.kind not in DOCUMENT_KINDS]
    by_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        by_source[entry.source] += _debtor_side(entry, accounts)
    totals = account_totals(entries, accounts)
    return Reconciliation(
        [
            Check("invoices and corrections (gross)", documents_gross, by_source["document"]),
            Check(
                "payments received (ledger)",
                -sum((p.amount for p in ledger if p.kind == "payment"), ZERO),
                -by_source["payment"],
            ),
            Check(
                "other postings: returns, fees, refunds, write-offs (ledger)",
                sum((p.amount for p in ledger if p.kind != "payment"), ZERO),
                by_source["posting"],
            ),
            Check(
                "Soll = Haben",
                sum((t.debit for t in totals), ZERO),
                sum((t.credit for t in totals), ZERO),
            ),
        ]
    )


def _debtor_side(entry: Booking, accounts: DatevAccounts) -> Decimal:
    """What the booking adds to the customers' debt."""
    if _is_debtor(entry.account, accounts):
        return entry.signed
    if _is_debtor(entry.contra, accounts):
        return -entry.signed
    return ZERO
