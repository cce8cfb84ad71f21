"""A customer's SEPA mandates as stored, and which one an invoice or a debit file uses.

The order intake writes each mandate (``shared.orders.model.Mandate``) into the customer's
shard. Two facts are added to the stored item later, as attributes beside its data: a returned
debit that ends the mandate revokes it (``revoked_reason``, ``revoked_on``, written by the
statement matching), and the first collection under it is noted (``first_collected_on``), after
which every further collection is a recurring one (RCUR).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.orders.model import Mandate

SequenceType = Literal["FRST", "RCUR"]


@dataclass(frozen=True)
class StoredMandate:
    mandate: Mandate
    revoked_reason: str | None = None
    revoked_on: date | None = None
    first_collected_on: date | None = None

    @property
    def customer_id(self) -> str:
        return self.mandate.customer_id

    @property
    def usable(self) -> bool:
        return self.revoked_reason is None and self.revoked_on is None

    @property
    def sequence(self) -> SequenceType:
        """FRST until a first collection is on record (or the mandate came in as recurring)."""
        if self.mandate.sequence == "RCUR" or self.first_collected_on is not None:
            return "RCUR"
        return "FRST"


def usable_mandate(mandates: Iterable[StoredMandate]) -> StoredMandate | None:
    """The customer's newest mandate that is not revoked; None when there is none."""
    usable = [mandate for mandate in mandates if mandate.usable]
    if not usable:
        return None
    return max(usable, key=lambda m: (m.mandate.signed_on, m.mandate.reference))
