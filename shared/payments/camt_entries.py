"""One camt ``Ntry`` into its transactions: one per ``TxDtls``, or the entry itself.

Every element is looked up by name among its parent's children, never by position, so entries
whose elements stand in another order than the schema's read the same. Versions differ in a few
places, and both forms are read: a party's name directly under ``Dbtr`` (001.02) or under
``Dbtr/Pty`` (001.04 and later), ``BIC`` or ``BICFI``, charges as a list of ``Chrgs`` (001.02)
or as ``Chrgs/Rcrd`` records, a detail's amount as ``Amt`` or ``AmtDtls/TxAmt/Amt``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from shared.payments.statement import StatementError
from shared.payments.transaction_ids import RawTransaction

AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
NOT_PROVIDED = "NOTPROVIDED"
_PATHS = {
    "Amt": "Amt",
    "CdtDbtInd": "CdtDbtInd",
    "RvslInd": "RvslInd",
    "BookgDt": "BookgDt",
    "ValDt": "ValDt",
    "Dt": "Dt",
    "DtTm": "DtTm",
    "AcctSvcrRef": "AcctSvcrRef",
    "BkTxCd": "BkTxCd",
    "Domn": "Domn",
    "DomnCd": "Cd",
    "FmlyCd": "Fmly/Cd",
    "SubFmlyCd": "Fmly/SubFmlyCd",
    "PrtryCd": "Prtry/Cd",
    "NtryDtls": "NtryDtls",
    "Btch": "Btch",
    "NbOfTxs": "NbOfTxs",
    "BtchPmtInfId": "PmtInfId",
    "TxDtls": "TxDtls",
    "AddtlNtryInf": "AddtlNtryInf",
    "AddtlTxInf": "AddtlTxInf",
    "Refs": "Refs",
    "EndToEndId": "EndToEndId",
    "MndtId": "MndtId",
    "PmtInfId": "PmtInfId",
    "TxAmt": "AmtDtls/TxAmt/Amt",
    "InstdAmt": "AmtDtls/InstdAmt/Amt",
    "AmtDtls": "AmtDtls",
    "XchgRate": "CcyXchg/XchgRate",
    "Chrgs": "Chrgs",
    "Rcrd": "Rcrd",
    "TtlChrgsAndTaxAmt": "TtlChrgsAndTaxAmt",
    "RmtInf": "RmtInf",
    "Ustrd": "Ustrd",
    "CdtrRef": "Strd/CdtrRefInf/Ref",
    "RtrInf": "RtrInf",
    "RsnCd": "Rsn/Cd",
    "RsnPrtry": "Rsn/Prtry",
    "AddtlInf": "AddtlInf",
    "RltdPties": "RltdPties",
    "RltdAgts": "RltdAgts",
    "Nm": "Nm",
    "PtyNm": "Pty/Nm",
    "IBAN": "Id/IBAN",
    "OthrId": "Id/Othr/Id",
    "BIC": "FinInstnId/BIC",
    "BICFI": "FinInstnId/BICFI",
    "CdtrSchmeId": "Id/PrvtId/Othr/Id",
    "PtyCdtrSchmeId": "Pty/Id/PrvtId/Othr/Id",
}
_AMOUNT_DETAILS = ("InstdAmt", "TxAmt", "CntrValAmt")


class EntryReader:
    """Reads the entries of documents in one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.path = {
            name: "/".join(f"{{{namespace}}}{step}" for step in path.split("/"))
            for name, path in _PATHS.items()
        }
        for role in ("Dbtr", "Cdtr"):
            self.path[role] = f"{{{namespace}}}{role}"
            self.path[role + "Acct"] = f"{{{namespace}}}{role}Acct"
            self.path[role + "Agt"] = f"{{{namespace}}}{role}Agt"

    def text(self, element: Any, name: str) -> str | None:
        value = element.findtext(self.path[name])
        if value is None:
            return None
        value = value.strip()
        return value or None

    @staticmethod
    def decimal(value: str | None, where: str) -> Decimal:
        if value is None:
            raise StatementError(where, "the amount is missing")
        if not AMOUNT.match(value):
            raise StatementError(where, f"{value!r} is not an amount (digits and a point)")
        return Decimal(value)

    def amount(self, element: Any, where: str) -> tuple[Decimal, str]:
        amount = element.find(self.path["Amt"])
        if amount is None:
            raise StatementError(f"{where}/Amt", "the amount is missing")
        return self.amount_of(amount, f"{where}/Amt")

    def amount_of(self, amount: Any, where: str) -> tuple[Decimal, str]:
        value = self.decimal((amount.text or "").strip() or None, where)
        currency = amount.get("Ccy", "")
        if not CURRENCY.match(currency):
            raise StatementError(where, f"currency {currency!r} is not an ISO 4217 code")
        return value, currency

    def read(self, entry: Any, where: str, position: int) -> list[RawTransaction]:
        head = self.head(entry, where)
        head.entry = entry
        details = []
        batch = None
        for entry_details in entry.iterfind(self.path["NtryDtls"]):
            batch = batch if batch is not None else entry_details.find(self.path["Btch"])
            details.extend(entry_details.iterfind(self.path["TxDtls"]))
        batch_count = self.batch_count(batch, where)
        if batch is not None:
            head.fields["payment_info_id"] = self.text(batch, "BtchPmtInfId")
        if not details:
            fields = dict(head.fields, batch_count=batch_count)
            fields.update(self.detail_fields(entry, entry, head, alone=True, where=where))
            return [RawTransaction(position, 0, fields["bank_reference"], fields)]
        alone = len(details) == 1
        transactions = []
        for index, detail in enumerate(details, start=1):
            detail_where = f"{where}/NtryDtls/TxDtls[{index}]"
            fields = dict(head.fields)
            fields.update(self.detail_fields(detail, entry, head, alone=alone, where=detail_where))
            if alone and batch_count and batch_count > 1 and not self.has_own_amount(detail):
                fields["batch_count"] = batch_count
            transactions.append(RawTransaction(position, index, fields["bank_reference"], fields))
        return transactions

    def head(self, entry: Any, where: str) -> _Head:
        amount, currency = self.amount(entry, where)
        credit = self.indicator(entry, f"{where}/CdtDbtInd")
        if credit is None:
            raise StatementError(f"{where}/CdtDbtInd", "the credit/debit indicator is missing")
        reversal = (self.text(entry, "RvslInd") or "false").lower() in ("true", "1")
        booking = self.date(entry.find(self.path["BookgDt"]), f"{where}/BookgDt")
        value = self.date(entry.find(self.path["ValDt"]), f"{where}/ValDt")
        if booking is None and value is None:
            raise StatementError(f"{where}/BookgDt", "the entry has neither booking nor value date")
        head = _Head(amount, currency, credit, self.text(entry, "AcctSvcrRef"))
        head.fields = {
            "currency": currency,
            "booking_date": booking or value,
            "value_date": value,
            "reversal": reversal,
        }
        return head

    def indicator(self, element: Any, where: str) -> bool | None:
        value = self.text(element, "CdtDbtInd")
        if value is None:
            return None
        if value not in ("CRDT", "DBIT"):
            raise StatementError(where, f"{value!r} is neither CRDT nor DBIT")
        return value == "CRDT"

    def date(self, element: Any, where: str) -> date | None:
        if element is None:
            return None
        value = self.text(element, "Dt") or (self.text(element, "DtTm") or "")[:10]
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise StatementError(where, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def batch_count(self, batch: Any, where: str) -> int | None:
        if batch is None:
            return None
        value = self.text(batch, "NbOfTxs")
        if value is None:
            return None
        if not value.isdigit() or int(value) < 1:
            raise StatementError(f"{where}/NtryDtls/Btch/NbOfTxs", f"{value!r} is not a count")
        return int(value)

    def has_own_amount(self, detail: Any) -> bool:
        return detail.find(self.path["Amt"]) is not None or (
            detail.find(self.path["TxAmt"]) is not None
        )

    def detail_fields(
        self, detail: Any, entry: Any, head: _Head, *, alone: bool, where: str
    ) -> dict[str, Any]:
        """Fields of one transaction; ``detail`` is the entry itself when it has no details."""
        amount, currency, credit = self.detail_amount(detail, head, alone=alone, where=where)
        fields: dict[str, Any] = {"amount": amount if credit else -amount, "currency": currency}
        fields.update(self.references(detail, head))
        fields.update(self.remittance(detail))
        fields.update(self.return_reason(detail))
        fields.update(self.counterparty(detail, credit=credit, reversal=head.fields["reversal"]))
        fields.update(self.codes(detail, entry))
        fields.update(self.amount_details(detail, entry, amount, currency, alone=alone))
        fields["additional_info"] = self.additional_info(detail, entry)
        return fields

    def detail_amount(
        self, detail: Any, head: _Head, *, alone: bool, where: str
    ) -> tuple[Decimal, str, bool]:
        own = None if detail is head.entry else detail.find(self.path["Amt"])
        transaction = None if detail is head.entry else detail.find(self.path["TxAmt"])
        if own is not None:
            amount, currency = self.amount_of(own, f"{where}/Amt")
        elif transaction is not None:
            amount, currency = self.amount_of(transaction, f"{where}/AmtDtls/TxAmt/Amt")
        elif alone:
            amount, currency = head.amount, head.currency
        else:
            raise StatementError(
                f"{where}/Amt", "a transaction of a batch has no amount of its own"
            )
        credit = None if detail is head.entry else self.indicator(detail, f"{where}/CdtDbtInd")
        return amount, currency, head.credit if credit is None else credit

    def references(self, detail: Any, head: _Head) -> dict[str, Any]:
        refs = detail.find(self.path["Refs"])
        if refs is None:
            return {"bank_reference": head.reference}
        end_to_end = self.text(refs, "EndToEndId")
        return {
            "end_to_end_id": None if end_to_end in (None, NOT_PROVIDED) else end_to_end,
            "mandate_id": self.text(refs, "MndtId"),
            "payment_info_id": self.text(refs, "PmtInfId") or head.fields.get("payment_info_id"),
            "bank_reference": self.text(refs, "AcctSvcrRef") or head.reference,
        }

    def remittance(self, detail: Any) -> dict[str, Any]:
        information = detail.find(self.path["RmtInf"])
        if information is None:
            return {}
        lines = [(line.text or "").strip() for line in information.iterfind(self.path["Ustrd"])]
        return {
            "remittance": " ".join(line for line in lines if line),
            "creditor_reference": self.text(information, "CdtrRef"),
        }

    def return_reason(self, detail: Any) -> dict[str, Any]:
        returned = detail.find(self.path["RtrInf"])
        if returned is None:
            return {}
        return {"return_reason": self.text(returned, "RsnCd") or self.text(returned, "RsnPrtry")}

    def counterparty(self, detail: Any, *, credit: bool, reversal: bool) -> dict[str, Any]:
        """The debtor of a credit, the creditor of a debit (the other side for a reversal when
        the bank left the booking's own side out)."""
        parties = detail.find(self.path["RltdPties"])
        if parties is None:
            return {}
        role = "Dbtr" if credit else "Cdtr"
        other = "Cdtr" if credit else "Dbtr"
        if reversal and parties.find(self.path[role]) is None:
            role = other
        party = parties.find(self.path[role])
        account = parties.find(self.path[role + "Acct"])
        fields: dict[str, Any] = {"counterparty_bic": self.agent_bic(detail, role)}
        if party is not None:
            fields["counterparty_name"] = self.text(party, "Nm") or self.text(party, "PtyNm")
        if account is not None:
            fields["counterparty_iban"] = self.text(account, "IBAN")
            if fields["counterparty_iban"] is None:
                fields["counterparty_account"] = self.text(account, "OthrId")
        creditor = parties.find(self.path["Cdtr"])
        if creditor is not None:
            fields["creditor_id"] = self.text(creditor, "CdtrSchmeId") or self.text(
                creditor, "PtyCdtrSchmeId"
            )
        return fields

    def agent_bic(self, detail: Any, role: str) -> str | None:
        agents = detail.find(self.path["RltdAgts"])
        if agents is None:
            return None
        agent = agents.find(self.path[role + "Agt"])
        if agent is None:
            return None
        return self.text(agent, "BIC") or self.text(agent, "BICFI")

    def codes(self, detail: Any, entry: Any) -> dict[str, Any]:
        for source in (detail, entry):
            code = source.find(self.path["BkTxCd"])
            if code is None:
                continue
            domain = self.domain_code(code)
            proprietary = self.text(code, "PrtryCd")
            if domain or proprietary:
                return {
                    "bank_code": domain or proprietary,
                    "proprietary_code": proprietary if domain else None,
                }
        return {}

    def domain_code(self, code: Any) -> str | None:
        domain = code.find(self.path["Domn"])
        if domain is None:
            return None
        parts = [self.text(domain, name) for name in ("DomnCd", "FmlyCd", "SubFmlyCd")]
        return "/".join(parts) if all(parts) else None  # type: ignore[arg-type]

    def amount_details(
        self, detail: Any, entry: Any, amount: Decimal, currency: str, *, alone: bool
    ) -> dict[str, Any]:
        sources = (detail, entry) if alone and detail is not entry else (detail,)
        fields: dict[str, Any] = {}
        for source in sources:
            charges = self.charges(source)
            if charges is not None:
                fields["charges"] = charges
                break
        for source in sources:
            instructed = source.find(self.path["InstdAmt"])
            if instructed is not None:
                value, instructed_currency = self.amount_of(instructed, "AmtDtls/InstdAmt/Amt")
                if value != amount or instructed_currency != currency:
                    fields["instructed_amount"] = value
                    fields["instructed_currency"] = instructed_currency
                break
        rate = self.exchange_rate(sources)
        if rate is not None:
            fields["exchange_rate"] = rate
        return fields

    def charges(self, source: Any) -> Decimal | None:
        records = []
        for charges in source.iterfind(self.path["Chrgs"]):
            total = self.text(charges, "TtlChrgsAndTaxAmt")
            if total is not None:
                return self.decimal(total, "Chrgs/TtlChrgsAndTaxAmt")
            records.extend(charges.iterfind(self.path["Rcrd"]))
            if charges.find(self.path["Amt"]) is not None:
                records.append(charges)
        if not records:
            return None
        return sum(
            (self.decimal(self.text(record, "Amt"), "Chrgs/Amt") for record in records),
            start=Decimal("0"),
        )

    def exchange_rate(self, sources: tuple[Any, ...]) -> Decimal | None:
        for source in sources:
            details = source.find(self.path["AmtDtls"])
            if details is None:
                continue
            for kind in _AMOUNT_DETAILS:
                rate = details.findtext(f"{{{self.namespace}}}{kind}/{self.path['XchgRate']}")
                if rate and rate.strip():
                    return self.rate(rate.strip())
        return None

    @staticmethod
    def rate(value: str) -> Decimal:
        if not re.match(r"^\d{1,11}(\.\d{1,10})?$", value):
            raise StatementError("CcyXchg/XchgRate", f"{value!r} is not an exchange rate")
        return Decimal(value)

    def additional_info(self, detail: Any, entry: Any) -> str:
        parts = []
        if detail is not entry:
            parts.append(self.text(detail, "AddtlTxInf"))
            returned = detail.find(self.path["RtrInf"])
            if returned is not None:
                parts.extend(
                    (line.text or "").strip() for line in returned.iterfind(self.path["AddtlInf"])
                )
        parts.append(self.text(entry, "AddtlNtryInf"))
        return " ".join(part for part in parts if part)


class _Head:
    """What every transaction of an entry shares."""

    def __init__(self, amount: Decimal, currency: str, credit: bool, reference: str | None):
        self.amount = amount
        self.currency = currency
        self.credit = credit
        self.reference = reference
        self.fields: dict[str, Any] = {}
        self.entry: Any = None
