"""Transaction ids that come from a statement's content alone.

An id hashes the format, the account, the statement's id (and how often that pair came before
it in the same file), the entry's position, the bank's reference, the detail's position, the
amount and the booking date. Reading the same file again gives the same ids; two transactions
of one file never share one, because their positions differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.payments.statement import BankTransaction

ID_LENGTH = 40


@dataclass(frozen=True)
class IdSource:
    format: str
    account: str
    statement_id: str
    # 0 for the first statement of this account and id in the file, 1 for a repeat, ...
    occurrence: int = 0


@dataclass(slots=True)
class RawTransaction:
    """A transaction as a parser read it, before it has its id."""

    entry_position: int
    # 0 when the entry itself is the transaction, else the detail's position from 1
    detail_position: int
    bank_reference: str | None
    fields: dict[str, Any]


def transaction_id(source: IdSource, raw: RawTransaction) -> str:
    parts = (
        source.format,
        source.account,
        source.statement_id,
        str(source.occurrence),
        str(raw.entry_position),
        raw.bank_reference or "",
        str(raw.detail_position),
        str(raw.fields["amount"]),
        raw.fields["booking_date"].isoformat(),
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:ID_LENGTH]


def transaction_ids(
    source: IdSource, raws: Iterable[RawTransaction]
) -> tuple[BankTransaction, ...]:
    return tuple(
        BankTransaction(transaction_id=transaction_id(source, raw), **raw.fields) for raw in raws
    )
