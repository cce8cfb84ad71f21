"""What dunning needs from storage and the outside world, as small interfaces.

The DynamoDB, S3 and EventBridge implementations are in ``shared/storage/dunning.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel

from shared.customers import Customer
from shared.dunning.model import Case, Hold, HoldKind, Holds, Notice, ProvisioningEvent


@dataclass
class ShardState:
    """The cases and holds of one shard, as one read gives them."""

    cases: dict[str, Case] = field(default_factory=dict)
    holds: dict[str, Holds] = field(default_factory=dict)


class DunningStore(Protocol):
    def shard_state(self, shard: int) -> ShardState: ...

    def case(self, customer_id: str) -> Case | None: ...

    def cases_of(self, customer_ids: Collection[str]) -> dict[str, Case]:
        """The cases of those of these customers who have one, in as few reads as the store
        allows."""
        ...

    def holds(self, customer_id: str) -> Holds: ...

    def save_case(self, case: Case) -> Case | None:
        """Write the case if the stored one still has its version (0: none is stored); the case
        as stored, with the next version, or None when another writer changed it meanwhile."""
        ...

    def close_case(self, case: Case, *, closed_on: date, reason: str) -> bool:
        """Keep the case in the customer's history and end it, if its version is still stored."""
        ...

    def closed_cases(self, customer_id: str) -> list[dict[str, Any]]: ...

    def put_hold(self, hold: Hold) -> None: ...

    def remove_hold(self, customer_id: str, kind: HoldKind, item: str | None) -> bool:
        """False when there was no such hold."""
        ...


class CustomerDirectory(Protocol):
    def customers(self, shard: int, customer_ids: Sequence[str]) -> dict[str, Customer]:
        """The customer records of the shard that exist, by id."""
        ...


class ProvisioningEvents(Protocol):
    def publish(self, events: Sequence[ProvisioningEvent]) -> None:
        """Hand the events to the provisioning system; at least once, each with its own id."""
        ...


class NoticeStore(Protocol):
    def issue_notice(self, notice: Notice, *, pdf_key: str) -> bool:
        """Write the notice's document once; False when it had been written before."""
        ...

    def notice(self, customer_id: str, issue_date: date, number: str) -> Notice | None: ...

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        """Record the number as void; False when a document already holds it."""
        ...


class DunningRunStore(Protocol):
    def start_run(self, values: dict[str, Any]) -> None: ...

    def get_run(self, run_id: str) -> dict[str, Any] | None: ...

    def finish_run(self, run_id: str, status: str, report_key: str) -> None: ...

    def save_result(self, run_id: str, execution: str, shard: int, result: str) -> None: ...

    def results(self, run_id: str, execution: str) -> list[str]: ...


class LineFiles(Protocol):
    """JSON Lines files (collection exports and payment reports), each written once."""

    def write_lines(self, key: str, lines: Sequence[BaseModel]) -> bool:
        """False when a file was already stored under the key (it is kept as it is)."""
        ...

    def write_json(self, key: str, document: Any) -> str: ...
