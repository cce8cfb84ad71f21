"""Corrections are new documents: a cancellation reverses an issued invoice line by line.

The original is never touched. A cancellation takes its number from its own range (credit notes,
prefix ``GS``); the number is reserved under the original's number, so cancelling the same invoice
again finds the first cancellation instead of issuing a second one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from shared.invoicing.documents import render_document, xml_key
from shared.invoicing.model import Correction, Invoice, InvoiceDraft, document_key
from shared.invoicing.numbering import range_key
from shared.periods import retain_until
from shared.ports import DocumentArchive, DocumentStore, NumberRanges

logger = logging.getLogger(__name__)

CORRECTION_SHARD = 0


class CorrectionError(Exception):
    """A correction that cannot be made, with the reason in words."""


@dataclass(frozen=True)
class Cancelled:
    cancellation: Invoice
    created: bool


@dataclass
class CorrectionService:
    documents: DocumentStore
    ranges: NumberRanges
    archive: DocumentArchive
    credit_prefix: str
    retention_years: int

    def cancel(self, number: str, *, reason: str, today: date) -> Cancelled:
        original = self.documents.get_document(number)
        if original is None:
            raise CorrectionError(f"no invoice {number} in the archive")
        if original.document_type != "invoice":
            raise CorrectionError(f"{number} is a {original.document_type}, not an invoice")

        cancellation = self._cancellation(original, reason=reason, today=today)
        key = document_key(cancellation.customer_id, cancellation.number)
        rendered = render_document(cancellation)
        until = retain_until(cancellation.issue_date, self.retention_years)
        self.archive.store_pdf(key, rendered.pdf, retain_until=until)
        if rendered.xml is not None:
            self.archive.store_xml(xml_key(key), rendered.xml, retain_until=until)
        created = self.documents.issue_correction(cancellation, pdf_key=key)
        stored = cancellation if created else self.documents.get_document(cancellation.number)
        logger.info(
            "invoice cancelled" if created else "invoice was already cancelled",
            extra={"customer_id": original.customer_id, "invoice_number": number},
        )
        return Cancelled(stored or cancellation, created)

    def _cancellation(self, original: Invoice, *, reason: str, today: date) -> Invoice:
        purpose = f"cancel-{original.number}"
        number_range = range_key(self.credit_prefix, today.year)
        blocks = self.ranges.blocks(number_range, purpose, CORRECTION_SHARD)
        block = (
            blocks[0]
            if blocks
            else self.ranges.reserve(
                number_range, purpose, CORRECTION_SHARD, [original.customer_id], today
            )
        )
        return Invoice(
            document_type="cancellation",
            correction=Correction(
                refers_to=original.number, refers_to_date=original.issue_date, reason=reason
            ),
            number=block.assignment()[original.customer_id],
            run_id=original.run_id,
            issue_date=block.issue_date,
            due_date=block.issue_date,
            seller=original.seller,
            draft=reversed_draft(original.draft),
        )


def reversed_draft(draft: InvoiceDraft) -> InvoiceDraft:
    """Every amount negated: the cancellation and the original add up to zero, cent by cent."""
    return draft.model_copy(
        update={
            "lines": tuple(
                line.model_copy(update={"net": -line.net, "quantity": -line.quantity})
                for line in draft.lines
            ),
            "vat_groups": tuple(
                group.model_copy(update={"net": -group.net, "vat": -group.vat})
                for group in draft.vat_groups
            ),
            "net": -draft.net,
            "vat": -draft.vat,
            "gross": -draft.gross,
        }
    )
