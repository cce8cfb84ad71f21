"""What the account rules need from storage. The DynamoDB implementation lives in
``shared/storage/ledger.py``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
