"""The invoice run's use cases: prepare a run, bill one shard, finalize the run.

Every step may run again (Lambda and Step Functions retries, a second start of the run) and
then does nothing twice: billed markers skip billed customers, number blocks are kept per shard
and run, documents and markers are written in one conditional transaction, PDFs with If-None-Match.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.bulk import fewer_collections
from shared.catalog import Catalog, shipped_catalog
from shared.customers import Customer
from shared.delivery.plan import IssuedNumber, plan_delivery
from shared.delivery.ports import DeliveryQueue, PrintRun
from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import RenderedDocument, xml_key
from shared.invoicing.model import Invoice, InvoiceDraft, Seller, document_key
from shared.invoicing.numbering import Assignment, NumberBlock, range_key
from shared.invoicing.rendering import InlineRenderer, Rendered, Renderer
from shared.invoicing.run import (
    MANIFEST_PREFIX,
    Failure,
    FinalizeRequest,
    RateTotal,
    RunReport,
    ShardRequest,
    ShardResult,
    VoidNumber,
    build_report,
    combine_rates,
    run_id_for,
)
from shared.invoicing.steps import StepTimes
from shared.money import total
from shared.payments.target import business_day_on_or_after
from shared.periods import Period, retain_until
from shared.ports import (
    BilledMarker,
    ContractStore,
    DocumentArchive,
    DocumentStore,
    NumberRanges,
    ShardSnapshot,
)

logger = logging.getLogger(__name__)


class DocumentConflictError(Exception):
    """An archived document differs from the one recomputed for the same number."""


class RunStore(Protocol):
    def start_run(self, values: dict[str, Any]) -> None: ...

    def finish_run(self, run_id: str, status: str, report_key: str) -> None: ...

    def get_run(self, run_id: str) -> dict[str, Any] | None: ...

    def save_shard_result(self, execution: str, result: ShardResult) -> None: ...

    def shard_results(self, run_id: str, execution: str) -> list[ShardResult]: ...


class WorkStore(Protocol):
    @property
    def bucket(self) -> str: ...

    def write_json(self, key: str, document: Any) -> str: ...


class PrepareRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    issue_date: date | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class RunPolicy:
    seller: Seller
    invoice_prefix: str
    payment_term_days: int
    retention_years: int
    shard_count: int
    catalog: Catalog = field(default_factory=shipped_catalog)


@dataclass
class InvoiceRunService:
    contracts: ContractStore
    ranges: NumberRanges
    documents: DocumentStore
    archive: DocumentArchive
    runs: RunStore
    work: WorkStore
    policy: RunPolicy
    renderer: Renderer = field(default_factory=InlineRenderer)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Delivery: the queue e-mail invoices are announced on, and the print batch of post invoices.
    deliveries: DeliveryQueue | None = None
    printer: PrintRun | None = None

    def prepare(self, request: PrepareRequest, *, execution: str) -> dict[str, Any]:
        """Fix what the run bills and write the manifest of shards the map reads."""
        now = self.clock()
        period = Period.parse(request.period) if request.period else Period.previous(now.date())
        issue_date = request.issue_date or now.date()
        run_id = run_id_for(period)
        manifest = [{"shard": shard} for shard in range(self.policy.shard_count)]
        key = self.work.write_json(f"{MANIFEST_PREFIX}{run_id}/{execution}.json", manifest)

        self.runs.start_run(
            {
                "run_id": run_id,
                "period": str(period),
                "issue_date": issue_date.isoformat(),
                "dry_run": request.dry_run,
                "execution": execution,
                "shards": self.policy.shard_count,
                "started_at": now.isoformat(),
            }
        )
        logger.info("invoice run prepared", extra={"run_id": run_id, "execution": execution})
        return {
            "run_id": run_id,
            "period": str(period),
            "issue_date": issue_date.isoformat(),
            "dry_run": request.dry_run,
            "execution": execution,
            "manifest_bucket": self.work.bucket,
            "manifest_key": key,
            "shards": self.policy.shard_count,
        }

    def bill_shard(self, request: ShardRequest) -> ShardResult:
        times = StepTimes()
        with fewer_collections():
            result = self._bill(request, times)

        result = result.model_copy(update={"step_seconds": times.seconds()})
        self.runs.save_shard_result(request.execution, result)
        return result

    def _bill(self, request: ShardRequest, times: StepTimes) -> ShardResult:
        period = Period.parse(request.period)
        with times.step("loading"):
            snapshot = self.contracts.load_shard(request.shard, period)
            billed = self.documents.billed_markers(request.shard, str(period))
        with times.step("rating"):
            drafts, failures = self._compose(snapshot, billed, period)
        if request.dry_run:
            return _dry_result(request, len(snapshot.customers), drafts, failures)

        return self._issue_all(request, snapshot, billed, drafts, failures, times)

    def finalize(self, request: FinalizeRequest) -> RunReport:
        results = self.runs.shard_results(request.run_id, request.execution)
        report = build_report(request=request, shards_total=request.shards, results=results)
        report = self._print(request, results, report)
        run = self.runs.get_run(request.run_id) or {}
        if run.get("started_at"):
            started = datetime.fromisoformat(run["started_at"])
            elapsed = (self.clock() - started).total_seconds()
            report = report.model_copy(update={"seconds": Decimal(f"{elapsed:.1f}")})

        document = report.model_dump(mode="json")
        self.work.write_json(f"runs/{request.run_id}/{request.execution}/report.json", document)
        key = self.work.write_json(f"runs/{request.run_id}/report.json", document)
        self.runs.finish_run(request.run_id, report.status, key)
        logger.info(
            "invoice run finished",
            extra={"run_id": request.run_id, "status": report.status, "invoices": report.invoices},
        )
        return report

    def _compose(
        self, snapshot: ShardSnapshot, billed: dict[str, BilledMarker], period: Period
    ) -> tuple[dict[str, InvoiceDraft], list[Failure]]:
        drafts: dict[str, InvoiceDraft] = {}
        failures = _unusable_records(snapshot, billed)
        for customer in sorted(snapshot.customers, key=lambda c: c.customer_id):
            if customer.customer_id in billed or customer.customer_id in snapshot.invalid:
                continue
            try:
                draft = compose_invoice(
                    customer,
                    snapshot.positions.get(customer.customer_id, []),
                    period,
                    catalog=self.policy.catalog,
                    mandates=snapshot.mandates.get(customer.customer_id, ()),
                )
            except (ValueError, LookupError, ArithmeticError) as error:
                failures.append(Failure(customer_id=customer.customer_id, reason=str(error)))
                continue
            if draft is not None:
                drafts[customer.customer_id] = draft
        return drafts, failures

    def _issue_all(
        self,
        request: ShardRequest,
        snapshot: ShardSnapshot,
        billed: dict[str, BilledMarker],
        drafts: dict[str, InvoiceDraft],
        failures: list[Failure],
        times: StepTimes,
    ) -> ShardResult:
        number_range = range_key(self.policy.invoice_prefix, request.issue_date.year)
        with times.step("numbering"):
            blocks = self._blocks_covering(request, number_range, sorted(drafts))
        assignment = Assignment.of(blocks)
        markers = dict(billed)
        issued = 0
        customer_ids = sorted(drafts, key=lambda c: assignment.numbers[c])
        invoices = (self._invoice(request, assignment, c, drafts[c]) for c in customer_ids)
        for rendered in self.renderer.render_all(invoices):
            _count_rendering(times, rendered)
            issued += self._issue(request, rendered, blocks, markers, failures, times)

        with times.step("numbering"):
            earlier_voids = self.ranges.voided(number_range, request.run_id, request.shard)
            self._void_unused(blocks, assignment, markers, set(earlier_voids))
            voided = self.ranges.voided(number_range, request.run_id, request.shard)
        result = _live_result(request, len(snapshot.customers), markers, issued, failures, voided)
        with times.step("delivery"):
            return self._hand_over(request, snapshot.customers, markers, blocks, result)

    def _hand_over(
        self,
        request: ShardRequest,
        customers: list[Customer],
        markers: dict[str, BilledMarker],
        blocks: list[NumberBlock],
        result: ShardResult,
    ) -> ShardResult:
        """Announce every e-mail invoice of the run in this shard (again, on a retry: the sender
        sends each once); list the post invoices for the print batch."""
        issue_dates = {n: b.issue_date for b in blocks for n in b.assignment().values()}
        issued = [IssuedNumber(m.customer_id, m.number, m.run_id) for m in markers.values()]
        plan = plan_delivery(request.run_id, customers, issued, issue_dates)
        if plan.unplanned:
            logger.error(
                "invoices without customer or issue date left undelivered",
                extra={"run_id": request.run_id, "numbers": list(plan.unplanned)},
            )
        announced = 0
        if self.deliveries is not None and plan.emails:
            self.deliveries.announce(plan.emails)
            announced = len(plan.emails)
        return result.model_copy(update={"announced": announced, "post": plan.post})

    def _print(
        self, request: FinalizeRequest, results: list[ShardResult], report: RunReport
    ) -> RunReport:
        """The execution's print batch of post invoices not printed before; none in a dry run."""
        if request.dry_run or self.printer is None:
            return report
        documents = [document for result in results for document in result.post]
        batch = self.printer.print_run(request.run_id, request.execution, documents)
        if batch is None:
            return report
        delivery = report.delivery.model_copy(
            update={"print_batch": batch.key, "printed": batch.invoices, "print_pages": batch.pages}
        )
        return report.model_copy(update={"delivery": delivery})

    def _blocks_covering(
        self, request: ShardRequest, number_range: str, customer_ids: list[str]
    ) -> list[NumberBlock]:
        blocks = self.ranges.blocks(number_range, request.run_id, request.shard)
        voided = self.ranges.voided(number_range, request.run_id, request.shard)
        missing = Assignment.of(blocks).missing(customer_ids, voided)
        if missing:
            block = self.ranges.reserve(
                number_range, request.run_id, request.shard, missing, request.issue_date
            )
            blocks.append(block)
        return blocks

    def _invoice(
        self, request: ShardRequest, assignment: Assignment, customer_id: str, draft: InvoiceDraft
    ) -> Invoice:
        issue_date = assignment.issue_dates[customer_id]
        return Invoice(
            number=assignment.numbers[customer_id],
            run_id=request.run_id,
            issue_date=issue_date,
            due_date=due_date(issue_date, self.policy.payment_term_days, draft),
            seller=self.policy.seller,
            draft=draft,
        )

    def _issue(
        self,
        request: ShardRequest,
        rendered: Rendered,
        blocks: list[NumberBlock],
        markers: dict[str, BilledMarker],
        failures: list[Failure],
        times: StepTimes,
    ) -> int:
        """Archive the PDF (and XML), then write the document; 1 if it is new.

        A document that cannot be rendered fails its customer alone; its number is voided with
        the other numbers of the shard that did not end as an invoice."""
        invoice = rendered.invoice
        if rendered.document is None:
            failures.append(Failure(customer_id=invoice.customer_id, reason=str(rendered.error)))
            return 0

        try:
            with times.step("storing"):
                key = self._archive(invoice, rendered.document)
        except DocumentConflictError as error:
            self._void(blocks, invoice.customer_id, invoice.number, str(error))
            failures.append(Failure(customer_id=invoice.customer_id, reason=str(error)))
            return 0

        with times.step("storing"):
            created = self.documents.issue_invoice(invoice, shard=request.shard, pdf_key=key)
        self._record(invoice, created, markers, failures)
        return int(created)

    def _record(
        self,
        invoice: Invoice,
        created: bool,
        markers: dict[str, BilledMarker],
        failures: list[Failure],
    ) -> None:
        log_keys = {"customer_id": invoice.customer_id, "invoice_number": invoice.number}
        marker = marker_for(invoice) if created else None
        marker = marker or self.documents.issued_marker(
            invoice.customer_id, invoice.issue_date, invoice.number
        )
        if marker is None:
            reason = f"number {invoice.number} was voided before it could be issued"
            failures.append(Failure(customer_id=invoice.customer_id, reason=reason))
            logger.error("invoice not issued", extra=log_keys | {"reason": reason})
            return

        markers[invoice.customer_id] = marker
        logger.info("invoice issued" if created else "invoice already issued", extra=log_keys)

    def _archive(self, invoice: Invoice, rendered: RenderedDocument) -> str:
        key = document_key(invoice.customer_id, invoice.number)
        until = retain_until(invoice.issue_date, self.policy.retention_years)
        if not self.archive.store_pdf(key, rendered.pdf, retain_until=until):
            self._same_as_archived(key, rendered.pdf)
        if rendered.xml is not None:
            xml = xml_key(key)
            if not self.archive.store_xml(xml, rendered.xml, retain_until=until):
                self._same_as_archived(xml, rendered.xml)
        return key

    def _same_as_archived(self, key: str, body: bytes) -> None:
        if self.archive.read(key) != body:
            raise DocumentConflictError("archived document differs from its recomputation")

    def _void_unused(
        self,
        blocks: list[NumberBlock],
        assignment: Assignment,
        markers: dict[str, BilledMarker],
        voided: set[str],
    ) -> None:
        """Numbers of this shard that did not end as an invoice are recorded as void."""
        for customer_id, number in assignment.numbers.items():
            marker = markers.get(customer_id)
            if number in voided or (marker is not None and marker.number == number):
                continue
            reason = "no invoice issued for the customer under this number"
            self._void(blocks, customer_id, number, reason)

    def _void(self, blocks: list[NumberBlock], customer_id: str, number: str, reason: str) -> None:
        block = next(b for b in blocks if number in b.assignment().values())
        recorded = self.documents.void_number(
            customer_id=customer_id, issue_date=block.issue_date, number=number, reason=reason
        )
        if not recorded:
            return

        self.ranges.record_void(block=block, number=number, reason=reason)
        logger.warning(
            "invoice number voided",
            extra={"customer_id": customer_id, "invoice_number": number, "reason": reason},
        )


