"""Step timings of a shard, and their share per invoice in the run's report."""

from __future__ import annotations

import pytest

from shared.invoicing.steps import StepTimes, ms_per_invoice


class TickingClock:
    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_each_step_sums_the_time_spent_inside_it() -> None:
    times = StepTimes(clock=TickingClock(0.5))

    with times.step("rendering"):
        pass
    with times.step("rendering"):
        pass
    with times.step("storing"):
        pass

    assert times.seconds() == {"rendering": 1.0, "storing": 0.5}


def test_a_failing_step_still_counts_its_time() -> None:
    times = StepTimes(clock=TickingClock(0.25))

    with pytest.raises(RuntimeError), times.step("storing"):
        raise RuntimeError("s3 down")

    assert times.seconds() == {"storing": 0.25}


def test_an_unknown_step_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown step 'printing'"), StepTimes().step("printing"):
        pass


def test_shards_add_up_to_milliseconds_per_invoice_in_step_order() -> None:
    shards = [{"storing": 0.2, "rating": 0.1}, {"rating": 0.3}]

    figures = ms_per_invoice(shards, invoices=100)

    assert figures == {"rating": 4.0, "storing": 2.0}
    assert list(figures) == ["rating", "storing"]


def test_a_run_without_new_invoices_has_no_figures() -> None:
    assert ms_per_invoice([{"rating": 0.3}], invoices=0) == {}
