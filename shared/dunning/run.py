"""The dunning run: its identity, what each shard reports, and the run's report.

One run per day (``dunning-YYYY-MM-DD``): starting the same day again repeats the same run, and
every step it took is found again rather than taken twice.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.dunning.model import ClaimLine, PaymentLine
from shared.invoicing.numbering import sequence_of
from shared.invoicing.run import Failure, PostDocument
from shared.money import ZERO, total

RUN_ID = r"^dunning-\d{4}-\d{2}-\d{2}$"
MANIFEST_PREFIX = "manifests/"
REPORT_PREFIX = "dunning/"
RunStatus = Literal["succeeded", "completed_with_failures", "failed"]


def run_id_for(day: date) -> str:
    return f"dunning-{day.isoformat()}"


def run_date_of(run_id: str) -> date:
    if not re.fullmatch(RUN_ID, run_id):
        raise ValueError(f"not a dunning run id: {run_id!r}")
    return date.fromisoformat(run_id.removeprefix("dunning-"))


class DunningRunRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    run_id: str = Field(pattern=RUN_ID)
    run_date: date
    execution: str = Field(min_length=1, max_length=80)


class DunningShardRequest(DunningRunRequest):
    shard: int = Field(ge=0)


class DunningFinalizeRequest(DunningRunRequest):
    shards: int = Field(ge=1)


class DunningPrepareRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_date: date | None = None


class DunningShardResult(BaseModel):
    """What one shard did on the run's day, counted from the cases, so a retry reports all."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    shard: int
    checked: int = 0
    reached: dict[str, int] = Field(default_factory=dict)
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    flat_fees: Decimal = ZERO
    suspensions: int = 0
    reactivations: int = 0
    handovers: int = 0
    settled: int = 0
    excluded: dict[str, int] = Field(default_factory=dict)
    interest_deferred: int = 0
    notices: tuple[str, ...] = ()
    announced: int = 0
    post: tuple[PostDocument, ...] = ()
    claims: tuple[ClaimLine, ...] = ()
    payments: tuple[PaymentLine, ...] = ()
    failed: tuple[Failure, ...] = ()


class AgencyFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    agency_id: str
    key: str
    lines: int


class DunningReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    run_date: date
    execution: str
    status: RunStatus
    shards_total: int
    shards_done: int
    missing_shards: tuple[int, ...]
    checked: int
    reached: dict[str, int]
    fees: Decimal
    interest: Decimal
    flat_fees: Decimal
    suspensions: int
    reactivations: int
    handovers: int
    settled: int
    excluded: dict[str, int]
    interest_deferred: int
    notices: int
    first_notice: str | None
    last_notice: str | None
    emails_announced: int
    post_notices: int
    print_batch: str | None = None
    printed: int = 0
    collection_exports: tuple[AgencyFile, ...] = ()
    payment_reports: tuple[AgencyFile, ...] = ()
    failed: tuple[Failure, ...] = ()
    seconds: Decimal | None = None


def build_report(
    request: DunningFinalizeRequest,
    results: Sequence[DunningShardResult],
    level_keys: Iterable[str],
) -> DunningReport:
    done = {result.shard for result in results}
    missing = tuple(shard for shard in range(request.shards) if shard not in done)
    numbers = sorted((n for r in results for n in r.notices), key=sequence_of)
    failed = tuple(f for r in results for f in r.failed)
    status: RunStatus = "succeeded" if not (missing or failed) else "completed_with_failures"
    return DunningReport(
        run_id=request.run_id,
        run_date=request.run_date,
        execution=request.execution,
        status=status,
        shards_total=request.shards,
        shards_done=len(done),
        missing_shards=missing,
        checked=sum(r.checked for r in results),
        reached=_in_order(_summed(r.reached for r in results), level_keys),
        fees=total(r.fees for r in results),
        interest=total(r.interest for r in results),
        flat_fees=total(r.flat_fees for r in results),
        suspensions=sum(r.suspensions for r in results),
        reactivations=sum(r.reactivations for r in results),
        handovers=sum(r.handovers for r in results),
        settled=sum(r.settled for r in results),
        excluded=dict(sorted(_summed(r.excluded for r in results).items())),
        interest_deferred=sum(r.interest_deferred for r in results),
        notices=len(numbers),
        first_notice=numbers[0] if numbers else None,
        last_notice=numbers[-1] if numbers else None,
        emails_announced=sum(r.announced for r in results),
        post_notices=sum(len(r.post) for r in results),
        failed=failed,
    )


def _summed(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    summed: Counter[str] = Counter()
    for count in counts:
        summed.update(count)
    return dict(summed)


def _in_order(counts: dict[str, int], keys: Iterable[str]) -> dict[str, int]:
    return {key: counts.get(key, 0) for key in keys}