def _count_rendering(times: StepTimes, rendered: Rendered) -> None:
    times.add("rendering", rendered.seconds)
    if rendered.elsewhere:
        times.add("rendering elsewhere", rendered.seconds)
        times.add("waiting for renders", rendered.waited)


def due_date(issue_date: date, payment_term_days: int, draft: InvoiceDraft) -> date:
    """The end of the payment term; for a direct debit the TARGET business day it is collected
    on, which the invoice names as its pre-notification."""
    due = issue_date + timedelta(days=payment_term_days)
    return business_day_on_or_after(due) if draft.buyer.mandate is not None else due


def _unusable_records(snapshot: ShardSnapshot, billed: dict[str, BilledMarker]) -> list[Failure]:
    """Customers whose stored records do not validate, and positions without a customer."""
    known = {customer.customer_id for customer in snapshot.customers}
    orphans = {
        customer_id: "positions without a customer record"
        for customer_id in snapshot.positions
        if customer_id not in known
    }
    problems = orphans | snapshot.invalid
    return [
        Failure(customer_id=customer_id, reason=reason)
        for customer_id, reason in sorted(problems.items())
        if customer_id not in billed
    ]


def marker_for(invoice: Invoice) -> BilledMarker:
    draft = invoice.draft
    return BilledMarker(
        customer_id=invoice.customer_id,
        run_id=invoice.run_id,
        number=invoice.number,
        net=draft.net,
        vat=draft.vat,
        gross=draft.gross,
        by_rate=tuple(_rate_totals(draft)),
    )


