"""The print batch: the archived PDFs of a run's post customers, in number order, as one file.

One batch per run execution, under a key made of the run and the execution. A document goes into
a batch once: a retried finalize finds its documents recorded for the same batch and builds the
same batch again (the stored one is kept); a later execution of the run gets only the documents
no earlier batch took.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from pypdf import PdfReader, PdfWriter

from shared.delivery import rules
from shared.delivery.model import DeliveryRecord, PrintBatch
from shared.delivery.ports import DeliveryLog, PdfSource, PrintBatchStore
from shared.invoicing.numbering import sequence_of
from shared.invoicing.run import PostDocument

logger = logging.getLogger(__name__)

PRINT_PREFIX = "print/"


def batch_key(run_id: str, execution: str) -> str:
    return f"{PRINT_PREFIX}{run_id}/{execution}.pdf"


def merge_pdfs(pdfs: Iterable[bytes], *, title: str) -> tuple[bytes, int]:
    """The documents one after another as one PDF, and its page count."""
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    writer.add_metadata({"/Title": title, "/Producer": "billing"})
    pages = len(writer.pages)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue(), pages


def in_number_order(documents: Iterable[PostDocument]) -> list[PostDocument]:
    unique = {document.number: document for document in documents}
    return sorted(unique.values(), key=lambda document: sequence_of(document.number))


class PrintBatches:
    def __init__(
        self,
        *,
        log: DeliveryLog,
        archive: PdfSource,
        store: PrintBatchStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._log = log
        self._archive = archive
        self._store = store
        self._clock = clock

    def print_run(
        self, run_id: str, execution: str, documents: Sequence[PostDocument]
    ) -> PrintBatch | None:
        key = batch_key(run_id, execution)
        ordered = in_number_order(documents)
        records = self._log.get_many(run_id, [document.number for document in ordered])
        wanted = [d for d in ordered if _belongs(records.get(d.number), key)]
        if not wanted:
            return None

        body, pages = merge_pdfs(
            (self._archive.read(d.pdf_key) for d in wanted), title=f"Druckstapel {run_id}"
        )
        if not self._store.store(key, body):
            logger.info("print batch kept from an earlier attempt", extra={"key": key})
        for document in wanted:
            self._record(run_id, key, document, records.get(document.number))
        logger.info(
            "print batch written", extra={"run_id": run_id, "key": key, "invoices": len(wanted)}
        )
        return PrintBatch(
            key=key, invoices=len(wanted), pages=pages, numbers=tuple(d.number for d in wanted)
        )

    def _record(
        self, run_id: str, key: str, document: PostDocument, previous: DeliveryRecord | None
    ) -> None:
        if previous is not None and previous.status == "printed":
            return
        record = rules.printed(
            run_id=run_id,
            number=document.number,
            customer_id=document.customer_id,
            batch_key=key,
            now=self._clock(),
        )
        self._log.put(record, replacing=previous)


def _belongs(record: DeliveryRecord | None, key: str) -> bool:
    """Not printed yet, or printed in this very batch by an earlier attempt."""
    if record is None or record.status != "printed":
        return True
    return record.print_batch == key
