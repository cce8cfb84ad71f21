"""The dunning run around the shards: prepare the manifest, finalize the day.

Finalize totals what the shards did, prints the post notices into one batch, writes each
agency's export of claims handed over and its report of payments on claims handed over before,
and records on each claim what the agency has been told. Files are keyed by run and execution
and written once, so a retried finalize writes nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from shared.delivery.ports import PrintRun
from shared.dunning.model import Case, ClaimLine, PaymentLine
from shared.dunning.ports import DunningRunStore, DunningStore, LineFiles
from shared.dunning.run import (
    MANIFEST_PREFIX,
    REPORT_PREFIX,
    AgencyFile,
    DunningFinalizeRequest,
    DunningPrepareRequest,
    DunningReport,
    DunningShardResult,
    build_report,
    run_id_for,
)

logger = logging.getLogger(__name__)

COLLECTIONS_PREFIX = "collections/"
UPDATE_ATTEMPTS = 3


class WorkStore(Protocol):
    @property
    def bucket(self) -> str: ...

    def write_json(self, key: str, document: Any) -> str: ...


def export_key(agency_id: str, run_id: str, execution: str, what: str) -> str:
    return f"{COLLECTIONS_PREFIX}{agency_id}/{what}/{run_id}/{execution}.jsonl"


def report_key(run_id: str, execution: str | None = None) -> str:
    if execution is None:
        return f"{REPORT_PREFIX}{run_id}/report.json"
    return f"{REPORT_PREFIX}{run_id}/{execution}/report.json"


@dataclass
class DunningRunService:
    runs: DunningRunStore
    work: WorkStore
    files: LineFiles
    store: DunningStore
    shard_count: int
    level_keys: tuple[str, ...]
    printer: PrintRun | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def prepare(self, request: DunningPrepareRequest, *, execution: str) -> dict[str, Any]:
        now = self.clock()
        run_date = request.run_date or now.date()
        run_id = run_id_for(run_date)
        manifest = [{"shard": shard} for shard in range(self.shard_count)]
        key = self.work.write_json(f"{MANIFEST_PREFIX}{run_id}/{execution}.json", manifest)
        self.runs.start_run(
            {
                "run_id": run_id,
                "run_date": run_date.isoformat(),
                "execution": execution,
                "shards": self.shard_count,
                "started_at": now.isoformat(),
            }
        )
        logger.info("dunning run prepared", extra={"run_id": run_id, "execution": execution})
        return {
            "run_id": run_id,
            "run_date": run_date.isoformat(),
            "execution": execution,
            "manifest_bucket": self.work.bucket,
            "manifest_key": key,
            "shards": self.shard_count,
        }

    def finalize(self, request: DunningFinalizeRequest) -> DunningReport:
        stored = self.runs.results(request.run_id, request.execution)
        results = [DunningShardResult.model_validate_json(result) for result in stored]
        report = build_report(request, results, self.level_keys)
        report = report.model_copy(
            update={
                "collection_exports": self._export_claims(request, results),
                "payment_reports": self._report_payments(request, results),
                "seconds": self._seconds(request.run_id),
            }
        )
        report = self._print(request, results, report)
        document = report.model_dump(mode="json")
        self.work.write_json(report_key(request.run_id, request.execution), document)
        key = self.work.write_json(report_key(request.run_id), document)
        self.runs.finish_run(request.run_id, report.status, key)
        logger.info(
            "dunning run finished",
            extra={"run_id": request.run_id, "status": report.status, "notices": report.notices},
        )
        return report

    def _seconds(self, run_id: str) -> Decimal | None:
        run = self.runs.get_run(run_id) or {}
        if not run.get("started_at"):
            return None
        elapsed = (self.clock() - datetime.fromisoformat(run["started_at"])).total_seconds()
        return Decimal(f"{elapsed:.1f}")

    def _print(
        self,
        request: DunningFinalizeRequest,
        results: Sequence[DunningShardResult],
        report: DunningReport,
    ) -> DunningReport:
        if self.printer is None:
            return report
        documents = [document for result in results for document in result.post]
        batch = self.printer.print_run(request.run_id, request.execution, documents)
        if batch is None:
            return report
        return report.model_copy(update={"print_batch": batch.key, "printed": batch.invoices})

    def _export_claims(
        self, request: DunningFinalizeRequest, results: Sequence[DunningShardResult]
    ) -> tuple[AgencyFile, ...]:
        files = []
        for agency_id, lines in _by_agency(c for r in results for c in r.claims).items():
            key = export_key(agency_id, request.run_id, request.execution, "claims")
            self._write(key, lines)
            for line in lines:
                self._update(line.customer_id, _exported(line, key))
            files.append(AgencyFile(agency_id=agency_id, key=key, lines=len(lines)))
            logger.info(
                "claims handed to agency", extra={"agency": agency_id, "claims": len(lines)}
            )
        return tuple(files)

    def _report_payments(
        self, request: DunningFinalizeRequest, results: Sequence[DunningShardResult]
    ) -> tuple[AgencyFile, ...]:
        files = []
        for agency_id, lines in _by_agency(p for r in results for p in r.payments).items():
            key = export_key(agency_id, request.run_id, request.execution, "payments")
            self._write(key, lines)
            for line in lines:
                self._update(line.customer_id, _reported(line))
                if line.status == "settled":
                    self._close_settled(line)
            files.append(AgencyFile(agency_id=agency_id, key=key, lines=len(lines)))
        return tuple(files)

    def _write(self, key: str, lines: Sequence[BaseModel]) -> None:
        if not self.files.write_lines(key, lines):
            logger.info("agency file kept from an earlier attempt", extra={"key": key})

    def _update(self, customer_id: str, change: Callable[[Case], Case | None]) -> None:
        """Apply the change to the stored case, again on a conflicting write."""
        for _attempt in range(UPDATE_ATTEMPTS):
            case = self.store.case(customer_id)
            changed = change(case) if case is not None else None
            if changed is None or self.store.save_case(changed) is not None:
                return
        logger.error("dunning case not updated", extra={"customer_id": customer_id})

    def _close_settled(self, line: PaymentLine) -> None:
        case = self.store.case(line.customer_id)
        if case is None or case.case_id != line.case_id or case.handover is None:
            return
        if case.handover.settlement_reported:
            self.store.close_case(case, closed_on=line.reported_on, reason="settled with agency")


Line = TypeVar("Line", ClaimLine, PaymentLine)


def _by_agency(lines: Iterable[Line]) -> dict[str, list[Line]]:
    grouped: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        grouped[line.agency_id].append(line)
    return {agency: sorted(found, key=_case_id) for agency, found in grouped.items()}


def _case_id(line: ClaimLine | PaymentLine) -> str:
    return line.case_id


def _exported(line: ClaimLine, key: str) -> Callable[[Case], Case | None]:
    def change(case: Case) -> Case | None:
        handover = case.handover
        if case.case_id != line.case_id or handover is None or handover.status == "exported":
            return None
        exported = handover.model_copy(update={"status": "exported", "export_key": key})
        return case.model_copy(update={"handover": exported})

    return change


def _reported(line: PaymentLine) -> Callable[[Case], Case | None]:
    def change(case: Case) -> Case | None:
        handover = case.handover
        if case.case_id != line.case_id or handover is None:
            return None
        update = {
            "reported_paid": line.paid_since_handover,
            "settlement_reported": handover.settlement_reported or line.status == "settled",
        }
        return case.model_copy(update={"handover": handover.model_copy(update=update)})

    return change
