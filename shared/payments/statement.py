"""A bank statement as every parser hands it on, whatever the file's format.

CAMT.052/.053/.054 (any of their versions) and MT940 all come down to this model. A
``BankTransaction`` is one movement on our account: a transaction detail of an entry, or the
entry itself when the bank gave no details (a collection booked as one sum). Amounts are
signed from our account's view: money received is positive, money leaving it is negative. The
sign comes from the credit/debit indicator, never from the number in the file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

StatementFormat = Literal["camt.052", "camt.053", "camt.054", "mt940"]


class BankTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Deterministic from the file's content alone (account, statement, entry and detail
    # position, bank references): the same statement read twice gives the same ids, so
    # postings keyed by it are written once however often the file is imported.
    transaction_id: str = Field(min_length=8, max_length=64)
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    booking_date: date
    value_date: date | None = None
    # A reversal (RvslInd, MT940 "RC"/"RD"): a booking that undoes an earlier one, such as a
    # returned direct debit.
    reversal: bool = False
    # SEPA references; "NOTPROVIDED" and empty values are None.
    end_to_end_id: str | None = None
    mandate_id: str | None = None
    payment_info_id: str | None = None
    # Structured creditor reference (RF... or a bank's own scheme), when given.
    creditor_reference: str | None = None
    # Unstructured remittance text, lines joined by a space (SVWZ+ and ?2x subfields for MT940).
    remittance: str = ""
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    # ISO return reason (AC04, MD06, MS03, ...) of a returned debit or transfer.
    return_reason: str | None = None
    # The bank's transaction code: ISO domain/family/subfamily ("PMNT/RDDT/PMDD") or the
    # proprietary one (German GVC "NTRF+020", MT940 "166").
    bank_code: str | None = None
    # For an entry without details: how many transactions the bank's sum stands for.
    batch_count: int | None = Field(default=None, ge=1)
    # Charges the bank took (positive), included in ``amount`` where the bank booked them so.
    charges: Decimal | None = None
    # The originally instructed amount (AmtDtls/InstdAmt), when it differs from ``amount``.
    instructed_amount: Decimal | None = None
    instructed_currency: str | None = None
    # Free text of the entry beyond the remittance (AddtlNtryInf, AddtlTxInf, AddtlRtrInf).
    additional_info: str = ""
    # Optional fields added by the parsers where a sample carries them:
    # the bank's own reference of the entry or detail (AcctSvcrRef, MT940 ":61:" "//" part).
    bank_reference: str | None = None
    # A proprietary code beside an ISO ``bank_code`` (camt ``Prtry/Cd``), such as a German GVC.
    proprietary_code: str | None = None
    # The counterparty's account where it is not an IBAN (camt ``Othr/Id``, MT940 BLZ/account).
    counterparty_account: str | None = None
    # The SEPA creditor identifier of a direct debit (camt ``CdtrSchmeId``, MT940 ``CRED+``).
    creditor_id: str | None = None
    # Rate of the currency exchange the bank applied (``CcyXchg/XchgRate``).
    exchange_rate: Decimal | None = None
    # A national return code where the file gives no ISO one (German MT940 ``?34``, e.g. "914").
    bank_return_code: str | None = None
    # The camt entry's status: "BOOK" (booked), "PDNG" (pending, camt.052 intraday), "INFO"
    # (for information). Only booked entries move money; MT940 holds booked entries only (None).
    entry_status: str | None = None


class Statement(BaseModel):
    """One statement (camt ``Stmt``/``Rpt``/``Ntfctn``, MT940 ``:20:`` to ``:62:``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: StatementFormat
    # The message's schema version, e.g. "001.02"; None for MT940.
    version: str | None = None
    message_id: str | None = None
    statement_id: str
    account_iban: str | None = None
    # Where the account is not given as an IBAN (MT940 "BLZ/account").
    account_other: str | None = None
    currency: str | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    created_on: date | None = None
    transactions: tuple[BankTransaction, ...] = ()


class StatementFile(BaseModel):
    """What one file held: camt and MT940 files may carry several statements."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # sha256 of the file's bytes.
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    format: StatementFormat
    statements: tuple[Statement, ...]


class StatementError(ValueError):
    """A file that cannot be read as a statement. ``field`` names where (an element path, an
    MT940 tag, or "file"), ``reason`` says why, in words a finance clerk can act on."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
