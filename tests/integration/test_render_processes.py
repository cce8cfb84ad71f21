"""The embedded AWS gives the invoice worker the machine's spare cores to render on."""

from __future__ import annotations

import os

import pytest

from localaws import embedded
from shared.invoicing import rendering


def test_the_invoice_worker_renders_on_the_spare_cores_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert embedded.embedded_settings()["BILLING_RENDER_PROCESSES"] == "2"
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert embedded.embedded_settings()["BILLING_RENDER_PROCESSES"] == "1"
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert embedded.embedded_settings()["BILLING_RENDER_PROCESSES"] == "0"

    given = embedded.embedded_settings(
        {"BILLING_RENDER_PROCESSES": "0", "BILLING_SHARD_COUNT": "4"}
    )
    assert given == {"BILLING_RENDER_PROCESSES": "0", "BILLING_SHARD_COUNT": "4"}


def test_the_rendering_processes_start_with_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    rendering.stop_render_processes()
    monkeypatch.setattr(rendering, "_processes", rendering._Processes())

    with embedded.in_process({"BILLING_RENDER_PROCESSES": "2"}) as stack:
        started = rendering._processes.borrow(2)
        rendering._processes.give_back(started, healthy=True)

        assert stack.function_environment["BILLING_RENDER_PROCESSES"] == "2"
        assert len(started) == 2
        assert all(process.process.is_alive() for process in started)
    rendering.stop_render_processes()


def test_no_rendering_processes_start_where_the_worker_renders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rendering, "_processes", rendering._Processes())

    with embedded.in_process({"BILLING_RENDER_PROCESSES": "0"}):
        assert rendering._processes._idle == []
