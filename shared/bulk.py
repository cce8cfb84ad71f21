"""Bulk work that builds many objects which live until it ends: a statement of 100,000 entries
parsed and imported, a shard of invoices.

Python's cycle collector runs after every 700 new container objects and, as the older
generations fill up with objects that are still in use, walks them ever more often: it cost a
third of the time of a 100,000-entry import (see ``bench/payments.py``). While bulk work runs,
the youngest generation collects after ``GENERATION_0`` new objects instead; what the work
leaves as garbage is still collected, later and in fewer passes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GENERATION_0 = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect less often while the block runs; nested blocks leave it to the outermost."""
    first, second, third = gc.get_threshold()
    if first >= GENERATION_0:
        yield
        return

    gc.set_threshold(GENERATION_0, second, third)
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(first, second, third)
