"""One statement file imported in parts, by customer, so that parts run on workers of their own.

Matching a transaction reads and writes only the accounts of the customers it names
(``matching.accounts_touched``): the customer of our own end-to-end id, else the owner of its
structured reference and the payer its text names. A transaction that touches exactly one
account goes to that customer's part (a stable hash of the customer id); one that touches none
goes to the part of its transaction id. A customer's transactions stay in statement order in
one part, and no two parts touch one account, so each part decides what the whole import would
have decided.

The rest, matched after every part, are the transactions that may touch several accounts and
the collections booked as one sum (they settle the items of every customer in the batch). Their
place in the order changes: they come after the customer's own transactions of the same file,
not between them.

The parts run under the lock the coordinator took (``PaymentImport.run(lease=...)``); each
part's decisions are idempotent by transaction id like any import's, so a retried part posts
nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared.bulk import fewer_collections
from shared.payments.importing import ImportReport, PaymentImport
from shared.payments.matching import Named, accounts_touched, named_by
from shared.payments.statement import BankTransaction, Statement, StatementFile

# Entries of a part: a worker on AWS imports 1,000 in about a second (bench/payments.py).
ENTRIES_PER_PART = 1_000
MOST_PARTS = 100


@dataclass(frozen=True)
class Split:
    parts: tuple[StatementFile, ...]
    rest: StatementFile

    @property
    def entries(self) -> list[int]:
        return [entries_of(part) for part in self.parts]


@dataclass(frozen=True)
class PartedImport:
    """Plans the import of a file in parts; the statement import's state machine runs them
    (``shared.payments.import_run``)."""

    use_case: PaymentImport
    entries_per_part: int = ENTRIES_PER_PART

    def plan(self, source: StatementFile) -> Split:
        policy = self.use_case.policy
        with fewer_collections():
            named = {
                transaction.transaction_id: named_by(transaction, policy)
                for transaction in _transactions(source)
            }
            numbers = {number for names in named.values() for number in names.numbers}
            owners = self.use_case.owners.owners(numbers)
            count = parts_for(entries_of(source), self.entries_per_part)
            return split(source, named, owners, count)


def parts_for(entries: int, entries_per_part: int = ENTRIES_PER_PART) -> int:
    """How many parts a file of ``entries`` is imported in."""
    return max(1, min(MOST_PARTS, -(-entries // entries_per_part)))


def entries_of(source: StatementFile) -> int:
    return sum(len(statement.transactions) for statement in source.statements)


def split(
    source: StatementFile, named: Mapping[str, Named], owners: Mapping[str, str], parts: int
) -> Split:
    """The file's transactions routed to ``parts`` parts and the rest (see the module), by what
    each transaction names (``named``, by transaction id) and who owns the numbers named."""
    if parts < 1:
        raise ValueError("a statement is split into one part at least")
    routed: list[list[list[BankTransaction]]] = [[] for _ in range(parts)]
    rest: list[list[BankTransaction]] = []
    for statement in source.statements:
        for bucket in routed:
            bucket.append([])
        rest.append([])
        for transaction in statement.transactions:
            part = part_of(
                transaction.transaction_id, named[transaction.transaction_id], owners, parts
            )
            (rest if part is None else routed[part])[-1].append(transaction)
    return Split(
        parts=tuple(_file(source, statements) for statements in routed),
        rest=_file(source, rest),
    )


def part_of(transaction_id: str, named: Named, owners: Mapping[str, str], parts: int) -> int | None:
    """The part a transaction is matched in, or None when it belongs to the rest."""
    customers = accounts_touched(named, owners)
    if customers is None or len(customers) > 1:
        return None
    key = next(iter(customers)) if customers else transaction_id
    return _stable_index(key, parts)


def merged_reports(
    reports: Iterable[ImportReport], *, digest: str, format: str, statements: int
) -> ImportReport:
    """One report of the whole file from the reports of its parts and of the rest."""
    whole = ImportReport(digest=digest, format=format, statements=statements)
    by_rule: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for report in reports:
        for name in _COUNTED:
            setattr(whole, name, getattr(whole, name) + getattr(report, name))
        for rule, count in report.by_rule.items():
            by_rule[rule] = by_rule.get(rule, 0) + count
        for step, spent in report.seconds.items():
            seconds[step] = round(seconds.get(step, 0.0) + spent, 3)
        whole.unmatched_entries.extend(report.unmatched_entries)
    whole.by_rule = dict(sorted(by_rule.items()))
    whole.seconds = seconds
    whole.unmatched_entries.sort(key=lambda entry: (entry.booking_date, entry.transaction_id))
    return whole


_COUNTED = tuple(
    name
    for name, info in ImportReport.model_fields.items()
    if info.annotation in (int, Decimal) and name != "statements"
)


def _stable_index(key: str, parts: int) -> int:
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:4], "big") % parts


def _transactions(source: StatementFile) -> Iterable[BankTransaction]:
    for statement in source.statements:
        yield from statement.transactions


def _file(source: StatementFile, transactions: Sequence[list[BankTransaction]]) -> StatementFile:
    """The file with each statement holding only the given transactions (empty ones left out)."""
    statements = [
        _with(statement, tuple(chosen))
        for statement, chosen in zip(source.statements, transactions, strict=True)
        if chosen
    ]
    return StatementFile.model_construct(
        digest=source.digest, format=source.format, statements=tuple(statements)
    )


def _with(statement: Statement, transactions: tuple[BankTransaction, ...]) -> Statement:
    return statement.model_copy(update={"transactions": transactions})
