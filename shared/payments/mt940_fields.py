"""The MT940 fields that carry the data: balances (``:60a:``, ``:62a:``), the statement line
(``:61:``) and the information to the account owner (``:86:``), German (DK) and Dutch.

German ``:86:`` is ``GVC?00text?10primanota?20..?29 purpose?30 BLZ/BIC?31 account/IBAN?32..?33
name?34 code?60..?63 purpose``, its purpose carrying SEPA tags (``EREF+``, ``MREF+``, ...), each
at the start of a subfield and continued in the next ones. A purpose subfield holds at most 27
characters: a full one goes on in the next without a space, a shorter one ended a word. Dutch
banks write ``/TAG/value`` pairs instead (``/EREF/``, ``/RTRN/``, ``/REMI/``, ``/ORDP//NAME/``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from shared.payments.statement import StatementError

SUBFIELD_WIDTH = 27
# ISO 20022 return reason codes, as banks give them in MT940 texts
ISO_RETURN_REASONS = frozenset(
    [
        "AC01",
        "AC04",
        "AC06",
        "AC13",
        "AG01",
        "AG02",
        "AM04",
        "AM05",
        "BE05",
        "CNOR",
        "DNOR",
        "FF01",
        "MD01",
        "MD02",
        "MD06",
        "MD07",
        "MS02",
        "MS03",
        "RC01",
        "RR01",
        "RR02",
        "RR03",
        "RR04",
        "SL01",
        "FOCR",
        "DUPL",
        "TECH",
        "FRAD",
        "CUST",
        "NARR",
        "UPAY",
        "AC03",
        "AM09",
    ]
)
# German business transaction codes of returns: direct debit returned (108, 109), transfer
# returned (159)
RETURN_GVCS = frozenset({"108", "109", "159"})
RETURN_WORDS = ("RETOURE", "RUECKLASTSCHRIFT", "RÜCKLASTSCHRIFT", "RUECKBELASTUNG", "RÜCKBELAST")
SEPA_TAGS: tuple[str, ...] = (
    *("EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ"),
    *("ABWA", "ABWE", "IBAN", "BIC", "COAM", "OAMT"),
)
DUTCH_TAGS = [
    "EREF",
    "PREF",
    "MARF",
    "CSID",
    "CNTP",
    "REMI",
    "RTRN",
    "TRCD",
    "ORDP",
    "BENM",
    "ISDT",
    "NAME",
    "ADDR",
    "ULTD",
    "ULTB",
    "ULTC",
    "PURP",
    "SVCL",
    "RTYP",
    "RETR",
    "BUSP",
    "EXCH",
    "CHGS",
    "IBAN",
    "BIC",
    "TRTP",
    "NRTX",
    "PIND",
    "ID",
]

_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|EC|ED|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[NFS][A-Z0-9]{3})?(?P<own>.*?)(?://(?P<bank>.*))?$"
)
_AMOUNT = re.compile(r"^\d{1,18},\d{0,3}$")
_GVC = re.compile(r"^(\d{3})\?")
_SUBFIELD = re.compile(r"\?(\d{2})")
_DUTCH = re.compile(r"/(" + "|".join(DUTCH_TAGS) + r")/")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_TOKEN = re.compile(r"\b[A-Z]{2}\d{2}\b|\b[A-Z]{4}\b")


def amount(value: str, where: str) -> Decimal:
    """An MT940 amount: digits with a decimal comma, ``300,`` being 300.00."""
    if not _AMOUNT.match(value):
        raise StatementError(where, f"{value!r} is not an amount (digits with a decimal comma)")
    whole, _, cents = value.partition(",")
    return Decimal(f"{whole}.{cents:0<2}")


def yymmdd(value: str, where: str) -> date:
    """A SWIFT date; years 00-79 are 2000-2079, 80-99 are 1980-1999."""
    try:
        year = int(value[:2])
        return date(2000 + year if year < 80 else 1900 + year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise StatementError(where, f"{value!r} is not a date (YYMMDD)") from None


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    on: date
    currency: str


def balance(value: str, where: str) -> Balance:
    found = _BALANCE.match(value.replace("\n", "").strip())
    if found is None:
        raise StatementError(where, f"{value!r} is not a balance (C/D, YYMMDD, currency, amount)")
    number = amount(found["amount"], where)
    return Balance(
        number if found["mark"] == "C" else -number,
        yymmdd(found["date"], where),
        found["currency"],
    )


@dataclass(frozen=True)
class StatementLine:
    """A ``:61:``: signed amount (from our account's view), dates, references."""

    amount: Decimal
    value_date: date
    booking_date: date
    reversal: bool
    type_code: str | None
    own_reference: str | None
    bank_reference: str | None
    details: str


def statement_line(lines: list[str], where: str) -> StatementLine:
    first, rest = lines[0].strip(), [line.strip() for line in lines[1:]]
    found = _LINE.match(first)
    if found is None:
        raise StatementError(where, _line_problem(first))
    value_date = yymmdd(found["value"], where)
    booking_date = _entry_date(found["entry"], value_date, where)
    number = amount(found["amount"], where)
    mark = found["mark"]
    # C credit, D debit; RC reverses a credit (money leaves), RD reverses a debit
    credit = mark in ("C", "RD", "EC")
    bank = found["bank"]
    if bank is not None and rest and _continues_reference(bank, rest[0]):
        bank += rest.pop(0)
    return StatementLine(
        amount=number if credit else -number,
        value_date=value_date,
        booking_date=booking_date,
        reversal=mark in ("RC", "RD"),
        type_code=found["type"],
        own_reference=_reference(found["own"]),
        bank_reference=_reference(bank),
        details="".join(rest),
    )


def _line_problem(line: str) -> str:
    if not re.match(r"^\d{6}", line):
        return f"{line[:20]!r} does not start with a value date (YYMMDD)"
    if not re.match(r"^\d{6}(\d{4})?(RC|RD|EC|ED|C|D)", line):
        return f"{line[:20]!r} has no credit/debit mark (C, D, RC, RD) after the dates"
    return f"{line[:30]!r} has no amount (digits with a decimal comma) after the mark"


def _entry_date(value: str | None, value_date: date, where: str) -> date:
    """The booking (entry) date MMDD, in the year that puts it nearest the value date."""
    if value is None:
        return value_date
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, int(value[:2]), int(value[2:])))
        except ValueError:
            continue
    if not candidates:
        raise StatementError(where, f"{value!r} is not an entry date (MMDD)")
    return min(candidates, key=lambda day: abs((day - value_date).days))


