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


class BulkLedger(Ledger, Protocol):
    """A ledger that reads many accounts at once, as the statement import needs them."""

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]: ...
