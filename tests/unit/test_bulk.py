"""Bulk work collects less often while it runs and leaves the collector as it found it."""

from __future__ import annotations

import gc
import weakref

import pytest

from shared.bulk import GENERATION_0, fewer_collections


def test_the_collector_runs_less_often_inside_and_as_before_after() -> None:
    before = gc.get_threshold()

    with fewer_collections():
        inside = gc.get_threshold()
        frozen = gc.get_freeze_count()

    assert inside == (GENERATION_0, before[1], before[2])
    assert frozen > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_nested_block_leaves_the_settings_to_the_outer_one() -> None:
    before = gc.get_threshold()

    with fewer_collections():
        with fewer_collections():
            pass
        still = gc.get_threshold()

    assert still[0] == GENERATION_0
    assert gc.get_threshold() == before


def test_garbage_of_the_block_is_collected_after_it() -> None:
    class Node:
        partner: Node | None = None

    watched: list[weakref.ref[Node]] = []

    def fail_half_way() -> None:
        with fewer_collections():
            left, right = Node(), Node()
            left.partner, right.partner = right, left
            watched.append(weakref.ref(left))
            del left, right
            raise RuntimeError("the import failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    gc.collect()

    assert gc.get_freeze_count() == 0
    assert watched[0]() is None
