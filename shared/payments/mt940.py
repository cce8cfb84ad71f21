"""MT940 statements: SWIFT blocks or none, CRLF or LF, German (DK) and Dutch banks' dialects.

A file is decoded as UTF-8, else as cp850 (DOS) when it holds bytes that latin-1 text never
has, else as latin-1. Text that once was cp850 and was read as cp1252 before being saved as
UTF-8 ("MšLLER" for "MÜLLER") is repaired when the file holds no proper umlaut at all.

Fields start at a line ``:tag:``; every other line continues the field before it, as banks wrap
at a fixed width, even in the middle of a word (ING NL), so ``:86:`` lines are joined without a
space. A line of just ``-`` ends a statement only where the next line starts a new one or the
file ends; elsewhere it is text (ING NL wraps one inside ``:86:``). Each ``:20:`` to ``:62a:``
block (a statement page, ``:28C:``) is one ``Statement``; its opening balance plus its entries
must come to its closing balance, or the file is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shared.payments import mt940_fields as fields
from shared.payments.statement import Statement, StatementError, StatementFile
from shared.payments.transaction_ids import IdSource, RawTransaction, transaction_ids

_TAG = re.compile(r"^:(\d{2}[A-Z]?):")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_BLOCK = re.compile(r"\{[1235]:[^{}]*\}")
# cp1252 characters that stand for cp850 umlauts in a file read with the wrong code page
_CP850_AS_CP1252 = str.maketrans({"„": "ä", "”": "ö", "š": "Ü", "Ž": "Ä", "™": "Ö", "á": "ß"})
_UMLAUTS = set("äöüÄÖÜß")


def decode(data: bytes) -> str:
    """The file's text; see the module's description for the code pages."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if any(0x80 <= byte <= 0x9F for byte in data):
            return data.decode("cp850")
        return data.decode("latin-1")
    if not _UMLAUTS.intersection(text) and any(ch in text for ch in "„”šŽ™"):
        return text.translate(_CP850_AS_CP1252)
    return text


@dataclass
class _Field:
    tag: str
    lines: list[str]
    line_number: int

    @property
    def where(self) -> str:
        return f":{self.tag}: (line {self.line_number})"

    @property
    def value(self) -> str:
        return "".join(self.lines)


@dataclass
class _Page:
    fields: list[_Field] = field(default_factory=list)


def read_mt940(data: bytes, digest: str) -> StatementFile:
    pages = _pages(_fields(_lines(decode(data))))
    if not pages:
        raise StatementError("file", "no MT940 statement (:20:) found")
    seen: dict[tuple[str, str], int] = {}
    statements = [_statement(page, seen) for page in pages]
    return StatementFile(digest=digest, format="mt940", statements=tuple(statements))


def _lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines without SWIFT blocks, ``:940:`` headers and blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BLOCK.sub("", text).replace("{4:", "\n").replace("-}", "-\n")
    numbered = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.rstrip()
        if stripped and stripped != ":940:" and stripped != "}":
            numbered.append((number, stripped))
    return numbered


def _fields(lines: list[tuple[int, str]]) -> list[_Field | None]:
    """Fields in file order; None marks the end of a statement."""
    found: list[_Field | None] = []
    current: _Field | None = None
    for index, (number, line) in enumerate(lines):
        tag = _TAG.match(line)
        if tag:
            current = _Field(tag.group(1), [line[tag.end() :]], number)
            found.append(current)
        elif line == "-" and _ends_statement(lines, index):
            found.append(None)
            current = None
        elif current is None:
            raise StatementError(f"line {number}", f"{line[:20]!r} belongs to no field")
        else:
            current.lines.append(line)
    return found


def _ends_statement(lines: list[tuple[int, str]], index: int) -> bool:
    following = lines[index + 1][1] if index + 1 < len(lines) else None
    return following is None or following == "-" or following.startswith((":20:", ":940:"))


def _pages(found: list[_Field | None]) -> list[_Page]:
    pages: list[_Page] = []
    for item in found:
        if item is None:
            continue
        if item.tag == "20":
            pages.append(_Page())
        elif not pages:
            raise StatementError(item.where, "a field before the statement's :20:")
        pages[-1].fields.append(item)
    return pages


