"""In-memory stand-ins for the storage ports, with the conditional writes of DynamoDB and S3.

A document place (customer, issue date, number) is taken once, by an invoice or by a void; a PDF
is stored once; a block of numbers is reserved once per run, shard and index. Reads hand out
copies or frozen values, so a test sees only what was written through a port. Sample parties and
positions for the tests are at the end.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import settings

from shared.contracts import Position
from shared.customers import Address, Customer
from shared.invoicing.model import Invoice, Seller
from shared.invoicing.numbering import NumberBlock, format_number
from shared.invoicing.run import RateTotal, ShardResult
from shared.orders.model import Mandate
from shared.payments.mandates import StoredMandate
from shared.periods import Period
from shared.ports import (
    BilledMarker,
    DocumentPage,
    DocumentQuery,
    DocumentSummary,
    ShardSnapshot,
)
from shared.tax import TaxCategory


class FakeContracts:
    def __init__(self) -> None:
        self.customers: dict[int, dict[str, Customer]] = {}
        self.positions: dict[int, dict[str, Position]] = {}
        self.mandates: dict[int, dict[str, StoredMandate]] = {}

    def load_shard(self, shard: int, period: Period) -> ShardSnapshot:
        snapshot = ShardSnapshot(customers=list(self.customers.get(shard, {}).values()))
        for position in self.positions.get(shard, {}).values():
            snapshot.positions.setdefault(position.customer_id, []).append(position)
        for stored in self.mandates.get(shard, {}).values():
            snapshot.mandates.setdefault(stored.customer_id, []).append(stored)
        return snapshot

    def save_mandates(self, shard_of_customer: dict[str, int], mandates: Iterable[Mandate]) -> None:
        for mandate in mandates:
            self.keep_mandate(shard_of_customer[mandate.customer_id], StoredMandate(mandate))

    def keep_mandate(self, shard: int, stored: StoredMandate) -> None:
        """A mandate as the store holds it, with what was noted on it (revoked, collected)."""
        key = f"{stored.customer_id}#{stored.mandate.reference}"
        self.mandates.setdefault(shard, {})[key] = stored

    def save_customers(self, customers: Iterable[Customer]) -> None:
        for customer in customers:
            self.customers.setdefault(customer.shard, {})[customer.customer_id] = customer

    def save_positions(
        self, shard_of_customer: dict[str, int], positions: Iterable[Position]
    ) -> None:
        for position in positions:
            shard = shard_of_customer[position.customer_id]
            key = f"{position.customer_id}#{position.position_id}"
            self.positions.setdefault(shard, {})[key] = position

    def remove_positions(self, shard: int, customer_id: str) -> None:
        """What a cancellation between two attempts of a shard looks like to the run."""
        stored = self.positions.get(shard, {})
        for key in [k for k, p in stored.items() if p.customer_id == customer_id]:
            del stored[key]


@dataclass
class _Block:
    block: NumberBlock
    voids: dict[str, str] = field(default_factory=dict)


class FakeNumberRanges:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.block_records: dict[str, dict[str, _Block]] = {}

    def blocks(self, number_range: str, run_id: str, shard: int) -> list[NumberBlock]:
        return [record.block for record in self._records(number_range, run_id, shard)]

    def voided(self, number_range: str, run_id: str, shard: int) -> dict[str, str]:
        return {
            number: reason
            for record in self._records(number_range, run_id, shard)
            for number, reason in record.voids.items()
        }

    def reserve(
        self,
        number_range: str,
        run_id: str,
        shard: int,
        customers: Sequence[str],
        issue_date: date,
    ) -> NumberBlock:
        existing = self._records(number_range, run_id, shard)
        block_id = f"BLOCK#{run_id}#{shard:05d}#{len(existing):04d}"
        records = self.block_records.setdefault(number_range, {})
        if block_id in records:
            return records[block_id].block

        first = self.counters.get(number_range, 1)
        self.counters[number_range] = first + len(customers)
        block = NumberBlock(number_range, block_id, first, tuple(customers), issue_date)
        records[block_id] = _Block(block)
        return block

    def record_void(self, *, block: NumberBlock, number: str, reason: str) -> None:
        self.block_records[block.number_range][block.block_id].voids[number] = reason

    def handed_out(self, number_range: str) -> list[str]:
        """Every number the range has given away so far, in order."""
        last = self.counters.get(number_range, 1)
        return [format_number(number_range, sequence) for sequence in range(1, last)]

    def _records(self, number_range: str, run_id: str, shard: int) -> list[_Block]:
        prefix = f"BLOCK#{run_id}#{shard:05d}#"
        records = self.block_records.get(number_range, {})
        return [records[key] for key in sorted(records) if key.startswith(prefix)]


@dataclass(frozen=True)
class Issued:
    invoice: Invoice
    shard: int
    pdf_key: str


@dataclass(frozen=True)
class Voided:
    number: str
    reason: str


class FakeDocuments:
    """One place per customer, issue date and number, taken once: by an invoice or by a void.

    ``lagging`` answers ``billed_markers`` as a stale index would, without any marker: the index
    by shard and period is eventually consistent in DynamoDB, so a retry may not see its writes.
    """

    def __init__(self, *, lagging: bool = False) -> None:
        self.lagging = lagging
        self.places: dict[tuple[str, str], Issued | Voided] = {}

    def issue_invoice(self, invoice: Invoice, *, shard: int, pdf_key: str) -> bool:
        key = (invoice.customer_id, _place(invoice.issue_date, invoice.number))
        if key in self.places:
            return False

        self.places[key] = Issued(invoice, shard, pdf_key)
        return True

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        key = (customer_id, _place(issue_date, number))
        taken = self.places.setdefault(key, Voided(number, reason))
        return isinstance(taken, Voided)

    def billed_markers(self, shard: int, period: str) -> dict[str, BilledMarker]:
        if self.lagging:
            return {}
        return {
            issued.invoice.customer_id: _marker(issued.invoice)
            for issued in self._issued()
            if issued.shard == shard and issued.invoice.draft.period == period
        }

    def issued_marker(self, customer_id: str, issue_date: date, number: str) -> BilledMarker | None:
        taken = self.places.get((customer_id, _place(issue_date, number)))
        return _marker(taken.invoice) if isinstance(taken, Issued) else None

    def customer_documents(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None,
        query: DocumentQuery | None = None,
    ) -> DocumentPage:
        ours = sorted(
            (place, taken)
            for (cid, place), taken in self.places.items()
            if cid == customer_id and isinstance(taken, Issued)
        )
        start = int(cursor) if cursor else 0
        page = ours[start : start + limit]
        more = start + limit < len(ours)
        summaries = tuple(_summary(issued) for _, issued in reversed(page))
        return DocumentPage(summaries, str(start + limit) if more else None)

    def find_by_number(self, number: str) -> DocumentSummary | None:
        found = self.invoices().get(number)
        return _summary(found) if found else None

    def invoices(self) -> dict[str, Issued]:
        return {issued.invoice.number: issued for issued in self._issued()}

    def voids(self) -> dict[str, str]:
        return {
            taken.number: taken.reason
            for taken in self.places.values()
            if isinstance(taken, Voided)
        }

    def _issued(self) -> list[Issued]:
        return [taken for taken in self.places.values() if isinstance(taken, Issued)]


def _place(issue_date: date, number: str) -> str:
    return f"DOC#{issue_date.isoformat()}#{number}"


def _summary(issued: Issued) -> DocumentSummary:
    invoice = issued.invoice
    return DocumentSummary(
        customer_id=invoice.customer_id,
        number=invoice.number,
        document_type=invoice.document_type,
        issue_date=invoice.issue_date.isoformat(),
        period=invoice.draft.period,
        gross=invoice.draft.gross,
        pdf_key=issued.pdf_key,
    )


def _marker(invoice: Invoice) -> BilledMarker:
    draft = invoice.draft
    return BilledMarker(
        customer_id=invoice.customer_id,
        run_id=invoice.run_id,
        number=invoice.number,
        net=draft.net,
        vat=draft.vat,
        gross=draft.gross,
        by_rate=tuple(RateTotal(rate=g.rate, net=g.net, vat=g.vat) for g in draft.vat_groups),
    )


class FailingOnce:
    """A DocumentStore whose first write of one customer's invoice is lost with the worker."""

    def __init__(self, inner: FakeDocuments, customer_id: str) -> None:
        self.inner = inner
        self.customer_id = customer_id
        self.failed = False

    def issue_invoice(self, invoice: Invoice, *, shard: int, pdf_key: str) -> bool:
        if invoice.customer_id == self.customer_id and not self.failed:
            self.failed = True
            raise ConnectionError("worker lost before the document was written")
        return self.inner.issue_invoice(invoice, shard=shard, pdf_key=pdf_key)

    def void_number(self, *, customer_id: str, issue_date: date, number: str, reason: str) -> bool:
        return self.inner.void_number(
            customer_id=customer_id, issue_date=issue_date, number=number, reason=reason
        )

    def billed_markers(self, shard: int, period: str) -> dict[str, BilledMarker]:
        return self.inner.billed_markers(shard, period)

    def issued_marker(self, customer_id: str, issue_date: date, number: str) -> BilledMarker | None:
        return self.inner.issued_marker(customer_id, issue_date, number)

    def customer_documents(
        self,
        customer_id: str,
        *,
        limit: int,
        cursor: str | None,
        query: DocumentQuery | None = None,
    ) -> DocumentPage:
        return self.inner.customer_documents(customer_id, limit=limit, cursor=cursor, query=query)

    def find_by_number(self, number: str) -> DocumentSummary | None:
        return self.inner.find_by_number(number)


