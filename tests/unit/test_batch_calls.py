"""Batch reads and writes against a DynamoDB that leaves part of each call unprocessed."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from shared.storage import dynamodb
from shared.storage.dynamodb import batch_put, from_item, get_many


class Throttled:
    """Leaves the last item of every first attempt unprocessed, as a throttled partition does."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self._lock = threading.Lock()
        self._meet: threading.Barrier | None = None
        self._to_meet = 0

    def meet_first_two(self) -> threading.Barrier:
        """Make the next two calls wait for each other, which only calls made at the same time
        can do: calls made one after the other break the barrier when it times out."""
        self._meet, self._to_meet = threading.Barrier(2, timeout=10), 2
        return self._meet

    def _arrive(self) -> None:
        with self._lock:
            self.calls += 1
            meet = self._meet if self._to_meet > 0 else None
            self._to_meet -= 1
        if meet is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                meet.wait()

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, requests),) = RequestItems.items()
        self._arrive()
        kept, left = (requests[:-1], requests[-1:]) if len(requests) > 1 else (requests, [])
        for request in kept:
            item = request["PutRequest"]["Item"]
            with self._lock:
                self.stored[item["pk"]["S"]] = item
        return {"UnprocessedItems": {table: left}} if left else {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, request),) = RequestItems.items()
        self._arrive()
        keys = request["Keys"]
        kept, left = (keys[:-1], keys[-1:]) if len(keys) > 1 else (keys, [])
        found = [self.stored[key["pk"]["S"]] for key in kept if key["pk"]["S"] in self.stored]
        response: dict[str, Any] = {"Responses": {table: found}}
        if left:
            response["UnprocessedKeys"] = {table: {**request, "Keys": left}}
        return response


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(dynamodb, "_sleep", slept.append)
    return slept


@pytest.mark.parametrize("parallel", [1, 4])
def test_every_item_is_written_once_however_many_calls_it_takes(
    parallel: int, waits: list[float]
) -> None:
    client = Throttled()
    items = [{"pk": f"P{index:03d}", "sk": "x"} for index in range(120)]

    written = batch_put(client, "t", items, parallel=parallel)

    assert written == 120
    assert sorted(client.stored) == [f"P{index:03d}" for index in range(120)]
    assert client.calls == 10
    assert len(waits) == 5
    assert all(0 < wait <= 0.05 for wait in waits)


def test_parallel_writes_are_in_flight_together(waits: list[float]) -> None:
    client = Throttled()
    meeting = client.meet_first_two()

    batch_put(client, "t", [{"pk": f"P{index:04d}"} for index in range(2_000)], parallel=4)

    assert len(client.stored) == 2_000
    assert not meeting.broken


def test_reads_ask_again_for_what_was_left(waits: list[float]) -> None:
    client = Throttled()
    batch_put(client, "t", [{"pk": f"P{index}", "sk": "x"} for index in range(3)])
    client.calls = 0

    found = get_many(client, "t", [{"pk": f"P{index}", "sk": "x"} for index in range(3)])

    assert sorted(item["pk"] for item in found) == ["P0", "P1", "P2"]
    assert from_item(client.stored["P0"]) == {"pk": "P0", "sk": "x"}
    assert client.calls == 2


class Busy(Throttled):
    """Processes nothing for the first ``busy`` calls."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        if self.busy:
            self.busy -= 1
            (table,) = RequestItems
            return {"Responses": {table: []}, "UnprocessedKeys": RequestItems}
        return super().batch_get_item(RequestItems)


def test_each_wait_is_about_twice_the_one_before(waits: list[float]) -> None:
    client = Busy(busy=3)

    get_many(client, "t", [{"pk": "P0", "sk": "x"}])

    assert len(waits) == 3
    for attempt, wait in enumerate(waits):
        longest = 0.05 * 2**attempt
        assert longest / 2 <= wait <= longest


def test_parallel_reads_find_every_item_once(waits: list[float]) -> None:
    client = Throttled()
    keys = [{"pk": f"P{index:04d}", "sk": "x"} for index in range(2_000)]
    batch_put(client, "t", keys, parallel=4)
    meeting = client.meet_first_two()

    found = get_many(client, "t", [*keys, {"pk": "missing", "sk": "x"}], parallel=4)

    assert sorted(item["pk"] for item in found) == [key["pk"] for key in keys]
    assert not meeting.broken
