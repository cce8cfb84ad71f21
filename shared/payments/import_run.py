"""A large statement file imported by the statement import's state machine, in parts by customer.

Prepare reads and parses the file, takes the import lock for the execution, splits the file
(``shared.payments.parts``) and writes each part, the rest and a manifest of the parts to the
work bucket. The state machine's workers import the parts at once, each under the execution's
lease. Finalize imports the rest, adds up the parts' reports into the file's report (beside the
file's name under ``statement-reports/``, as for a file imported in one piece) and gives the
lock back.

Every step can run again: decisions are idempotent by transaction id, files are rewritten with
the same content, and the execution's name comes from the object (bucket, key and ETag), so a
notice delivered twice is one execution. The same content under another key is a second
execution that finds every transaction decided and posts nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.invoicing.starter import ExecutionExistsError
from shared.payments.importing import ImportBusyError, ImportReport
from shared.payments.parts import PartedImport, entries_of, merged_reports
from shared.payments.statement import StatementError, StatementFile
from shared.payments.statements import read_statement

logger = logging.getLogger(__name__)

STATEMENT_PREFIX = "statements/"
REPORTS_PREFIX = "statement-reports/"
PARTS_PREFIX = "statement-parts/"
# Read by the state machine's Map (its role may read manifests only).
MANIFEST_PREFIX = "manifests/statements/"
EXECUTION = r"^statement-[0-9a-f]{64}(-[0-9]{1,2})?$"
# A file whose import in parts failed may be put again this often before it is refused.
MOST_STARTS = 10
# What a closed execution that did not finish leaves: the file may be started again.
UNFINISHED = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


class WorkStore(Protocol):
    @property
    def bucket(self) -> str: ...

    def write_json(self, key: str, document: Any) -> str: ...

    def read_json(self, key: str) -> Any: ...

    def read_json_if_present(self, key: str) -> Any | None: ...

    def write_bytes(self, key: str, body: bytes) -> str: ...

    def read_bytes(self, key: str) -> bytes: ...


class Executions(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> Any:
        """Raises ExecutionExistsError when the name is taken."""
        ...

    def status(self, name: str) -> str: ...


class PrepareRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str = Field(min_length=3)
    key: str = Field(pattern=r"^statements/.+")


class PartRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    execution: str = Field(pattern=EXECUTION)
    part: int = Field(ge=0)


class FinalizeRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    execution: str = Field(pattern=EXECUTION)
    parts: int = Field(ge=0)


class FileReport(ImportReport):
    """The file's report: the import's figures, the file, and the parts that did not report."""

    key: str
    parts: int
    missing_parts: tuple[int, ...] = ()


def object_digest(bucket: str, key: str, etag: str) -> str:
    """What names the import of one object, without reading it."""
    return hashlib.sha256(f"{bucket}\x1f{key}\x1f{etag}".encode()).hexdigest()


def execution_name(digest: str, attempt: int = 1) -> str:
    """The execution of an object by its ``object_digest``; the file put again after an
    execution that did not finish gets the next attempt's name (Step Functions keeps names for
    90 days)."""
    return f"statement-{digest}" + (f"-{attempt}" if attempt > 1 else "")


def start_in_parts(executions: Executions, digest: str, bucket: str, key: str) -> str | None:
    """Start the import of the file unless one is running or finished; the execution's name,
    or None when the file is being or was imported."""
    for attempt in range(1, MOST_STARTS + 1):
        name = execution_name(digest, attempt)
        try:
            executions.start(name, {"bucket": bucket, "key": key})
        except ExecutionExistsError:
            if executions.status(name) in UNFINISHED:
                continue
            return None
        return name
    raise ImportBusyError(f"the file {key} failed to import {MOST_STARTS} times: see its reports")


def report_key(statement_key: str) -> str:
    return REPORTS_PREFIX + statement_key.removeprefix(STATEMENT_PREFIX) + ".json"


def refusal(statement_key: str, error: StatementError) -> dict[str, Any]:
    return {"key": statement_key, "error": {"field": error.field, "reason": error.reason}}


@dataclass(frozen=True)
class StatementImportRun:
    parted: PartedImport
    work: WorkStore
    read_object: Callable[[str, str], bytes]

    def prepare(self, request: PrepareRequest, *, execution: str) -> dict[str, Any]:
        data = self.read_object(request.bucket, request.key)
        try:
            source = read_statement(data)
        except StatementError as error:
            self.work.write_json(report_key(request.key), refusal(request.key, error))
            return self._prepared(execution, request.key, parts=[])
        self.parted.use_case.take_lock(execution)
        planned = self.parted.plan(source)
        for number, part in enumerate(planned.parts):
            self._write(execution, str(number), part)
        self._write(execution, "rest", planned.rest)
        shape = {
            "key": request.key,
            "digest": source.digest,
            "format": source.format,
            "statements": len(source.statements),
        }
        self.work.write_json(_part_key(execution, "file"), shape)
        logger.info(
            "statement split",
            extra={
                "execution": execution,
                "parts": len(planned.parts),
                "entries": entries_of(source),
            },
        )
        return self._prepared(execution, request.key, parts=list(range(len(planned.parts))))

    def import_part(self, request: PartRequest) -> ImportReport:
        """Import one part; a part that reported already (a retry after its worker finished)
        keeps its report, which counts its decisions as new, not as duplicates."""
        report_at = _part_key(request.execution, f"{request.part}.report")
        reported = self.work.read_json_if_present(report_at)
        if reported is not None:
            return ImportReport.model_validate(reported)
        part = self._read(request.execution, str(request.part))
        report = self.parted.use_case.run(part, lease=request.execution)
        self.work.write_json(report_at, report.model_dump(mode="json"))
        return report

    def finalize(self, request: FinalizeRequest) -> FileReport | None:
        """The file's report; None for a file that was refused (prepare reported that)."""
        if request.parts == 0:
            return None
        file = self.work.read_json(_part_key(request.execution, "file"))
        use_case = self.parted.use_case
        rest = use_case.run(self._read(request.execution, "rest"), lease=request.execution)
        reports, missing = self._part_reports(request)
        whole = merged_reports(
            [*reports, rest],
            digest=file["digest"],
            format=file["format"],
            statements=file["statements"],
        )
        report = FileReport(
            **whole.model_dump(), key=file["key"], parts=request.parts, missing_parts=missing
        )
        self.work.write_json(report_key(file["key"]), report.model_dump(mode="json"))
        use_case.release_lock(request.execution)
        logger.info(
            "statement imported in parts",
            extra={"execution": request.execution, "entries": report.entries, "missing": missing},
        )
        return report

    def _part_reports(self, request: FinalizeRequest) -> tuple[list[ImportReport], tuple[int, ...]]:
        reports: list[ImportReport] = []
        missing: list[int] = []
        for part in range(request.parts):
            stored = self.work.read_json_if_present(_part_key(request.execution, f"{part}.report"))
            if stored is None:  # failed on every retry: `billing payments import` finishes it
                missing.append(part)
            else:
                reports.append(ImportReport.model_validate(stored))
        return reports, tuple(missing)

    def _prepared(self, execution: str, key: str, *, parts: list[int]) -> dict[str, Any]:
        manifest_key = self.work.write_json(
            f"{MANIFEST_PREFIX}{execution}.json", [{"part": part} for part in parts]
        )
        return {
            "execution": execution,
            "key": key,
            "manifest_bucket": self.work.bucket,
            "manifest_key": manifest_key,
            "parts": len(parts),
        }

    def _write(self, execution: str, name: str, part: StatementFile) -> None:
        self.work.write_bytes(_part_key(execution, name), part.model_dump_json().encode())

    def _read(self, execution: str, name: str) -> StatementFile:
        return StatementFile.model_validate_json(self.work.read_bytes(_part_key(execution, name)))


def _part_key(execution: str, name: str) -> str:
    return f"{PARTS_PREFIX}{execution}/{name}.json"