def _continues_reference(reference: str, line: str) -> bool:
    """ING wraps a bank reference onto the next line; the details line starts otherwise."""
    return bool(re.fullmatch(r"[0-9A-Za-z]+", line)) and len(reference) + len(line) <= 16


def _reference(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", "NONREF", "NOTPROVIDED") else value


@dataclass
class Information:
    """What an ``:86:`` says about a transaction."""

    gvc: str | None = None
    posting_text: str = ""
    remittance: str = ""
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    payment_info_id: str | None = None
    creditor_id: str | None = None
    creditor_reference: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    counterparty_account: str | None = None
    return_reason: str | None = None
    bank_return_code: str | None = None
    instructed_amount: Decimal | None = None
    charges: Decimal | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def is_return(self) -> bool:
        text = self.posting_text.upper()
        return (
            self.gvc in RETURN_GVCS
            or self.return_reason is not None
            or any(word in text for word in RETURN_WORDS)
        )


def information(lines: list[str], where: str) -> Information:
    """Parse an ``:86:``; its lines are joined as the bank wrapped them."""
    structured = "".join(lines)
    if _GVC.match(structured):
        return german(structured, where)
    if _DUTCH.match(structured):
        return dutch(structured)
    return Information(remittance=" ".join(" ".join(line.split()) for line in lines).strip())


def german(text: str, where: str) -> Information:
    gvc = text[:3]
    info = Information(gvc=gvc)
    subfields = _subfields(text[3:])
    info.posting_text = " ".join(subfields.get("00", "").split())
    purpose = [subfields[code] for code in _PURPOSE_CODES if code in subfields]
    _sepa(info, _segments(purpose, sepa=gvc.startswith("1")), where)
    _german_counterparty(info, subfields)
    code = subfields.get("34", "").strip()
    if code:
        info.bank_return_code = code if info.is_return else None
    if info.return_reason is None and info.is_return:
        info.return_reason = _iso_reason(f"{info.posting_text} {info.remittance}")
    return info


_PURPOSE_CODES = [f"{code}" for code in (*range(20, 30), *range(60, 64))]


def _subfields(text: str) -> dict[str, str]:
    """``?xx`` subfields by code; text before the first one is dropped."""
    found: dict[str, str] = {}
    marks = list(_SUBFIELD.finditer(text))
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        code = mark.group(1)
        value = text[mark.end() : end]
        found[code] = found[code] + value if code in found else value
    return found


def _segments(purpose: list[str], *, sepa: bool) -> list[tuple[str | None, str]]:
    """Purpose subfields into (SEPA tag, text) segments. A tag starts a subfield; its value
    runs on into the next subfields only while they are full (27 characters), without a
    space. Pre-SEPA texts (GVC 0xx) are lines of their own, joined with a space."""
    segments: list[list[str | None]] = []
    previous = ""
    for subfield in purpose:
        tag = next((t for t in SEPA_TAGS if subfield.startswith(t + "+")), None) if sepa else None
        runs_on = sepa and len(previous) >= SUBFIELD_WIDTH
        if tag is not None:
            segments.append([tag, subfield[len(tag) + 1 :]])
        elif segments and (runs_on or segments[-1][0] is None):
            joint = "" if runs_on else " "
            segments[-1][1] = f"{segments[-1][1]}{joint}{subfield}"
        else:
            segments.append([None, subfield])
        previous = subfield
    return [(tag, " ".join((value or "").split())) for tag, value in segments]


def _sepa(info: Information, segments: list[tuple[str | None, str]], where: str) -> None:
    texts: list[str] = []
    for tag, value in segments:
        if tag is None or tag == "SVWZ":
            texts.append(value)
        elif tag == "EREF":
            info.end_to_end_id = _reference(value)
        elif tag == "KREF":
            info.payment_info_id = _reference(value)
        elif tag == "MREF":
            info.mandate_id = _reference(value)
        elif tag == "CRED":
            info.creditor_id = _reference(value)
        else:
            _sepa_other(info, tag, value, where)
    info.remittance = " ".join(text for text in texts if text)


def _sepa_other(info: Information, tag: str, value: str, where: str) -> None:
    if tag == "IBAN" and _IBAN.match(value.replace(" ", "")):
        info.counterparty_iban = value.replace(" ", "")
    elif tag == "BIC" and _BIC.match(value):
        info.counterparty_bic = value
    elif tag in ("OAMT", "COAM"):
        number = _sepa_amount(value, f"{where} {tag}+")
        if tag == "OAMT":
            info.instructed_amount = number
        else:
            info.charges = number
    else:
        info.extra.append(f"{tag}: {value}")


def _sepa_amount(value: str, where: str) -> Decimal:
    cleaned = value.replace(".", "").strip()
    return amount(cleaned if "," in cleaned else cleaned + ",", where)


def _german_counterparty(info: Information, subfields: dict[str, str]) -> None:
    bank = subfields.get("30", "").strip()
    account = subfields.get("31", "").strip()
    if _IBAN.match(account):
        info.counterparty_iban = info.counterparty_iban or account
    elif account:
        info.counterparty_account = f"{bank}/{account}" if bank else account
    if _BIC.match(bank):
        info.counterparty_bic = info.counterparty_bic or bank
    first, second = subfields.get("32", ""), subfields.get("33", "")
    joint = "" if len(first) >= SUBFIELD_WIDTH else " "
    name = " ".join((first + joint + second).split()) if second else " ".join(first.split())
    info.counterparty_name = name or None


def _iso_reason(text: str) -> str | None:
    return next((t for t in _TOKEN.findall(text.upper()) if t in ISO_RETURN_REASONS), None)


def dutch(text: str) -> Information:
    """``/TAG/value`` pairs (ING, Rabobank, ABN AMRO)."""
    info = Information()
    pairs = _dutch_pairs(text)
    for tag, value in pairs:
        _dutch_pair(info, tag, value)
    return info


def _dutch_pairs(text: str) -> list[tuple[str, str]]:
    marks = list(_DUTCH.finditer(text))
    pairs = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        pairs.append((mark.group(1), text[mark.end() : end].strip("/")))
    return pairs


def _dutch_pair(info: Information, tag: str, value: str) -> None:
    value = " ".join(value.split())
    if tag == "EREF":
        info.end_to_end_id = _reference(value)
    elif tag == "PREF":
        info.payment_info_id = _reference(value)
    elif tag == "MARF":
        info.mandate_id = _reference(value)
    elif tag == "CSID":
        info.creditor_id = _reference(value)
    elif tag == "RTRN":
        code = value.split("/")[0].strip()
        info.return_reason = code or None
    elif tag == "NAME":
        info.counterparty_name = value or None
    elif tag in ("CNTP", "REMI", "IBAN", "BIC"):
        _dutch_party_or_text(info, tag, value)


def _dutch_party_or_text(info: Information, tag: str, value: str) -> None:
    if tag == "CNTP":
        account, bic, name = ([*value.split("/"), "", "", ""])[:3]
        _dutch_account(info, account.strip())
        info.counterparty_bic = bic.strip() or None
        info.counterparty_name = name.strip() or None
    elif tag == "REMI":
        if value.startswith("USTD"):
            info.remittance = value[4:].lstrip("/").strip()
        elif value.startswith("STRD"):
            parts = [part for part in value.split("/") if part]
            info.creditor_reference = parts[-1] if len(parts) > 1 else None
        else:
            info.remittance = value
    elif tag == "IBAN":
        _dutch_account(info, value)
    elif tag == "BIC":
        info.counterparty_bic = value or None


def _dutch_account(info: Information, account: str) -> None:
    if _IBAN.match(account):
        info.counterparty_iban = account
    elif account:
        info.counterparty_account = account


def counter_account(details: str) -> tuple[str | None, str | None]:
    """(IBAN, other account) of a ``:61:`` details line that holds just the counter account
    (Rabobank)."""
    value = details.strip()
    if _IBAN.match(value):
        return value, None
    if re.fullmatch(r"P?\d{6,18}", value):
        return None, value
    return None, None
