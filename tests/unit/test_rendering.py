"""Documents rendered on processes of their own are the documents rendered in the worker."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator

import pytest

from shared.invoicing import rendering
from shared.invoicing.documents import render_document
from shared.invoicing.model import Invoice
from shared.invoicing.rendering import (
    IN_FLIGHT_PER_PROCESS,
    InlineRenderer,
    ProcessRenderer,
    Rendered,
    renderer_for,
)
from tests.unit.test_pdf import invoice


def documents(count: int) -> list[Invoice]:
    """Invoices of one to five lines; every fourth an XRechnung without the buyer's Leitweg-ID,
    which cannot be rendered."""
    made = []
    for number in range(1, count + 1):
        issued = invoice(number % 5 + 1, number=number)
        if number % 4 == 0:
            buyer = issued.draft.buyer.model_copy(update={"einvoice": "xrechnung-xml"})
            issued = issued.model_copy(
                update={"draft": issued.draft.model_copy(update={"buyer": buyer})}
            )
        made.append(issued)
    return made


def outcomes(rendered: list[Rendered]) -> list[tuple[str, bytes | None, str | None]]:
    return [
        (
            item.invoice.number,
            item.document.pdf if item.document else None,
            str(item.error) if item.error else None,
        )
        for item in rendered
    ]


@pytest.fixture
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    rendering.stop_render_processes()  # those an earlier test of this interpreter left idle
    monkeypatch.setattr(rendering, "_processes", rendering._Processes())
    yield
    rendering.stop_render_processes()


def rendering_processes() -> set[int]:
    """The process ids of this interpreter's live rendering processes."""
    return {child.pid for child in multiprocessing.active_children() if child.pid is not None}


def test_processes_render_the_same_documents_in_the_same_order(fresh_pools: None) -> None:
    invoices = documents(12)

    on_processes = list(ProcessRenderer(2).render_all(invoices))
    inline = list(InlineRenderer().render_all(invoices))

    assert outcomes(on_processes) == outcomes(inline)
    assert [item.invoice.number for item in on_processes] == [i.number for i in invoices]
    assert sum(item.error is not None for item in on_processes) == 3
    assert "lacks for XRechnung: buyer reference" in str(on_processes[3].error)
    assert all(item.seconds > 0 for item in on_processes)
    assert on_processes[0].document == render_document(invoices[0])


def test_only_a_few_documents_are_in_flight_ahead_of_the_worker(fresh_pools: None) -> None:
    pulled: list[str] = []

    def lazily(invoices: list[Invoice]) -> Iterator[Invoice]:
        for issued in invoices:
            pulled.append(issued.number)
            yield issued

    rendered = ProcessRenderer(1).render_all(lazily(documents(20)))
    first = next(rendered)

    assert first.invoice.number == "RE-2026-00000001"
    assert len(pulled) == IN_FLIGHT_PER_PROCESS
    assert len(list(rendered)) == 19
    assert len(pulled) == 20


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "stopped"])
def test_a_render_process_that_dies_or_hangs_leaves_the_rest_to_the_worker(
    stop: signal.Signals,
    fresh_pools: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rendering, "PROCESS_TIMEOUT_SECONDS", 2.0)
    invoices = documents(10)
    renderer = ProcessRenderer(1)
    rendered = renderer.render_all(invoices)
    first = [next(rendered), next(rendered)]

    (pid,) = rendering_processes()
    os.kill(pid, stop)
    with caplog.at_level(logging.WARNING, logger="shared.invoicing.rendering"):
        rest = list(rendered)

    assert outcomes(first + rest) == outcomes(list(InlineRenderer().render_all(invoices)))
    assert "render process ended unexpectedly, rendering in the worker" in caplog.messages
    assert rendering_processes() == set()
    list(renderer.render_all(documents(2)))
    assert len(rendering_processes() - {pid}) == 1  # the next shard gets a new process


def test_a_worker_that_stops_early_does_not_hand_on_its_processes(fresh_pools: None) -> None:
    """Their answers to documents nobody collected would go to the next worker."""
    renderer = ProcessRenderer(1)
    rendered = renderer.render_all(documents(10))
    next(rendered)
    assert len(rendering_processes()) == 1
    rendered.close()

    assert rendering_processes() == set()
    assert outcomes(list(renderer.render_all(documents(3)))) == outcomes(
        list(InlineRenderer().render_all(documents(3)))
    )


def test_a_finished_worker_hands_its_processes_on(fresh_pools: None) -> None:
    renderer = ProcessRenderer(2)
    list(renderer.render_all(documents(5)))
    kept = rendering_processes()
    list(renderer.render_all(documents(5)))

    assert len(kept) == 2
    assert rendering_processes() == kept


def test_where_processes_cannot_start_the_worker_renders(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """As on AWS Lambda, which has no /dev/shm for the pool's locks."""
    attempts: list[object] = []

    def refused(context: object) -> None:
        attempts.append(context)
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(rendering, "_processes", rendering._Processes())
    monkeypatch.setattr(rendering, "RenderProcess", refused)
    invoices = documents(3)

    with caplog.at_level(logging.WARNING, logger="shared.invoicing.rendering"):
        first = list(ProcessRenderer(2).render_all(invoices))
        second = list(ProcessRenderer(2).render_all(invoices))

    assert (
        outcomes(first) == outcomes(second) == outcomes(list(InlineRenderer().render_all(invoices)))
    )
    assert len(attempts) == 1
    assert caplog.messages == ["render processes unavailable, rendering in the worker"]


def test_no_processes_means_rendering_in_the_worker() -> None:
    assert isinstance(renderer_for(0), InlineRenderer)
    assert isinstance(renderer_for(2), ProcessRenderer)
    with pytest.raises(ValueError, match="at least one process"):
        ProcessRenderer(0)
