"""An in-memory ledger for unit tests of the rules that read and post to accounts."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date

from shared.accounts.model import Account, Posting, account_of


class MemoryLedger:
    def __init__(self) -> None:
        self.postings: dict[str, Posting] = {}

    def post(self, postings: Sequence[Posting]) -> int:
        new = [p for p in postings if p.posting_id not in self.postings]
        for posting in new:
            self.postings[posting.posting_id] = posting
        return len(new)

    def account(self, customer_id: str) -> Account:
        mine = (p for p in self.postings.values() if p.customer_id == customer_id)
        return account_of(customer_id, mine)

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]:
        return {customer_id: self.account(customer_id) for customer_id in set(customer_ids)}

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        booked = (p for p in self.postings.values() if first <= p.booked_on <= last)
        yield from sorted(booked, key=lambda p: (p.booked_on, p.posting_id))