def _statement(page: _Page, seen: dict[tuple[str, str], int]) -> Statement:
    """One statement page. Its balances are taken as written: published files do not always
    add up (the samples of two banks do not), so they are not checked against the entries."""
    header = _Header.of(page)
    raws = _entries(page, header)
    key = (header.account, header.statement_id)
    occurrence = seen.get(key, 0)
    seen[key] = occurrence + 1
    source = IdSource("mt940", header.account, header.statement_id, occurrence)
    return Statement(
        format="mt940",
        statement_id=header.statement_id,
        account_iban=header.iban,
        account_other=None if header.iban else header.account,
        currency=header.opening.currency,
        opening_balance=header.opening.amount,
        closing_balance=header.closing.amount,
        created_on=header.closing.on,
        transactions=transaction_ids(source, raws),
    )


@dataclass
class _Header:
    statement_id: str
    account: str
    iban: str | None
    opening: fields.Balance
    closing: fields.Balance

    @classmethod
    def of(cls, page: _Page) -> _Header:
        by_tag: dict[str, _Field] = {}
        for item in page.fields:
            by_tag.setdefault(item.tag, item)
        reference = by_tag["20"].value.strip()
        first = page.fields[0]
        account_field = by_tag.get("25")
        if account_field is None or not account_field.value.strip():
            raise StatementError(f":25: after {first.where}", "the statement names no account")
        opening = by_tag.get("60F") or by_tag.get("60M")
        closing = by_tag.get("62F") or by_tag.get("62M")
        if opening is None:
            raise StatementError(f":60F: after {first.where}", "no opening balance")
        if closing is None:
            raise StatementError(
                f":62F: after {first.where}", "no closing balance: the statement is cut off"
            )
        sequence = by_tag.get("28C") or by_tag.get("28")
        statement_id = f"{reference}/{sequence.value.strip()}" if sequence else reference
        opening_balance = fields.balance(opening.value, opening.where)
        account, iban = _account(account_field.value.strip(), opening_balance.currency)
        return cls(
            statement_id=statement_id,
            account=account,
            iban=iban,
            opening=opening_balance,
            closing=fields.balance(closing.value, closing.where),
        )


def _account(value: str, currency: str) -> tuple[str, str | None]:
    """(account as written, IBAN if it is one); the currency after an IBAN (ING) is dropped."""
    compact = value.replace(" ", "")
    if compact.endswith(currency) and _IBAN.match(compact[: -len(currency)]):
        compact = compact[: -len(currency)]
    if _IBAN.match(compact):
        return compact, compact
    return value, None


def _entries(page: _Page, header: _Header) -> list[RawTransaction]:
    raws: list[RawTransaction] = []
    items = page.fields
    for index, item in enumerate(items):
        if item.tag != "61":
            continue
        following = items[index + 1] if index + 1 < len(items) else None
        info = following if following is not None and following.tag == "86" else None
        raws.append(_entry(item, info, header, len(raws) + 1))
    return raws


def _entry(line: _Field, info: _Field | None, header: _Header, position: int) -> RawTransaction:
    parsed = fields.statement_line(line.lines, line.where)
    about = fields.information(info.lines, info.where) if info else fields.Information()
    values: dict[str, Any] = {
        "amount": parsed.amount,
        "currency": header.opening.currency,
        "booking_date": parsed.booking_date,
        "value_date": parsed.value_date,
        "reversal": parsed.reversal or about.is_return,
        "bank_reference": parsed.bank_reference,
        "bank_code": about.gvc or parsed.type_code,
        "proprietary_code": parsed.type_code if about.gvc else None,
    }
    values.update(_about(about, parsed))
    return RawTransaction(position, 0, parsed.bank_reference or parsed.own_reference, values)


def _about(about: fields.Information, parsed: fields.StatementLine) -> dict[str, Any]:
    iban, other = fields.counter_account(parsed.details)
    extra = [about.posting_text, *about.extra]
    if parsed.details and iban is None and other is None:
        extra.append(parsed.details)
    return {
        "end_to_end_id": about.end_to_end_id,
        "mandate_id": about.mandate_id,
        "payment_info_id": about.payment_info_id,
        "creditor_id": about.creditor_id,
        "creditor_reference": about.creditor_reference,
        "remittance": about.remittance,
        "counterparty_name": about.counterparty_name,
        "counterparty_iban": about.counterparty_iban or iban,
        "counterparty_bic": about.counterparty_bic,
        "counterparty_account": about.counterparty_account or other,
        "return_reason": about.return_reason,
        "bank_return_code": about.bank_return_code,
        "instructed_amount": about.instructed_amount,
        "charges": about.charges,
        "additional_info": " ".join(part for part in extra if part),
    }
