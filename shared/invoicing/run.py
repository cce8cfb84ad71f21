"""The invoice run: its identity, what each shard reports, and the run's report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.invoicing.numbering import sequence_of
from shared.invoicing.steps import ms_per_invoice
from shared.money import ZERO, total
from shared.periods import Period

RunStatus = Literal["running", "succeeded", "completed_with_failures", "failed"]

MANIFEST_PREFIX = "manifests/"
REPORT_PREFIX = "runs/"


def run_id_for(period: Period) -> str:
    """One run per period: starting it again joins or repeats the same run, never a new one."""
    return f"run-{period}"


class RunRequest(BaseModel):
    """What every step of one execution of a run is told."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str = Field(pattern=r"^run-\d{4}-\d{2}$")
    period: str = Field(pattern=r"^\d{4}-\d{2}$")
    issue_date: date
    dry_run: bool = False
    execution: str = Field(min_length=1, max_length=80)


class ShardRequest(RunRequest):
    shard: int = Field(ge=0)


class FinalizeRequest(RunRequest):
    shards: int = Field(ge=1)


class Failure(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    reason: str


class VoidNumber(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    reason: str


class RateTotal(BaseModel):
    """Totals of one VAT rate and category (S taxed, AE reverse charge, O not subject, E exempt)."""

    model_config = ConfigDict(frozen=True)

    rate: Decimal
    net: Decimal
    vat: Decimal
    category_code: str = "S"


class PostDocument(BaseModel):
    """An issued invoice of a customer who gets post: it goes into the run's print batch."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    number: str
    pdf_key: str


class DeliveryFigures(BaseModel):
    """What the run handed to delivery: e-mails queued and the execution's print batch."""

    model_config = ConfigDict(frozen=True)

    emails_announced: int = 0
    post_documents: int = 0
    print_batch: str | None = None
    printed: int = 0
    print_pages: int = 0


class ShardResult(BaseModel):
    """What one shard of a run billed, counted from the shard's records, so a retry reports all."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    shard: int
    dry_run: bool
    customers: int
    invoices: int
    new_invoices: int
    net: Decimal = ZERO
    vat: Decimal = ZERO
    gross: Decimal = ZERO
    by_rate: tuple[RateTotal, ...] = ()
    numbers: tuple[str, ...] = ()
    voids: tuple[VoidNumber, ...] = ()
    failed: tuple[Failure, ...] = ()
    # Delivery: e-mails announced on the queue, and the shard's invoices that go by post.
    announced: int = 0
    post: tuple[PostDocument, ...] = ()
    # Wall seconds of the shard's steps in its last attempt (see shared.invoicing.steps).
    step_seconds: dict[str, float] = Field(default_factory=dict)


class RunReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    period: str
    issue_date: date
    dry_run: bool
    status: RunStatus
    shards_total: int
    shards_done: int
    missing_shards: tuple[int, ...]
    customers: int
    invoices: int
    new_invoices: int
    net: Decimal
    vat: Decimal
    gross: Decimal
    by_rate: tuple[RateTotal, ...]
    first_number: str | None
    last_number: str | None
    void_numbers: tuple[VoidNumber, ...]
    failed: tuple[Failure, ...]
    seconds: Decimal | None = None
    delivery: DeliveryFigures = DeliveryFigures()
    # Milliseconds per new invoice of each step of the workers, summed over the shards.
    ms_per_invoice: dict[str, float] = Field(default_factory=dict)


def combine_rates(groups: Sequence[RateTotal]) -> tuple[RateTotal, ...]:
    nets: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    vats: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for group in groups:
        key = (group.rate, group.category_code)
        nets[key] += group.net
        vats[key] += group.vat

    return tuple(
        RateTotal(rate=rate, category_code=code, net=nets[rate, code], vat=vats[rate, code])
        for rate, code in sorted(nets, key=lambda key: (-key[0], key[1]))
    )


def build_report(
    *, request: RunRequest, shards_total: int, results: Sequence[ShardResult]
) -> RunReport:
    """Totals over the shards that reported; shards that did not are listed as missing."""
    reported = {result.shard for result in results}
    missing = tuple(shard for shard in range(shards_total) if shard not in reported)
    numbers = sorted((n for r in results for n in r.numbers), key=sequence_of)
    failed = tuple(f for r in results for f in r.failed)
    status: RunStatus = "succeeded" if not missing and not failed else "completed_with_failures"
    return RunReport(
        run_id=request.run_id,
        period=request.period,
        issue_date=request.issue_date,
        dry_run=request.dry_run,
        status=status,
        shards_total=shards_total,
        shards_done=len(reported),
        missing_shards=missing,
        customers=sum(r.customers for r in results),
        invoices=sum(r.invoices for r in results),
        new_invoices=sum(r.new_invoices for r in results),
        net=total(r.net for r in results),
        vat=total(r.vat for r in results),
        gross=total(r.gross for r in results),
        by_rate=combine_rates([group for r in results for group in r.by_rate]),
        first_number=numbers[0] if numbers else None,
        last_number=numbers[-1] if numbers else None,
        void_numbers=tuple(v for r in results for v in r.voids),
        failed=failed,
        delivery=DeliveryFigures(
            emails_announced=sum(r.announced for r in results),
            post_documents=sum(len(r.post) for r in results),
        ),
        ms_per_invoice=ms_per_invoice(
            [r.step_seconds for r in results], sum(r.new_invoices for r in results)
        ),
    )
