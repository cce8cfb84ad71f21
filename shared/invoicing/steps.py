"""Wall time of the steps of a shard (loading, rating, numbering, rendering, storing, delivery).

A run's report shows them per new invoice, so that finance and the bench see where a run's time
goes without a profiler. The clock is injected for tests.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

STEPS = (
    "loading",
    "rating",
    "numbering",
    "rendering",
    # Where documents render on processes of their own: the part of "rendering" done there, and
    # the time the worker waited for it (shared/invoicing/rendering.py).
    "rendering elsewhere",
    "waiting for renders",
    "storing",
    "delivery",
)


class StepTimes:
    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if name not in STEPS:
            raise ValueError(f"unknown step {name!r}")
        started = self._clock()
        try:
            yield
        finally:
            self._seconds[name] += self._clock() - started

    def add(self, name: str, seconds: float) -> None:
        """Time a step took elsewhere (a document rendered on another process)."""
        if name not in STEPS:
            raise ValueError(f"unknown step {name!r}")
        self._seconds[name] += seconds

    def seconds(self) -> dict[str, float]:
        return {name: round(self._seconds[name], 6) for name in STEPS if name in self._seconds}


def ms_per_invoice(shards: Sequence[Mapping[str, float]], invoices: int) -> dict[str, float]:
    """Milliseconds per invoice of each step, summed over the shards; none without invoices."""
    if invoices <= 0:
        return {}
    totals: dict[str, float] = defaultdict(float)
    for seconds in shards:
        for name, value in seconds.items():
            totals[name] += value
    return {name: round(totals[name] * 1000 / invoices, 3) for name in STEPS if name in totals}
