"""An in-memory ledger for unit tests of the rules that read and post to accounts."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date

from shared.accounts.model import Account, Posting, account_of


class MemoryLedger:
    def __init__(self) -> None:
        self.postings: dict[str, Posting] = {}
        self._by_customer: dict[str, list[Posting]] = {}

    def post(self, postings: Sequence[Posting]) -> int:
        new = 0
        for posting in postings:
            if posting.posting_id not in self.postings:
                self.postings[posting.posting_id] = posting
                self._by_customer.setdefault(posting.customer_id, []).append(posting)
                new += 1
        return new

    def account(self, customer_id: str) -> Account:
        return account_of(customer_id, self._by_customer.get(customer_id, ()))

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]:
        return {customer_id: self.account(customer_id) for customer_id in set(customer_ids)}

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        booked = (p for p in self.postings.values() if first <= p.booked_on <= last)
        yield from sorted(booked, key=lambda p: (p.booked_on, p.posting_id))
