"""ISO 20022 bank-to-customer messages: camt.052 (report), camt.053 (statement), camt.054
(notification), any version, read by element name within the document's own namespace.

The parser is lxml's, hardened: no entities resolved, no network, no DTD loaded, no huge trees,
and a document that declares a DOCTYPE at all is refused before anything in it is used. Entries
are read one by one from an ``iterparse`` and cleared, so memory stays flat however long the
file is; the statement around them is assembled when its element ends, so nothing depends on
the order of elements inside it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from shared.payments.camt_entries import EntryReader
from shared.payments.statement import Statement, StatementError, StatementFile, StatementFormat
from shared.payments.transaction_ids import IdSource, RawTransaction, transaction_ids

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.(\d{3}\.\d{2})$")
# message element under Document, and the element of one statement inside it
MESSAGES: dict[str, tuple[StatementFormat, str]] = {
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
OPENING_BALANCES = ("OPBD", "PRCD", "ITBD")
CLOSING_BALANCES = ("CLBD", "ITBD")
_WATCHED = ("Document", "GrpHdr", "Ntry", *MESSAGES, *(part for _, part in MESSAGES.values()))


def parser_options() -> dict[str, bool]:
    """What every lxml parse of a bank file must be given."""
    return {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


@dataclass
class _Message:
    """What the reader has learnt so far about the document it reads."""

    namespace: str = ""
    format: StatementFormat = "camt.053"
    version: str = ""
    part: str = ""
    message_id: str | None = None
    created_on: str | None = None
    statements: list[Statement] = field(default_factory=list)
    entries: list[list[RawTransaction]] = field(default_factory=list)
    seen_keys: dict[tuple[str, str], int] = field(default_factory=dict)
    reader: EntryReader | None = None


def read_camt(data: bytes, digest: str) -> StatementFile:
    _refuse_doctype(data)
    message = _Message()
    try:
        for event, element in _events(data):
            _handle(message, event, element)
    except etree.XMLSyntaxError as error:
        line = f"line {error.lineno}" if error.lineno else "file"
        raise StatementError(line, f"not well-formed XML: {error.msg}") from None
    if not message.part:
        raise StatementError("file", "no camt message found in the document")
    if not message.statements:
        raise StatementError(message.part, "the message holds no statement")
    if message.message_id is not None:  # a group header after the statements
        message.statements = [
            s if s.message_id else s.model_copy(update={"message_id": message.message_id})
            for s in message.statements
        ]
    return StatementFile(digest=digest, format=message.format, statements=tuple(message.statements))


_ROOT_START = re.compile(rb"<(?![?!])")


def _refuse_doctype(data: bytes) -> None:
    """A DOCTYPE stands before the root element; refused before the parser sees its entities
    (lxml checks again once the root starts, for encodings this byte scan cannot read)."""
    root = _ROOT_START.search(data)
    if b"<!DOCTYPE" in data[: root.start() if root else len(data)]:
        raise StatementError("file", _DOCTYPE_REFUSED)


_DOCTYPE_REFUSED = "the document declares a DOCTYPE; bank files never need one (refused)"


def _events(data: bytes) -> Iterator[tuple[str, Any]]:
    tags = [f"{{*}}{name}" for name in _WATCHED]
    source = io.BytesIO(data)
    parse = etree.iterparse(source, events=("start", "end"), tag=tags, **parser_options())
    yield from parse


def _handle(message: _Message, event: str, element: Any) -> None:
    name = element.tag.rpartition("}")[2]
    if event == "start":
        if name == "Document" and not message.namespace:
            _start_document(message, element)
        elif name in MESSAGES:
            _start_message(message, name)
        elif name == message.part:
            message.entries.append([])
        return
    if name == "Ntry" and message.reader is not None:
        _end_entry(message, element)
    elif name == "GrpHdr":
        message.message_id = _text(element, message.namespace, "MsgId")
        message.created_on = _text(element, message.namespace, "CreDtTm")
    elif name == message.part and element.getparent() is not None:
        _end_statement(message, element)
        element.clear()


def _start_document(message: _Message, root: Any) -> None:
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None:
        raise StatementError("file", _DOCTYPE_REFUSED)
    if root.getparent() is not None:
        raise StatementError("Document", "Document is not the root element")
    namespace = root.tag.partition("}")[0].lstrip("{")
    found = NAMESPACE.match(namespace)
    if found is None:
        raise StatementError("Document", f"unknown namespace {namespace!r}: not a camt message")
    message.namespace = namespace
    message.format = found.group(1)  # type: ignore[assignment]
    message.version = found.group(2)
    message.reader = EntryReader(namespace)


def _start_message(message: _Message, name: str) -> None:
    if not message.namespace:
        raise StatementError(name, "the message is not inside a camt Document")
    expected, part = MESSAGES[name]
    if expected != message.format:
        raise StatementError(
            name, f"a {expected} message under the {message.format} namespace {message.namespace}"
        )
    message.part = part


def _end_entry(message: _Message, entry: Any) -> None:
    parent = entry.getparent()
    if parent is None or parent.tag.rpartition("}")[2] != message.part or not message.entries:
        raise StatementError("Ntry", f"an entry outside a {message.part} element")
    entries = message.entries[-1]
    position = len(entries) + 1
    assert message.reader is not None
    where = f"{message.part}[{len(message.statements) + 1}]/Ntry[{position}]"
    entries.extend(message.reader.read(entry, where, position))
    entry.clear()
    previous = entry.getprevious()
    while previous is not None and previous.tag == entry.tag:
        parent.remove(previous)
        previous = entry.getprevious()


def _end_statement(message: _Message, element: Any) -> None:
    ns = message.namespace
    where = f"{message.part}[{len(message.statements) + 1}]"
    statement_id = _text(element, ns, "Id")
    if not statement_id:
        raise StatementError(f"{where}/Id", "the statement has no identification")
    iban = _text(element, ns, "Acct/Id/IBAN")
    other = _text(element, ns, "Acct/Id/Othr/Id")
    if not iban and not other:
        raise StatementError(f"{where}/Acct", "the statement names no account")
    account = iban or other or ""
    raw = message.entries.pop() if message.entries else []
    key = (account, statement_id)
    occurrence = message.seen_keys.get(key, 0)
    message.seen_keys[key] = occurrence + 1
    source = IdSource(message.format, account, statement_id, occurrence)
    created = _text(element, ns, "CreDtTm") or message.created_on
    balances = _balances(element, ns, where)
    message.statements.append(
        Statement(
            format=message.format,
            version=message.version,
            message_id=message.message_id,
            statement_id=statement_id,
            account_iban=iban,
            account_other=None if iban else other,
            currency=_text(element, ns, "Acct/Ccy"),
            opening_balance=_first_balance(balances, OPENING_BALANCES),
            closing_balance=_first_balance(balances, CLOSING_BALANCES, last=True),
            created_on=_date_part(created),
            transactions=transaction_ids(source, raw),
        )
    )


def _balances(element: Any, ns: str, where: str) -> list[tuple[str, Decimal]]:
    balances = []
    for index, balance in enumerate(element.iterfind(f"{{{ns}}}Bal"), start=1):
        code = _text(balance, ns, "Tp/CdOrPrtry/Cd") or _text(balance, ns, "Tp/CdOrPrtry/Prtry")
        amount = EntryReader.decimal(_text(balance, ns, "Amt"), f"{where}/Bal[{index}]/Amt")
        indicator = _text(balance, ns, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise StatementError(f"{where}/Bal[{index}]/CdtDbtInd", "must be CRDT or DBIT")
        balances.append((code or "", amount if indicator == "CRDT" else -amount))
    return balances


def _first_balance(
    balances: list[tuple[str, Decimal]], codes: tuple[str, ...], *, last: bool = False
) -> Decimal | None:
    ordered = reversed(balances) if last else iter(balances)
    candidates = list(ordered)
    for code in codes:
        for found, amount in candidates:
            if found == code:
                return amount
    return None


def _text(element: Any, ns: str, path: str) -> str | None:
    value = element.findtext("/".join(f"{{{ns}}}{step}" for step in path.split("/")))
    if value is None:
        return None
    value = value.strip()
    return value or None


def _date_part(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
