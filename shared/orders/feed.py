"""Bulk feeds: order records from other systems, each accepted or rejected on its own.

A record names its source system and its own id there; the order id is derived from both, so a
record that comes again (a retried batch, a file delivered twice) finds its order and changes
nothing. Records that cannot be right are rejected with their reasons and never retried;
anything else (storage trouble) is raised, so that the queue brings the batch back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from shared.orders.changes import ContractChanges
from shared.orders.errors import MalformedRequestError, OrderError, Problem
from shared.orders.model import order_id_for
from shared.orders.requests import FeedRecord, parse
from shared.orders.service import OrderService, PlaceCommand

Outcome = Literal["accepted", "rejected"]


@dataclass(frozen=True)
class RecordResult:
    line: int
    record_id: str | None
    outcome: Outcome
    order_id: str | None = None
    problems: tuple[Problem, ...] = ()

    def reject_document(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "record_id": self.record_id,
            "errors": [problem.as_dict() for problem in self.problems],
        }


@dataclass
class FeedSummary:
    results: list[RecordResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(result.outcome == "accepted" for result in self.results)

    @property
    def rejected(self) -> list[RecordResult]:
        return [result for result in self.results if result.outcome == "rejected"]


@dataclass
class FeedIntake:
    service: OrderService
    changes: ContractChanges

    def apply_lines(self, lines: Iterable[str]) -> FeedSummary:
        summary = FeedSummary()
        for number, line in enumerate(lines, start=1):
            if line.strip():
                summary.results.append(self.apply(line, line_number=number))
        return summary

    def apply(self, text: str, *, line_number: int = 1) -> RecordResult:
        record_id = None
        try:
            record = parse(FeedRecord, text)
            record_id = record.record_id
            order_id = self._apply(record)
        except OrderError as error:
            problems = error.problems or (Problem("record", "refused", str(error)),)
            return RecordResult(line_number, record_id, "rejected", problems=tuple(problems))
        return RecordResult(line_number, record_id, "accepted", order_id=order_id)

    def _apply(self, record: FeedRecord) -> str:
        key = f"feed:{record.source}:{record.record_id}"
        if record.type == "order":
            order = _required(record.order, "order")
            command = PlaceCommand(
                order=order,
                order_id=order_id_for("feed", record.source, record.record_id),
                source=f"feed:{record.source}",
                request_hash=hashlib.sha256(order.model_dump_json().encode()).hexdigest(),
                feed=True,
                ordered_on=record.ordered_on,
            )
            return self.service.place(command).order_id
        if record.type == "cancel_order":
            return self.changes.withdraw(_required(record.order_id, "order_id"), key=key).order_id
        change = _required(record.change, "change")
        contract_id = _required(record.contract_id, "contract_id")
        return self.changes.change(contract_id, change, key=key).order_id


T = TypeVar("T")


def _required(value: T | None, name: str) -> T:
    if value is None:
        problem = Problem(name, "missing", "this type of record needs it")
        raise MalformedRequestError("the record is incomplete", [problem])
    return value


def jsonl_lines(body: bytes) -> Iterator[str]:
    for raw in body.splitlines():
        yield raw.decode("utf-8", errors="replace")
