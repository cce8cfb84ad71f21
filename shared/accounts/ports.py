"""What the account rules need from storage. The DynamoDB implementation lives in
``shared/storage/ledger.py``."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date
from typing import Protocol

from shared.accounts.model import Account, Posting


class Ledger(Protocol):
    def post(self, postings: Sequence[Posting]) -> int:
        """Write each posting once, by its id; how many of them were new."""
        ...

    def account(self, customer_id: str) -> Account:
        """The customer's postings, issued invoices and corrections included, in one read."""
        ...

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        """Every posting booked from ``first`` to ``last`` inclusive, of every customer."""
        ...


class OverdueLedger(Ledger, Protocol):
    """A ledger that names the customers whose items are overdue, as dunning needs them."""

    def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
        """Each customer of the shard (``shard_of(customer_id, BILLING_SHARD_COUNT)``) with an
        item still open whose due date is before ``due_before``, once, in id order.

        Dunning asks this once per shard and day, so it must not read every account: a sparse
        index of the open items that have a due date (a record or attribute kept while the item
        is open and removed once it is settled), keyed by shard and due date, answers it with one
        query per shard.
        """
        ...


class BulkLedger(Ledger, Protocol):
    """A ledger that reads many accounts at once, as the statement import needs them."""

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]: ...

    def post_new(self, postings: Sequence[Posting]) -> int:
        """Write postings that no earlier write can hold (those of decisions recorded just
        now, whose ids derive from their new transactions) without reading first; how many."""
        ...
