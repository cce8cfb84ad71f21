"""What the rules need from storage, as small interfaces. DynamoDB and S3 implement them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from shared.contracts import Position
from shared.customers import Customer
from shared.invoicing.model import Invoice
from shared.invoicing.numbering import NumberBlock
from shared.invoicing.run import RateTotal
from shared.payments.mandates import StoredMandate
from shared.periods import Period


@dataclass(frozen=True)
class BilledMarker:
    """Records that a customer's period is billed, by which run, with which invoice."""

    customer_id: str
    run_id: str
    number: str
    net: Decimal
    vat: Decimal
    gross: Decimal
    by_rate: tuple[RateTotal, ...] = ()


@dataclass
class ShardSnapshot:
    customers: list[Customer] = field(default_factory=list)
    positions: dict[str, list[Position]] = field(default_factory=dict)
    # Each customer's SEPA mandates, revoked ones too.
    mandates: dict[str, list[StoredMandate]] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentSummary:
    customer_id: str
    number: str
    document_type: str
    issue_date: str
    period: str
    gross: Decimal
    pdf_key: str


@dataclass(frozen=True)
class DocumentQuery:
    """Which of a customer's documents a page lists: issue dates inclusive, ISO format."""

    issued_from: str | None = None
    issued_to: str | None = None
    # Empty means every type.
    document_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentPage:
    documents: tuple[DocumentSummary, ...]
    cursor: str | None


class ContractStore(Protocol):
    def load_shard(self, shard: int, period: Period) -> ShardSnapshot: ...

    def save_customers(self, customers: Iterable[Customer]) -> None: ...

    def save_positions(
        self, shard_of_customer: dict[str, int], positions: Iterable[Position]
    ) -> None: ...


class NumberRanges(Protocol):
    def blocks(self, number_range: str, run_id: str, shard: int) -> list[NumberBlock]: ...

    def voided(self, number_range: str, run_id: str, shard: int) -> dict[str, str]: ...

    def reserve(
        self,
        number_range: str,
        run_id: str,
        shard: int,
        customers: Sequence[str],
        issue_date: date,
    ) -> NumberBlock: ...

    def record_void(self, *, block: NumberBlock, number: str, reason: str) -> None: ...


class DocumentStore(Protocol):
    def issue_invoice(self, invoice: Invoice, *, shard: int, pdf_key: str) -> bool:
        """Write the invoice once; False when it had been issued before."""
        ...

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        """Record the number as void; False when an invoice already holds it."""
        ...

    def billed_markers(self, shard: int, period: str) -> dict[str, BilledMarker]: ...

    def issued_marker(
        self, customer_id: str, issue_date: date, number: str
    ) -> BilledMarker | None: ...

    def customer_documents(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None,
        query: DocumentQuery | None = None,
    ) -> DocumentPage:
        """Newest first, one storage query per page."""
        ...

    def find_by_number(self, number: str) -> DocumentSummary | None: ...

    def get_document(self, number: str) -> Invoice | None: ...

    def issue_correction(self, document: Invoice, *, pdf_key: str) -> bool:
        """Write a correcting document once; False when it had been issued before."""
        ...


class DocumentArchive(Protocol):
    def store_pdf(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        """Store once under retention; False when the document was already there."""
        ...

    def store_xml(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        """The e-invoice XML of a customer who takes it on its own, stored like the PDF."""
        ...

    def read(self, key: str) -> bytes: ...

    def read_if_present(self, key: str) -> bytes | None: ...

    def download_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A URL that serves the object for ``expires_in`` seconds; with ``filename`` the
        answer asks the browser to save it under that name."""
        ...
