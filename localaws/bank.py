"""A simulated bank: statement files from a list of simple bookings, for the demo, the import
benchmark and tests.

``camt053`` writes CAMT.053 (001.08 or 001.02), ``camt054`` camt.054 (001.08 or 001.02) and
``mt940`` a German structured MT940, all for the same ``BankStatement``. The camt files validate
against the official schemas; every file reads back through ``shared.payments.statements``.

A ``Booking`` is one movement on our account, its amount signed from our view (received is
positive). A ``Batch`` is several bookings the bank books as one entry: with a transaction detail
each (``as_sum=False``), or as one sum that only carries the payment information id and the
count (``as_sum=True``), as many banks book a direct-debit collection.

Conventions of this bank where the formats leave room: end-to-end ids it was not given are
written ``NOTPROVIDED``; a return names the parties in their roles of the original payment
(the customer whose direct debit came back is the debtor); in MT940 a return has GVC 109
(direct debit) or 159 (transfer), its ISO reason code in the posting text ``?00``, and a
batch booked as one sum the payment information id as ``KREF+``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from lxml import etree

CamtVersion = Literal["001.02", "001.08"]
CENT = Decimal("0.01")
MT940_LINE = 65


@dataclass(frozen=True)
class Account:
    iban: str = "DE89370400440532013000"
    currency: str = "EUR"
    owner: str = "Muster Hosting GmbH"
    bic: str = "COBADEFFXXX"


@dataclass(frozen=True)
class Booking:
    amount: Decimal
    booking_date: date
    value_date: date | None = None
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    payment_info_id: str | None = None
    creditor_id: str | None = None
    remittance: str = ""
    creditor_reference: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    reversal: bool = False
    return_reason: str | None = None

    def __post_init__(self) -> None:
        if self.amount == 0 or self.amount != self.amount.quantize(CENT):
            raise ValueError(f"a booking needs a non-zero amount in cents, not {self.amount}")
        if len(self.remittance) > 140:
            raise ValueError("remittance text is at most 140 characters (SEPA)")

    @property
    def credit(self) -> bool:
        return self.amount > 0

    @property
    def direct_debit(self) -> bool:
        return self.mandate_id is not None

    @property
    def paid_to_us(self) -> bool:
        """Whether the payment (the original one, for a return) was to us."""
        return self.credit != (self.reversal or self.return_reason is not None)


@dataclass(frozen=True)
class Batch:
    bookings: tuple[Booking, ...]
    payment_info_id: str | None = None
    as_sum: bool = False

    def __post_init__(self) -> None:
        if not self.bookings:
            raise ValueError("a batch holds at least one booking")
        first = self.bookings[0]
        if any(
            (b.credit, b.booking_date, b.reversal)
            != (first.credit, first.booking_date, first.reversal)
            for b in self.bookings
        ):
            raise ValueError("a batch's bookings share direction, booking date and reversal")

    @property
    def amount(self) -> Decimal:
        return sum((b.amount for b in self.bookings), start=Decimal("0.00"))

    @property
    def first(self) -> Booking:
        return self.bookings[0]


Item = Booking | Batch


@dataclass(frozen=True)
class BankStatement:
    items: Sequence[Item]
    account: Account = field(default_factory=Account)
    statement_id: str = "STMT-2026-0001"
    sequence: int = 1
    opening_balance: Decimal = Decimal("0.00")
    created_at: datetime = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + sum((item.amount for item in self.items), Decimal("0"))

    @property
    def first_date(self) -> date:
        dates = [_booking_of(item).booking_date for item in self.items]
        return min(dates, default=self.created_at.date())

    @property
    def last_date(self) -> date:
        dates = [_booking_of(item).booking_date for item in self.items]
        return max(dates, default=self.created_at.date())

    def reference(self, position: int) -> str:
        return f"{self.statement_id[:24]}-{position:06d}"


def _booking_of(item: Item) -> Booking:
    return item.first if isinstance(item, Batch) else item


# camt ----------------------------------------------------------------------------------------


def camt053(
    *statements: BankStatement, version: CamtVersion = "001.08", message_id: str | None = None
) -> bytes:
    return _CamtWriter("camt.053", version).document(statements, message_id)


def camt054(
    *statements: BankStatement, version: CamtVersion = "001.08", message_id: str | None = None
) -> bytes:
    return _CamtWriter("camt.054", version).document(statements, message_id)


class _CamtWriter:
    def __init__(self, message: Literal["camt.053", "camt.054"], version: CamtVersion) -> None:
        self.message = message
        self.version = version
        self.ns = f"urn:iso:std:iso:20022:tech:xsd:{message}.{version}"
        self.v8 = version != "001.02"

    def document(self, statements: Sequence[BankStatement], message_id: str | None) -> bytes:
        if not statements:
            raise ValueError("a camt message holds at least one statement")
        root = etree.Element(self.q("Document"), nsmap={None: self.ns})  # type: ignore[dict-item]
        top = "BkToCstmrStmt" if self.message == "camt.053" else "BkToCstmrDbtCdtNtfctn"
        message = self.sub(root, top)
        header = self.sub(message, "GrpHdr")
        first = statements[0]
        self.sub(header, "MsgId", message_id or f"MSG-{first.statement_id}"[:35])
        self.sub(header, "CreDtTm", first.created_at.isoformat(timespec="seconds"))
        for statement in statements:
            self.statement(message, statement)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def sub(self, parent: Any, name: str, text: str | None = None, **attributes: str) -> Any:
        element = etree.SubElement(parent, self.q(name), attributes)
        if text is not None:
            element.text = text
        return element

    def path(self, parent: Any, names: str, text: str) -> Any:
        """Nested elements ``A/B/C`` with the text on the last."""
        element = parent
        for name in names.split("/"):
            element = self.sub(element, name)
        element.text = text
        return element

    def statement(self, message: Any, statement: BankStatement) -> None:
        part = self.sub(message, "Stmt" if self.message == "camt.053" else "Ntfctn")
        self.sub(part, "Id", statement.statement_id)
        self.sub(part, "ElctrncSeqNb", str(statement.sequence))
        self.sub(part, "CreDtTm", statement.created_at.isoformat(timespec="seconds"))
        self.account(part, statement.account)
        if self.message == "camt.053":
            self.balance(part, "OPBD", statement.opening_balance, statement.first_date)
            self.balance(part, "CLBD", statement.closing_balance, statement.last_date)
        for position, item in enumerate(statement.items, start=1):
            self.entry(part, statement, item, position)

    def account(self, part: Any, account: Account) -> None:
        element = self.sub(part, "Acct")
        self.path(element, "Id/IBAN", account.iban)
        self.sub(element, "Ccy", account.currency)
        self.path(element, "Ownr/Nm", account.owner)
        self.path(element, f"Svcr/FinInstnId/{self.bic_name}", account.bic)

    @property
    def bic_name(self) -> str:
        return "BICFI" if self.v8 else "BIC"

    def balance(self, part: Any, code: str, amount: Decimal, on: date) -> None:
        element = self.sub(part, "Bal")
        self.path(element, "Tp/CdOrPrtry/Cd", code)
        self.sub(element, "Amt", _amount(amount), Ccy=self.currency_of(part))
        self.sub(element, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
        self.path(element, "Dt/Dt", on.isoformat())

    def currency_of(self, part: Any) -> str:
        return str(part.findtext(f"{self.q('Acct')}/{self.q('Ccy')}"))

    def entry(self, part: Any, statement: BankStatement, item: Item, position: int) -> None:
        booking = _booking_of(item)
        currency = statement.account.currency
        entry = self.sub(part, "Ntry")
        self.sub(entry, "Amt", _amount(item.amount), Ccy=currency)
        self.sub(entry, "CdtDbtInd", _indicator(item.amount))
        if booking.reversal:
            self.sub(entry, "RvslInd", "true")
        if self.v8:
            self.path(entry, "Sts/Cd", "BOOK")
        else:
            self.sub(entry, "Sts", "BOOK")
        self.path(entry, "BookgDt/Dt", booking.booking_date.isoformat())
        self.path(entry, "ValDt/Dt", (booking.value_date or booking.booking_date).isoformat())
        self.sub(entry, "AcctSvcrRef", statement.reference(position))
        self.bank_code(entry, booking, batch=isinstance(item, Batch))
        details = self.sub(entry, "NtryDtls")
        if isinstance(item, Batch):
            self.batch(details, item, currency)
            if item.as_sum:
                return
            bookings: Iterable[Booking] = item.bookings
        else:
            bookings = (item,)
        for booking in bookings:
            self.detail(
                details,
                booking,
                currency,
                payment_info_id=_pmtinf(item, booking),
                batch=isinstance(item, Batch),
            )

    def batch(self, details: Any, batch: Batch, currency: str) -> None:
        element = self.sub(details, "Btch")
        if batch.payment_info_id:
            self.sub(element, "PmtInfId", batch.payment_info_id)
        self.sub(element, "NbOfTxs", str(len(batch.bookings)))
        self.sub(element, "TtlAmt", _amount(batch.amount), Ccy=currency)
        self.sub(element, "CdtDbtInd", _indicator(batch.amount))

    def bank_code(self, parent: Any, booking: Booking, *, batch: bool = False) -> None:
        domain, family, sub_family = _iso_code(booking, batch=batch)
        code = self.sub(parent, "BkTxCd")
        element = self.sub(code, "Domn")
        self.sub(element, "Cd", domain)
        fmly = self.sub(element, "Fmly")
        self.sub(fmly, "Cd", family)
        self.sub(fmly, "SubFmlyCd", sub_family)

    def detail(
        self,
        details: Any,
        booking: Booking,
        currency: str,
        *,
        payment_info_id: str | None,
        batch: bool,
    ) -> None:
        """One transaction detail; its bank code only in a batch (else the entry's says it)."""
        element = self.sub(details, "TxDtls")
        refs = self.sub(element, "Refs")
        if payment_info_id:
            self.sub(refs, "PmtInfId", payment_info_id)
        self.sub(refs, "EndToEndId", booking.end_to_end_id or "NOTPROVIDED")
        if booking.mandate_id:
            self.sub(refs, "MndtId", booking.mandate_id)
        if self.v8:
            self.sub(element, "Amt", _amount(booking.amount), Ccy=currency)
            self.sub(element, "CdtDbtInd", _indicator(booking.amount))
        else:
            amount = self.path(element, "AmtDtls/TxAmt/Amt", _amount(booking.amount))
            amount.set("Ccy", currency)
        if batch:
            self.bank_code(element, booking)
        self.parties(element, booking)
        self.remittance(element, booking)
        if booking.return_reason:
            self.path(element, "RtrInf/Rsn/Cd", booking.return_reason)

    def parties(self, detail: Any, booking: Booking) -> None:
        """The counterparty on its side of the booking, the creditor id on the creditor's;
        our account's owner is not repeated."""
        if not (booking.counterparty_name or booking.counterparty_iban or booking.creditor_id):
            return
        parties = self.sub(detail, "RltdPties")
        counterparty = "Dbtr" if booking.paid_to_us else "Cdtr"
        for role in ("Dbtr", "Cdtr"):  # the schema's order
            creditor_id = booking.creditor_id if role == "Cdtr" else None
            if role == counterparty:
                self.party(parties, role, booking.counterparty_name, creditor_id)
                if booking.counterparty_iban:
                    self.path(parties, f"{role}Acct/Id/IBAN", booking.counterparty_iban)
            elif creditor_id:
                self.party(parties, role, None, creditor_id)
        if booking.counterparty_bic:
            agent = f"RltdAgts/{counterparty}Agt/FinInstnId/{self.bic_name}"
            self.path(detail, agent, booking.counterparty_bic)

    def party(self, parties: Any, role: str, name: str | None, creditor_id: str | None) -> None:
        element = self.sub(parties, role)
        if self.v8:
            element = self.sub(element, "Pty")
        if name:
            self.sub(element, "Nm", name[:140])
        if creditor_id:
            other = self.sub(self.sub(self.sub(element, "Id"), "PrvtId"), "Othr")
            self.sub(other, "Id", creditor_id)
            self.path(other, "SchmeNm/Prtry", "SEPA")

    def remittance(self, detail: Any, booking: Booking) -> None:
        if not booking.remittance and not booking.creditor_reference:
            return
        information = self.sub(detail, "RmtInf")
        if booking.remittance:
            self.sub(information, "Ustrd", booking.remittance)
        if booking.creditor_reference:
            reference = self.sub(self.sub(information, "Strd"), "CdtrRefInf")
            kind = "SCOR" if booking.creditor_reference.startswith("RF") else None
            if kind:
                self.path(reference, "Tp/CdOrPrtry/Cd", kind)
            self.sub(reference, "Ref", booking.creditor_reference)


def _pmtinf(item: Item, booking: Booking) -> str | None:
    if isinstance(item, Batch):
        return booking.payment_info_id or item.payment_info_id
    return booking.payment_info_id


def _amount(amount: Decimal) -> str:
    return f"{abs(amount).quantize(CENT)}"


def _indicator(amount: Decimal) -> str:
    return "CRDT" if amount > 0 else "DBIT"


def _iso_code(booking: Booking, *, batch: bool = False) -> tuple[str, str, str]:
    """ISO bank transaction code: domain, family, sub-family."""
    if booking.reversal:
        return ("PMNT", "IDDT", "UPDD") if booking.direct_debit else ("PMNT", "ICDT", "RRTN")
    if booking.direct_debit:
        family = "IDDT" if booking.credit else "RDDT"
        return "PMNT", family, "BCDD" if batch and booking.credit else "ESDD"
    return ("PMNT", "RCDT", "ESCT") if booking.credit else ("PMNT", "ICDT", "ESCT")


# MT940 ---------------------------------------------------------------------------------------


def mt940(*statements: BankStatement, encoding: str = "utf-8") -> bytes:
    """German structured MT940 (DK rules for field 86), CRLF line ends."""
    lines: list[str] = []
    for statement in statements:
        lines += _mt940_statement(statement)
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _mt940_statement(statement: BankStatement) -> list[str]:
    currency = statement.account.currency
    lines = [
        f":20:{_swift(statement.statement_id)[:16]}",
        f":25:{statement.account.iban}",
        f":28C:{statement.sequence:05d}/001",
        f":60F:{_balance(statement.opening_balance, statement.first_date, currency)}",
    ]
    for position, item in enumerate(statement.items, start=1):
        reference = f"{statement.sequence:05d}{position:06d}"
        if isinstance(item, Batch) and not item.as_sum:
            for index, booking in enumerate(item.bookings, start=1):
                lines += _mt940_entry(booking, f"{reference}{index:03d}", _pmtinf(item, booking))
        else:
            lines += _mt940_item(item, reference)
    lines.append(f":62F:{_balance(statement.closing_balance, statement.last_date, currency)}")
    lines.append("-")
    return lines


def _mt940_item(item: Item, reference: str) -> list[str]:
    if isinstance(item, Batch):
        booking = Booking(
            amount=item.amount,
            booking_date=item.first.booking_date,
            value_date=item.first.value_date,
            payment_info_id=item.payment_info_id,
            mandate_id=item.first.mandate_id,
            reversal=item.first.reversal,
            remittance=f"SAMMLER {len(item.bookings)} POSTEN",
        )
        return _mt940_entry(booking, reference, item.payment_info_id, batch=True)
    return _mt940_entry(item, reference, item.payment_info_id)


def _mt940_entry(
    booking: Booking, reference: str, payment_info_id: str | None, *, batch: bool = False
) -> list[str]:
    value = booking.value_date or booking.booking_date
    mark = _mark(booking)
    kind = "NRTI" if booking.reversal else ("NDDT" if booking.direct_debit else "NTRF")
    amount = f"{abs(booking.amount).quantize(CENT)}".replace(".", ",")
    own = _swift(booking.end_to_end_id or "NONREF")[:16]
    line = f":61:{value:%y%m%d}{booking.booking_date:%m%d}{mark}{amount}{kind}{own}//{reference}"
    return [line, *_wrap(":86:" + _field86(booking, payment_info_id, batch=batch))]


def _mark(booking: Booking) -> str:
    if booking.reversal:
        return "RC" if not booking.credit else "RD"
    return "C" if booking.credit else "D"


def _field86(booking: Booking, payment_info_id: str | None, *, batch: bool) -> str:
    gvc, text = _gvc(booking, batch=batch)
    if booking.return_reason:
        text = f"{text} {booking.return_reason}"
    subfields = [f"?00{text[:27]}", "?10" + "9310"]
    purpose: list[str] = []
    for tag, value in (
        ("EREF+", booking.end_to_end_id),
        ("KREF+", payment_info_id),
        ("MREF+", None if batch else booking.mandate_id),
        ("CRED+", booking.creditor_id),
        ("SVWZ+", _purpose(booking)),
    ):
        if value:
            purpose += _chunks(tag + _swift(value), 27)
    codes = [f"{n}" for n in (*range(20, 30), *range(60, 64))]
    if len(purpose) > len(codes):
        raise ValueError("references and remittance do not fit into field 86")
    subfields += [f"?{code}{chunk}" for code, chunk in zip(codes, purpose, strict=False)]
    tail = []
    if booking.counterparty_bic:
        tail.append(f"?30{booking.counterparty_bic}")
    if booking.counterparty_iban:
        tail.append(f"?31{booking.counterparty_iban}")
    name = _swift(booking.counterparty_name or "")
    tail += [
        f"?{code}{chunk}" for code, chunk in zip(("32", "33"), _chunks(name, 27), strict=False)
    ]
    # subfields ?60.. follow ?3x in the DK layout
    head = [s for s in subfields if not s.startswith("?6")]
    more = [s for s in subfields if s.startswith("?6")]
    return gvc + "".join(head + tail + more)


def _purpose(booking: Booking) -> str:
    parts = [booking.remittance]
    if booking.creditor_reference:
        parts.insert(0, booking.creditor_reference)
    return " ".join(part for part in parts if part)


def _gvc(booking: Booking, *, batch: bool) -> tuple[str, str]:
    """German business transaction code (GVC) and its posting text."""
    if booking.reversal:
        return ("109", "RUECKLASTSCHRIFT") if booking.direct_debit else ("159", "RETOURE")
    if booking.direct_debit:
        if booking.credit:
            return ("192", "SAMMLER LASTSCHRIFT") if batch else ("171", "LASTSCHRIFT EINZUG")
        return "105", "BASISLASTSCHRIFT"
    return ("166", "GUTSCHRIFT") if booking.credit else ("116", "UEBERWEISUNG")


def _balance(amount: Decimal, on: date, currency: str) -> str:
    mark = "C" if amount >= 0 else "D"
    value = f"{abs(amount).quantize(CENT)}".replace(".", ",")
    return f"{mark}{on:%y%m%d}{currency}{value}"


def _chunks(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)] if text else []


def _wrap(text: str) -> list[str]:
    """Lines of at most 65 characters; no continuation line may look like a tag (":") or the
    end of a statement ("-"), so such a line takes the previous line's last character."""
    lines: list[str] = []
    rest = text
    while rest:
        cut = min(MT940_LINE, len(rest))
        while cut < len(rest) and rest[cut] in ":-" and cut > 1:
            cut -= 1
        lines.append(rest[:cut])
        rest = rest[cut:]
    return lines


_NOT_SWIFT = re.compile(r"[?\r\n]")


def _swift(text: str) -> str:
    """Text that cannot break the format: no subfield mark, no line end."""
    return _NOT_SWIFT.sub(" ", text)
