"""One camt ``Ntry`` into its transactions: one per ``TxDtls``, or the entry itself.

Elements are looked up by name among their parent's children (a dictionary of the children is
made once per element), never by position, so entries whose elements stand in another order
than the schema's read the same. Versions differ in a few places, and both forms are read: a
party's name directly under ``Dbtr`` (001.02) or under ``Dbtr/Pty`` (001.04 and later),
``BIC`` or ``BICFI``, charges as ``Chrgs`` with an amount each (001.02) or as ``Chrgs/Rcrd``
records, a detail's amount as ``Amt`` or ``AmtDtls/TxAmt/Amt``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from shared.payments.statement import StatementError
from shared.payments.transaction_ids import RawTransaction

AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
RATE = re.compile(r"^\d{1,11}(\.\d{1,10})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
NOT_PROVIDED = "NOTPROVIDED"
_NAMES = [
    "Amt",
    "AcctSvcrRef",
    "AddtlInf",
    "AddtlNtryInf",
    "AddtlTxInf",
    "AmtDtls",
    "BIC",
    "BICFI",
    "BkTxCd",
    "BookgDt",
    "Btch",
    "Cd",
    "CdtDbtInd",
    "Cdtr",
    "CdtrAcct",
    "CdtrAgt",
    "CdtrRefInf",
    "Chrgs",
    "CntrValAmt",
    "CcyXchg",
    "Dbtr",
    "DbtrAcct",
    "DbtrAgt",
    "Domn",
    "Dt",
    "DtTm",
    "EndToEndId",
    "Fmly",
    "FinInstnId",
    "IBAN",
    "Id",
    "InstdAmt",
    "MndtId",
    "NbOfTxs",
    "Nm",
    "NtryDtls",
    "Othr",
    "PmtInfId",
    "Prtry",
    "PrvtId",
    "Pty",
    "Rcrd",
    "Ref",
    "Refs",
    "RltdAgts",
    "RltdPties",
    "RmtInf",
    "Rsn",
    "RtrInf",
    "RvslInd",
    "Strd",
    "Sts",
    "SubFmlyCd",
    "TtlChrgsAndTaxAmt",
    "TxAmt",
    "TxDtls",
    "Ustrd",
    "ValDt",
    "XchgRate",
]


class Tags:
    """The qualified tag of every element the reader looks at, in one namespace."""

    def __init__(self, namespace: str) -> None:
        for name in _NAMES:
            setattr(self, name, f"{{{namespace}}}{name}")

    def __getattr__(self, name: str) -> str:  # only reached for names not set above
        raise AttributeError(name)


def kids(element: Any) -> dict[str, Any]:
    """The children by tag. Elements that may repeat are read by iterating, not from here."""
    return {child.tag: child for child in element}


def text_of(element: Any) -> str | None:
    if element is None:
        return None
    value = element.text
    if value is None:
        return None
    value = value.strip()
    return value or None


def plain(text: str) -> str:
    """Free text on one line: pretty-printed files wrap long texts over indented lines."""
    return " ".join(text.split())


class EntryReader:
    """Reads the entries of documents in one namespace."""

    def __init__(self, namespace: str) -> None:
        self.t = Tags(namespace)

    def read(self, entry: Any, where: str, position: int) -> list[RawTransaction]:
        t = self.t
        top = kids(entry)
        head = self.head(top, where)
        details: list[Any] = []
        batch = None
        for entry_details in entry.iterchildren(t.NtryDtls):
            for child in entry_details:
                if child.tag == t.TxDtls:
                    details.append(child)
                elif child.tag == t.Btch and batch is None:
                    batch = kids(child)
        batch_count = self.batch_count(batch, where)
        head.payment_info_id = text_of(batch.get(t.PmtInfId)) if batch else None
        if head.payment_info_id is None:
            head.payment_info_id = _dutch_payment_reference(text_of(top.get(t.AddtlNtryInf)))
        if not details:
            fields = head.transaction(top, {}, where)
            fields["batch_count"] = batch_count
            return [RawTransaction(position, 0, fields["bank_reference"], fields)]
        alone = len(details) == 1
        transactions = []
        for index, detail in enumerate(details, start=1):
            detail_where = f"{where}/NtryDtls/TxDtls[{index}]"
            fields = head.transaction(top, kids(detail), detail_where, alone=alone)
            if alone and batch_count and batch_count > 1 and not head.own_amount:
                fields["batch_count"] = batch_count
            transactions.append(RawTransaction(position, index, fields["bank_reference"], fields))
        if alone:
            _booked_amount(head, fields)
        _check_sum(head, transactions, where)
        return transactions

    def head(self, top: dict[str, Any], where: str) -> _Head:
        t = self.t
        amount, currency = self.amount(top.get(t.Amt), f"{where}/Amt")
        credit = self.indicator(top.get(t.CdtDbtInd), f"{where}/CdtDbtInd")
        if credit is None:
            raise StatementError(f"{where}/CdtDbtInd", "the credit/debit indicator is missing")
        booking = self.date(top.get(t.BookgDt), f"{where}/BookgDt")
        value = self.date(top.get(t.ValDt), f"{where}/ValDt")
        if booking is None and value is None:
            raise StatementError(f"{where}/BookgDt", "the entry has neither booking nor value date")
        head = _Head(self, amount, currency, credit)
        head.booking_date = booking or value
        head.value_date = value
        head.reversal = (text_of(top.get(t.RvslInd)) or "false").lower() in ("true", "1")
        head.status = self.status(top.get(t.Sts))
        head.reference = _reference(text_of(top.get(t.AcctSvcrRef)))
        return head

    def status(self, element: Any) -> str | None:
        """BOOK, PDNG, INFO: a code (001.02) or ``Cd``/``Prtry`` inside (later versions)."""
        if element is None:
            return None
        return text_of(element) or next((text_of(code) for code in element), None)

    def amount(self, element: Any, where: str) -> tuple[Decimal, str]:
        if element is None:
            raise StatementError(where, "the amount is missing")
        value = self.decimal(text_of(element), where)
        currency = element.get("Ccy", "")
        if not CURRENCY.match(currency):
            raise StatementError(where, f"currency {currency!r} is not an ISO 4217 code")
        return value, currency

    @staticmethod
    def decimal(value: str | None, where: str) -> Decimal:
        if value is None:
            raise StatementError(where, "the amount is missing")
        if not AMOUNT.match(value):
            raise StatementError(where, f"{value!r} is not an amount (digits and a point)")
        return Decimal(value)

    @staticmethod
    def indicator(element: Any, where: str) -> bool | None:
        value = text_of(element)
        if value is None:
            return None
        if value not in ("CRDT", "DBIT"):
            raise StatementError(where, f"{value!r} is neither CRDT nor DBIT")
        return value == "CRDT"

    def date(self, element: Any, where: str) -> date | None:
        if element is None:
            return None
        value = None
        for child in element:
            if child.tag == self.t.Dt:
                value = text_of(child)
            elif child.tag == self.t.DtTm and value is None:
                value = (text_of(child) or "")[:10]
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise StatementError(where, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def batch_count(self, batch: dict[str, Any] | None, where: str) -> int | None:
        value = text_of(batch.get(self.t.NbOfTxs)) if batch else None
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            raise StatementError(f"{where}/NtryDtls/Btch/NbOfTxs", f"{value!r} is not a count")
        return int(value)

    @staticmethod
    def path(found: dict[str, Any], *names: str) -> Any:
        """The element at ``names`` below the children ``found``, or None."""
        element = found.get(names[0])
        for name in names[1:]:
            if element is None:
                return None
            element = kids(element).get(name)
        return element

    def bank_code(self, code: Any) -> tuple[str | None, str | None]:
        """(ISO domain/family/sub-family or the proprietary code, the proprietary code beside
        an ISO one)."""
        t = self.t
        if code is None:
            return None, None
        iso = proprietary = None
        for part in code:
            if part.tag == t.Domn:
                iso = self.domain(part)
            elif part.tag == t.Prtry:
                proprietary = text_of(kids(part).get(t.Cd))
        if iso:
            return iso, proprietary
        return proprietary, None

    def domain(self, domain: Any) -> str | None:
        t = self.t
        codes: list[str | None] = [None, None, None]
        for part in domain:
            if part.tag == t.Cd:
                codes[0] = text_of(part)
            elif part.tag == t.Fmly:
                for inner in part:
                    if inner.tag == t.Cd:
                        codes[1] = text_of(inner)
                    elif inner.tag == t.SubFmlyCd:
                        codes[2] = text_of(inner)
        return "/".join(codes) if all(codes) else None  # type: ignore[arg-type]

    def charges(self, found: dict[str, Any], element: Any) -> Decimal | None:
        """Charges of an entry or detail: a total, else the sum of the records."""
        t = self.t
        if t.Chrgs not in found:
            return None
        amounts = []
        for charges in element.iterchildren(t.Chrgs):
            parts = kids(charges)
            total = parts.get(t.TtlChrgsAndTaxAmt)
            if total is not None:
                return self.decimal(text_of(total), "Chrgs/TtlChrgsAndTaxAmt")
            if t.Amt in parts:
                amounts.append(parts[t.Amt])
            amounts.extend(charges.iterchildren(t.Rcrd))
        values = [
            self.decimal(text_of(a if a.tag == t.Amt else a.find(t.Amt)), "Chrgs/Amt")
            for a in amounts
        ]
        return sum(values, start=Decimal("0")) if values else None

    def amount_details(self, details: Any) -> tuple[Any, Any, Decimal | None]:
        """(InstdAmt/Amt, TxAmt/Amt, the first exchange rate) of an ``AmtDtls``."""
        t = self.t
        if details is None:
            return None, None, None
        found = kids(details)
        rate = None
        for kind in (t.InstdAmt, t.TxAmt, t.CntrValAmt):
            part = found.get(kind)
            if part is not None and rate is None:
                rate = self.rate(text_of(self.path(kids(part), t.CcyXchg, t.XchgRate)))
        instructed = found.get(t.InstdAmt)
        transaction = found.get(t.TxAmt)
        return (
            None if instructed is None else instructed.find(t.Amt),
            None if transaction is None else transaction.find(t.Amt),
            rate,
        )

    @staticmethod
    def rate(value: str | None) -> Decimal | None:
        if value is None:
            return None
        if not RATE.match(value):
            raise StatementError("CcyXchg/XchgRate", f"{value!r} is not an exchange rate")
        return Decimal(value)


class _Head:
    """What every transaction of an entry shares, and how one transaction is read."""

    def __init__(self, reader: EntryReader, amount: Decimal, currency: str, credit: bool):
        self.reader = reader
        self.t = reader.t
        self.amount = amount
        self.currency = currency
        self.credit = credit
        self.booking_date: date | None = None
        self.value_date: date | None = None
        self.reversal = False
        self.status: str | None = None
        self.reference: str | None = None
        self.payment_info_id: str | None = None
        self.own_amount = False

    def transaction(
        self, top: dict[str, Any], detail: dict[str, Any], where: str, *, alone: bool = True
    ) -> dict[str, Any]:
        """Fields of one transaction; ``detail`` is empty when the entry has no details."""
        t = self.t
        amount, currency, credit = self.detail_amount(detail, where, alone=alone)
        fields: dict[str, Any] = {
            "amount": amount if credit else -amount,
            "currency": currency,
            "booking_date": self.booking_date,
            "value_date": self.value_date,
            "reversal": self.reversal,
            "entry_status": self.status,
            "payment_info_id": self.payment_info_id,
            "bank_reference": self.reference,
        }
        self.references(detail, fields)
        self.remittance(detail, fields)
        returned = detail.get(t.RtrInf)
        if returned is not None:
            reason = kids(returned).get(t.Rsn)
            if reason is not None:
                codes = kids(reason)
                fields["return_reason"] = text_of(codes.get(t.Cd)) or text_of(codes.get(t.Prtry))
        is_return = self.reversal or fields.get("return_reason") is not None
        self.counterparty(detail, fields, paid_to_us=credit != is_return, returned=is_return)
        self.codes(top, detail, fields)
        self.amounts(top, detail, fields, alone=alone)
        fields["additional_info"] = self.additional_info(top, detail, returned)
        return fields

    def detail_amount(
        self, detail: dict[str, Any], where: str, *, alone: bool
    ) -> tuple[Decimal, str, bool]:
        t = self.t
        reader = self.reader
        own = detail.get(t.Amt)
        self.own_amount = True
        if own is not None:
            amount, currency = reader.amount(own, f"{where}/Amt")
        elif (tx_amount := reader.path(detail, t.AmtDtls, t.TxAmt, t.Amt)) is not None:
            amount, currency = reader.amount(tx_amount, f"{where}/AmtDtls/TxAmt/Amt")
        elif alone:
            amount, currency = self.amount, self.currency
            self.own_amount = False
        else:
            raise StatementError(f"{where}/Amt", "a batch's transaction has no amount of its own")
        credit = reader.indicator(detail.get(t.CdtDbtInd), f"{where}/CdtDbtInd")
        return amount, currency, self.credit if credit is None else credit

    def references(self, detail: dict[str, Any], fields: dict[str, Any]) -> None:
        t = self.t
        refs = detail.get(t.Refs)
        if refs is None:
            return
        found = kids(refs)
        end_to_end = text_of(found.get(t.EndToEndId))
        fields["end_to_end_id"] = None if end_to_end == NOT_PROVIDED else end_to_end
        fields["mandate_id"] = text_of(found.get(t.MndtId))
        fields["payment_info_id"] = text_of(found.get(t.PmtInfId)) or self.payment_info_id
        fields["bank_reference"] = _reference(text_of(found.get(t.AcctSvcrRef))) or self.reference

    def remittance(self, detail: dict[str, Any], fields: dict[str, Any]) -> None:
        t = self.t
        information = detail.get(t.RmtInf)
        if information is None:
            return
        lines = []
        for child in information:
            if child.tag == t.Ustrd:
                lines.append(child.text or "")
            elif child.tag == t.Strd and "creditor_reference" not in fields:
                reference = text_of(self.reader.path(kids(child), t.CdtrRefInf, t.Ref))
                if reference:
                    fields["creditor_reference"] = reference
        fields["remittance"] = plain(" ".join(lines))

    def counterparty(
        self, detail: dict[str, Any], fields: dict[str, Any], *, paid_to_us: bool, returned: bool
    ) -> None:
        """The debtor of a payment to us, the creditor of one from us. For a return that is the
        original payment's party; banks that name it on the return's own side are read too."""
        t = self.t
        parties = detail.get(t.RltdPties)
        if parties is None:
            return
        found = kids(parties)
        role, account_role, agent_role = (
            (t.Dbtr, t.DbtrAcct, t.DbtrAgt) if paid_to_us else (t.Cdtr, t.CdtrAcct, t.CdtrAgt)
        )
        if role not in found and returned:
            role, account_role, agent_role = (
                (t.Cdtr, t.CdtrAcct, t.CdtrAgt) if paid_to_us else (t.Dbtr, t.DbtrAcct, t.DbtrAgt)
            )
        party = found.get(role)
        if party is not None:
            name, _ = self.party(party)
            fields["counterparty_name"] = plain(name) if name else None
        account = found.get(account_role)
        if account is not None:
            self.account(account, fields)
        agents = detail.get(t.RltdAgts)
        if agents is not None:
            fields["counterparty_bic"] = self.agent_bic(agents, agent_role)
        creditor = found.get(t.Cdtr)
        if creditor is not None:
            fields["creditor_id"] = self.party(creditor)[1]

    def party(self, element: Any) -> tuple[str | None, str | None]:
        """(name, private identification) of a party, under ``Pty`` from version 001.04 on."""
        t = self.t
        name = identification = None
        for child in element:
            tag = child.tag
            if tag == t.Pty:
                return self.party(child)
            if tag == t.Nm:
                name = text_of(child)
            elif tag == t.Id:
                scheme = self.reader.path(kids(child), t.PrvtId, t.Othr, t.Id)
                identification = text_of(scheme)
        return name, identification

    def account(self, element: Any, fields: dict[str, Any]) -> None:
        t = self.t
        for child in element:
            if child.tag != t.Id:
                continue
            for identification in child:
                if identification.tag == t.IBAN:
                    fields["counterparty_iban"] = text_of(identification)
                elif identification.tag == t.Othr:
                    fields["counterparty_account"] = text_of(kids(identification).get(t.Id))

    def agent_bic(self, agents: Any, role: str) -> str | None:
        t = self.t
        for agent in agents:
            if agent.tag != role:
                continue
            for institution in agent:
                if institution.tag != t.FinInstnId:
                    continue
                found = kids(institution)
                return text_of(found.get(t.BICFI)) or text_of(found.get(t.BIC))
        return None

    def codes(self, top: dict[str, Any], detail: dict[str, Any], fields: dict[str, Any]) -> None:
        for found in (detail, top):
            code, proprietary = self.reader.bank_code(found.get(self.t.BkTxCd))
            if code:
                fields["bank_code"] = code
                fields["proprietary_code"] = proprietary
                return

    def amounts(
        self, top: dict[str, Any], detail: dict[str, Any], fields: dict[str, Any], *, alone: bool
    ) -> None:
        """Charges, the instructed amount and the exchange rate, of the detail or, for an entry's
        only transaction, of the entry."""
        t = self.t
        reader = self.reader
        sources = [detail, top] if alone else [detail]
        for found in sources:
            if t.Chrgs in found:
                parent = found[t.Chrgs].getparent()
                fields["charges"] = reader.charges(found, parent)
                break
        for found in sources:
            instructed, _, rate = reader.amount_details(found.get(t.AmtDtls))
            if instructed is not None or rate is not None:
                self.instructed(instructed, rate, fields)
                break

    def instructed(self, instructed: Any, rate: Decimal | None, fields: dict[str, Any]) -> None:
        if rate is not None:
            fields["exchange_rate"] = rate
        if instructed is None:
            return
        value, currency = self.reader.amount(instructed, "AmtDtls/InstdAmt/Amt")
        if value != abs(fields["amount"]) or currency != fields["currency"]:
            fields["instructed_amount"] = value
            fields["instructed_currency"] = currency

    def additional_info(self, top: dict[str, Any], detail: dict[str, Any], returned: Any) -> str:
        t = self.t
        parts = [detail[t.AddtlTxInf].text or ""] if t.AddtlTxInf in detail else []
        if returned is not None:
            parts.extend(line.text or "" for line in returned.iterchildren(t.AddtlInf))
        if t.AddtlNtryInf in top:
            parts.append(top[t.AddtlNtryInf].text or "")
        return plain(" ".join(parts)) if parts else ""


def _booked_amount(head: _Head, fields: dict[str, Any]) -> None:
    """An entry's only detail moves what the entry booked: a detail amount that differs (a
    return of 50.00 booked as 53.00 with the charges) is kept as the instructed amount."""
    booked = head.amount if head.credit else -head.amount
    if fields["currency"] != head.currency or fields["amount"] == booked:
        return
    if "instructed_amount" not in fields:
        fields["instructed_amount"] = abs(fields["amount"])
        fields["instructed_currency"] = fields["currency"]
    fields["amount"] = booked


def _check_sum(head: _Head, transactions: list[RawTransaction], where: str) -> None:
    """The details of an entry must add up to what the bank booked, else posting them would not
    reconcile with the account (details in another currency than the entry are not added)."""
    if any(t.fields["currency"] != head.currency for t in transactions):
        return
    total = sum((t.fields["amount"] for t in transactions), start=Decimal("0"))
    booked = head.amount if head.credit else -head.amount
    if total != booked:
        raise StatementError(
            f"{where}/NtryDtls", f"the transactions add up to {total}, the entry books {booked}"
        )


def _reference(value: str | None) -> str | None:
    return None if value in (None, "NONREF", NOT_PROVIDED) else value


def _dutch_payment_reference(text: str | None) -> str | None:
    """``/PREF/<id>/`` of a Dutch bank's entry text (ABN AMRO names a batch's PmtInfId so)."""
    if not text or "/PREF/" not in text:
        return None
    found = re.search(r"/PREF/([^/\s]+)", text)
    return found.group(1) if found else None