class FakeArchive:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.retention: dict[str, datetime] = {}
        self.puts = 0

    def store_pdf(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        if key in self.objects:
            return False

        self.puts += 1
        self.objects[key] = bytes(body)
        self.retention[key] = retain_until
        return True

    def store_xml(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        return self.store_pdf(key, body, retain_until=retain_until)

    def read(self, key: str) -> bytes:
        return self.objects[key]

    def read_if_present(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def download_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        return f"https://archive.invalid/{key}?expires={expires_in}&name={filename}"


class FakeRuns:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}
        self.results: dict[tuple[str, str, int], str] = {}

    def start_run(self, values: dict[str, Any]) -> None:
        self.runs[values["run_id"]] = {"status": "running"} | copy.deepcopy(values)

    def finish_run(self, run_id: str, status: str, report_key: str) -> None:
        self.runs[run_id] |= {"status": status, "report_key": report_key}

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        run = self.runs.get(run_id)
        return copy.deepcopy(run) if run is not None else None

    def save_shard_result(self, execution: str, result: ShardResult) -> None:
        self.results[(result.run_id, execution, result.shard)] = result.model_dump_json()

    def shard_results(self, run_id: str, execution: str) -> list[ShardResult]:
        return [
            ShardResult.model_validate_json(document)
            for (run, run_execution, _), document in sorted(self.results.items())
            if run == run_id and run_execution == execution
        ]


class FakeWork:
    def __init__(self) -> None:
        self.documents: dict[str, str] = {}

    @property
    def bucket(self) -> str:
        return "work-bucket"

    def write_json(self, key: str, document: Any) -> str:
        self.documents[key] = json.dumps(document, default=str)
        return key

    def read_json(self, key: str) -> Any:
        return json.loads(self.documents[key])


@dataclass
class FakePorts:
    """Every port of the invoice run."""

    contracts: FakeContracts = field(default_factory=FakeContracts)
    ranges: FakeNumberRanges = field(default_factory=FakeNumberRanges)
    archive: FakeArchive = field(default_factory=FakeArchive)
    runs: FakeRuns = field(default_factory=FakeRuns)
    work: FakeWork = field(default_factory=FakeWork)
    documents: FakeDocuments = field(default_factory=FakeDocuments)


repeatable = settings(derandomize=True, database=None)
"""Property tests draw the same examples on every run and leave nothing behind."""

SELLER = Seller(
    name="Nordlicht Hosting GmbH",
    address=Address(street="Speicherstraße 7", postal_code="20457", city="Hamburg", country="DE"),
    vat_id="DE287654321",
    trade_register="Amtsgericht Hamburg HRB 123456",
    managing_director="Karin Voß",
    email="rechnung@nordlicht.example",
    iban="DE02200505501015871393",
    bic="HASPDEHHXXX",
    tax_number="27/815/08155",
    phone="+49 40 30 60 70 80",
    contact="Buchhaltung",
    creditor_id="DE98ZZZ09999999999",
)


def customer(number: int, *, shard: int = 0, name: str = "Jürgen Müller") -> Customer:
    return Customer(
        customer_id=f"C{number:07d}",
        name=name,
        email=f"kunde{number}@example.org",
        address=Address(street="Hauptstraße 1", postal_code="10115", city="Berlin", country="DE"),
        shard=shard,
    )


CATALOG_PRODUCTS = ("HOST-S", "SSL-PRO", "MAIL-5", "STORAGE-50")


def position(
    customer_id: str,
    index: int,
    *,
    unit_net: str = "9.99",
    quantity: int = 1,
    category: TaxCategory = TaxCategory.STANDARD,
    start: date = date(2024, 1, 1),
    end: date | None = None,
) -> Position:
    return Position(
        position_id=f"K{customer_id[1:]}-{index:02d}",
        customer_id=customer_id,
        contract_id=f"K{customer_id[1:]}",
        product_id=CATALOG_PRODUCTS[index % len(CATALOG_PRODUCTS)],
        description=f"Leistung {index}",
        quantity=quantity,
        unit_net=Decimal(unit_net),
        tax_category=category,
        start=start,
        end=end,
    )


def mandate(
    customer_id: str,
    *,
    number: int = 1,
    signed_on: date = date(2025, 1, 15),
    iban: str = "DE89370400440532013000",
    bic: str | None = "COBADEFFXXX",
    sequence: str = "FRST",
    holder: str = "Jürgen Müller",
) -> Mandate:
    return Mandate.model_validate(
        {
            "reference": f"M{customer_id[1:]}-{number:02d}",
            "customer_id": customer_id,
            "signed_on": signed_on,
            "iban": iban,
            "bic": bic,
            "account_holder": holder,
            "creditor_id": "DE98ZZZ09999999999",
            "sequence": sequence,
        }
    )
