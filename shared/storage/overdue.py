"""Which customers of a shard have overdue items, found by a sweep of recent invoices.

The ledger keeps no index of open items: an index entry per invoice would cost the invoice run
a write unit per invoice (see the notes on issues 3 and 8). Until one is decided on, dunning
asks this sweep: per shard, the billed markers of the last ``SWEPT_PERIODS`` periods (one index
query per period, index ``by-shard-period``) name the customers invoiced lately, and their
accounts (read in parallel, one query each) tell who has an item due before the day. An item of
a customer not invoiced in that window (an old return fee, say) is not found by it.

At 2 million customers this reads every recently invoiced account once a day: about 2 million
queries of a few read units each, some dollars a day; an index of open items would be cheaper
to read and dearer to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from shared.periods import Period
from shared.storage.dynamodb import DynamoDocuments
from shared.storage.ledger import DynamoLedger

SWEPT_PERIODS = 6


class SweepingLedger(DynamoLedger):
    def __init__(self, client: Any, table: str, *, periods: int = SWEPT_PERIODS) -> None:
        super().__init__(client, table)
        self._documents = DynamoDocuments(client, table)
        self._periods = periods

    def overdue_customers(self, shard: int, due_before: date) -> Iterator[str]:
        """Customers of the shard invoiced in the swept periods with an item still open whose
        due date is before ``due_before``, once each, in id order."""
        invoiced: set[str] = set()
        for period in recent_periods(due_before, self._periods):
            invoiced |= self._documents.billed_markers(shard, str(period)).keys()

        accounts = self.accounts(invoiced)
        for customer_id in sorted(invoiced):
            if any(item.overdue_on(due_before) for item in accounts[customer_id].open_items()):
                yield customer_id


def recent_periods(day: date, count: int) -> list[Period]:
    """The ``count`` months up to and including the one of ``day``, newest first."""
    periods = [Period(day.year, day.month)]
    while len(periods) < count:
        periods.append(Period.previous(periods[-1].start))
    return periods