def _dry_result(
    request: ShardRequest,
    customers: int,
    drafts: dict[str, InvoiceDraft],
    failures: list[Failure],
) -> ShardResult:
    groups = [group_total for draft in drafts.values() for group_total in _rate_totals(draft)]
    return ShardResult(
        run_id=request.run_id,
        shard=request.shard,
        dry_run=True,
        customers=customers,
        invoices=len(drafts),
        new_invoices=0,
        net=total(d.net for d in drafts.values()),
        vat=total(d.vat for d in drafts.values()),
        gross=total(d.gross for d in drafts.values()),
        by_rate=combine_rates(groups),
        failed=tuple(failures),
    )


def _rate_totals(draft: InvoiceDraft) -> list[RateTotal]:
    return [
        RateTotal(rate=g.rate, net=g.net, vat=g.vat, category_code=g.category_code)
        for g in draft.vat_groups
    ]


def _live_result(
    request: ShardRequest,
    customers: int,
    markers: dict[str, BilledMarker],
    issued: int,
    failures: list[Failure],
    voided: dict[str, str],
) -> ShardResult:
    """Counted from the billed markers of this run, so a retried shard reports everything."""
    ours = [marker for marker in markers.values() if marker.run_id == request.run_id]
    return ShardResult(
        run_id=request.run_id,
        shard=request.shard,
        dry_run=False,
        customers=customers,
        invoices=len(ours),
        new_invoices=issued,
        net=total(m.net for m in ours),
        vat=total(m.vat for m in ours),
        gross=total(m.gross for m in ours),
        by_rate=combine_rates([group for m in ours for group in m.by_rate]),
        numbers=tuple(sorted(m.number for m in ours)),
        voids=tuple(VoidNumber(number=n, reason=r) for n, r in sorted(voided.items())),
        failed=tuple(failures),
    )
