"""An in-memory ledger for unit tests of the rules that read and post to accounts."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import date

from shared.accounts.model import Account, Posting, account_of
from shared.customers import shard_of


class MemoryLedger:
    def __init__(self, shard_count: int = 1) -> None:
        self.postings: dict[str, Posting] = {}
        self.shard_count = shard_count
        self._by_customer: dict[str, list[Posting]] = {}

    def post(self, postings: Sequence[Posting]) -> int:
        new = 0
        for posting in postings:
            if posting.posting_id not in self.postings:
                self.postings[posting.posting_id] = posting
                self._by_customer.setdefault(posting.customer_id, []).append(posting)
                new += 1
        return new

    def post_new(self, postings: Sequence[Posting]) -> int:
        """``post``, refusing postings it holds already: the import promises they are new."""
        held = [p.posting_id for p in postings if p.posting_id in self.postings]
        if held:
            raise AssertionError(f"postings said to be new are stored already: {held}")
        return self.post(postings)

    def account(self, customer_id: str) -> Account:
        return account_of(customer_id, self._by_customer.get(customer_id, ()))

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]:
        return {customer_id: self.account(customer_id) for customer_id in set(customer_ids)}

    def postings_between(self, first: date, last: date) -> Iterator[Posting]:
        booked = (p for p in self.postings.values() if first <= p.booked_on <= last)
        yield from sorted(booked, key=lambda p: (p.booked_on, p.posting_id))

    def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
        customers = {p.customer_id for p in self.postings.values()}
        mine = (c for c in customers if shard_of(c, self.shard_count) == shard)
        for customer_id in sorted(mine):
            items = self.account(customer_id).open_items()
            if any(item.due_on is not None and item.due_on < due_before for item in items):
                yield customer_id


class MemoryDebtorNumbers:
    """Debtor numbers from 1, given in the order asked, each customer's for good."""

    def __init__(self, given: dict[str, int] | None = None) -> None:
        self.given = dict(given or {})

    def numbers(self, customer_ids: Collection[str]) -> dict[str, int]:
        for customer_id in customer_ids:
            if customer_id not in self.given:
                self.given[customer_id] = max(self.given.values(), default=0) + 1
        return {customer_id: self.given[customer_id] for customer_id in customer_ids}
