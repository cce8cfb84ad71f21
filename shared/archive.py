"""What a reader may ask of the document archive: which documents, whose, and their e-invoice.

Nothing here knows HTTP: the archive API turns these errors into answers by their type.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from shared.invoicing.documents import xml_key
from shared.ports import DocumentArchive, DocumentQuery

# Credit notes are stored as cancellations; dunning notices are "dunning"; orders come later.
DOCUMENT_TYPES = ("invoice", "cancellation", "dunning", "order")
STAFF_ROLE = "staff"
EINVOICE_ATTACHMENTS = ("factur-x.xml", "xrechnung.xml")

CUSTOMER_ID = re.compile(r"C[0-9]{7,12}")
_STAFF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ArchiveRequestError(Exception):
    """A request the rules refuse; the message is safe to show to the caller."""


class InvalidQueryError(ArchiveRequestError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotPermittedError(ArchiveRequestError):
    """The reader may not ask this, whatever the archive holds."""


@dataclass(frozen=True)
class Reader:
    """Who asks: a customer reads their own documents, staff any customer's."""

    subject: str
    staff: bool


def reader_from_claims(
    claims: Mapping[str, Any], *, subject_claim: str, role_claim: str
) -> Reader | None:
    """The reader the verified claims name, or None when they name nobody this API serves."""
    subject = claims.get(subject_claim)
    if not isinstance(subject, str):
        return None
    if claims.get(role_claim) == STAFF_ROLE:
        return Reader(subject, staff=True) if _STAFF_ID.fullmatch(subject) else None
    return Reader(subject, staff=False) if CUSTOMER_ID.fullmatch(subject) else None


def customer_to_read(reader: Reader, requested: str | None) -> str:
    """Whose documents the request reads; only staff may name a customer."""
    if not reader.staff:
        if requested is not None:
            raise NotPermittedError("customers read only their own documents")
        return reader.subject
    if requested is None:
        raise InvalidQueryError("customer", "staff name the customer whose documents they read")
    if not CUSTOMER_ID.fullmatch(requested):
        raise InvalidQueryError("customer", "is not a customer id")
    return requested


def document_query(
    types: str | None, issued_from: str | None, issued_to: str | None
) -> DocumentQuery:
    """The filter of a listing from its raw parameters: comma-separated types, ISO dates."""
    low = _iso_date("from", issued_from)
    high = _iso_date("to", issued_to)
    if low and high and low > high:
        raise InvalidQueryError("from", "lies after to")
    return DocumentQuery(low, high, _document_types(types))


def _document_types(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    wanted = tuple(dict.fromkeys(part.strip() for part in raw.split(",")))
    if not wanted or any(kind not in DOCUMENT_TYPES for kind in wanted):
        raise InvalidQueryError("type", "must be one or more of " + ", ".join(DOCUMENT_TYPES))
    return wanted


def _iso_date(field: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw).isoformat()
    except ValueError as error:
        raise InvalidQueryError(field, "must be a date like 2026-01-31") from error


def einvoice_xml(files: DocumentArchive, pdf_key: str) -> bytes | None:
    """The document's e-invoice: its own XML file where archived, else the one in its PDF."""
    standalone = files.read_if_present(xml_key(pdf_key))
    if standalone is not None:
        return standalone
    return embedded_einvoice(files.read(pdf_key))


def embedded_einvoice(pdf: bytes) -> bytes | None:
    """The Factur-X or XRechnung attachment of a PDF/A-3, or None when it carries none."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
    except (PdfReadError, ValueError, KeyError):
        return None
    for name in EINVOICE_ATTACHMENTS:
        if attachments.get(name):
            return attachments[name][0]
    return None
