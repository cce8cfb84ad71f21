"""Renders a shard's documents one after the other, or on processes of their own.

Rendering (the CII XML and the PDF/A) is pure computation, the largest part of a worker's own
CPU time. A worker with more than one CPU can render the next documents on the other CPUs while
it stores the ones before: ``ProcessRenderer``. On AWS each shard is a Lambda worker of its own
and renders on its one CPU (``InlineRenderer``, ``BILLING_RENDER_PROCESSES=0``). The embedded
AWS runs every worker on one interpreter and gives rendering the machine's spare cores
(``localaws.embedded.embedded_settings``).

Either way the documents come back in the order of the invoices, byte for byte the same. A
rendering process is a fresh interpreter (``spawn``: the worker runs threads) that talks to its
worker over a pipe of its own, so a process that dies ends in an error on that pipe, never in a
wait: the worker then renders what was left itself. A pool of processes and queues shared by
them (``concurrent.futures``) hung when a process was killed halfway through sending a result.
As with every ``spawn`` start, a script that bills must start its work under
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from shared.invoicing.cii import EInvoiceError
from shared.invoicing.documents import RenderedDocument, render_document
from shared.invoicing.model import Invoice
from shared.invoicing.pdf.writer import shared_objects

logger = logging.getLogger(__name__)

# Documents a worker keeps in flight per rendering process: enough that a process never waits
# for the worker, few enough that a slow store does not pile up rendered PDFs in memory.
IN_FLIGHT_PER_PROCESS = 8
# How long a process may take to come up, and then to render one document, before the worker
# gives up on it.
PROCESS_TIMEOUT_SECONDS = 60.0

# What rendering one invoice gave: the document or the reason there is none, and its seconds.
_Outcome = tuple[RenderedDocument | None, EInvoiceError | None, float]


class RenderProcessError(Exception):
    """A rendering process ended or stopped answering."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A document rendered, or the reason it could not be, and the seconds its rendering took:
    on another process (``elsewhere``), while the worker waited ``waited`` seconds for it."""

    invoice: Invoice
    document: RenderedDocument | None
    error: EInvoiceError | None
    seconds: float
    elsewhere: bool = False
    waited: float = 0.0


class Renderer(Protocol):
    def render_all(self, invoices: Iterable[Invoice]) -> Iterator[Rendered]: ...


@dataclass(frozen=True)
class InlineRenderer:
    render: Callable[[Invoice], RenderedDocument] = render_document

    def render_all(self, invoices: Iterable[Invoice]) -> Iterator[Rendered]:
        for invoice in invoices:
            document, error, seconds = _timed_render(self.render, invoice)
            yield Rendered(invoice, document, error, seconds)


class ProcessRenderer:
    """Renders on ``processes`` processes, borrowed from those this interpreter keeps."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a process renderer needs at least one process")
        self.processes = processes

    def render_all(self, invoices: Iterable[Invoice]) -> Iterator[Rendered]:
        borrowed = _processes.borrow(self.processes)
        if not borrowed:
            yield from InlineRenderer().render_all(invoices)
            return

        waiting: deque[tuple[Invoice, RenderProcess]] = deque()
        upcoming = iter(invoices)
        healthy = True
        try:
            for index, invoice in enumerate(upcoming):
                process = borrowed[index % len(borrowed)]
                waiting.append((invoice, process))
                process.send(invoice)
                if len(waiting) >= len(borrowed) * IN_FLIGHT_PER_PROCESS:
                    yield self._oldest(waiting)
            while waiting:
                yield self._oldest(waiting)
        except RenderProcessError as error:
            healthy = False
            logger.warning(
                "render process ended unexpectedly, rendering in the worker",
                extra={"reason": str(error)},
            )
            rest = [invoice for invoice, _ in waiting]
            waiting.clear()
            yield from InlineRenderer().render_all([*rest, *upcoming])
        finally:
            _processes.give_back(borrowed, healthy=healthy and not waiting)

    @staticmethod
    def _oldest(waiting: deque[tuple[Invoice, RenderProcess]]) -> Rendered:
        """The oldest document in flight; it stays waiting if its process broke down."""
        invoice, process = waiting[0]
        started = time.perf_counter()
        document, error, seconds = process.receive()
        waited = time.perf_counter() - started
        waiting.popleft()
        return Rendered(invoice, document, error, seconds, elsewhere=True, waited=waited)


def renderer_for(processes: int) -> Renderer:
    """The renderer a worker is built with; its processes start with it (at the worker's cold
    start), so that they are up by the time its first shard renders."""
    if processes < 1:
        return InlineRenderer()
    _processes.give_back(_processes.borrow(processes), healthy=True)
    return ProcessRenderer(processes)


class RenderProcess:
    """One rendering process and the worker's end of its pipe; answers in the order asked."""

    def __init__(self, context: Any) -> None:
        self._connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self.process.start()
        theirs.close()  # the process holds the only other end: its death ends the pipe

    def send(self, invoice: Invoice) -> None:
        try:
            self._connection.send(invoice)
        except OSError as error:
            raise RenderProcessError(f"render process {self.process.pid}: {error}") from error

    def receive(self) -> _Outcome:
        try:
            if not self._connection.poll(PROCESS_TIMEOUT_SECONDS):
                raise RenderProcessError(f"render process {self.process.pid} stopped answering")
            outcome: _Outcome = self._connection.recv()
        except (EOFError, OSError) as error:
            raise RenderProcessError(f"render process {self.process.pid} ended") from error
        return outcome

    def stop(self) -> None:
        self._connection.close()
        self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=1)


def _serve(connection: Connection) -> None:
    """A rendering process: renders what it is sent until its worker closes the pipe. It reads
    the fonts and the PDF objects every document shares first (0.2 s), before it is asked."""
    shared_objects()
    while True:
        try:
            invoice = connection.recv()
            connection.send(_timed_render(render_document, invoice))
        except (EOFError, BrokenPipeError):  # the worker is gone or gave up on this process
            return


def _timed_render(render: Callable[[Invoice], RenderedDocument], invoice: Invoice) -> _Outcome:
    started = time.perf_counter()
    try:
        document = render(invoice)
    except EInvoiceError as error:
        return None, error, time.perf_counter() - started
    return document, None, time.perf_counter() - started


class _Processes:
    """The idle rendering processes of this interpreter, kept as a warm Lambda keeps its state;
    started on first use. Concurrent workers borrow processes of their own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[RenderProcess] = []
        self._unavailable = False

    def borrow(self, count: int) -> list[RenderProcess]:
        """Up to ``count`` processes; none where processes cannot start here."""
        with self._lock:
            if self._unavailable:
                return []
            borrowed, self._idle = self._idle[:count], self._idle[count:]
        try:
            while len(borrowed) < count:
                borrowed.append(RenderProcess(multiprocessing.get_context("spawn")))
        except (OSError, RuntimeError) as error:
            logger.warning(
                "render processes unavailable, rendering in the worker",
                extra={"reason": str(error)},
            )
            with self._lock:
                self._unavailable = True
        return borrowed

    def give_back(self, processes: list[RenderProcess], *, healthy: bool) -> None:
        """Keep healthy processes for the next worker; stop the others."""
        if not healthy:
            for process in processes:
                process.stop()
            return
        with self._lock:
            self._idle.extend(processes)

    def stop_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.stop()


_processes = _Processes()


def stop_render_processes() -> None:
    """Stop this interpreter's idle rendering processes; the next render starts new ones."""
    _processes.stop_all()
