"""The import in parts as the state machine runs it: prepare, the parts, finalize."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bench.payments import Plan, camt_file, memory_use_case, plan_statement
from shared.invoicing.starter import ExecutionExistsError
from shared.payments.import_run import (
    MOST_STARTS,
    FinalizeRequest,
    PartRequest,
    PrepareRequest,
    StatementImportRun,
    execution_name,
    start_in_parts,
)
from shared.payments.importing import ImportBusyError
from shared.payments.statements import read_statement
from tests.unit.payment_fakes import STATEMENT_KEY, MemoryWork, import_run

KEY = STATEMENT_KEY


@pytest.fixture(scope="module")
def planned() -> tuple[Plan, bytes]:
    plan = plan_statement(1_500, random.Random(11))
    return plan, camt_file(plan)


def _run(plan: Plan, data: bytes) -> tuple[StatementImportRun, MemoryWork]:
    run = import_run(memory_use_case(plan), data, entries_per_part=300)
    return run, run.work


def _execution(data: bytes) -> str:
    return execution_name(read_statement(data).digest)


def test_the_steps_report_what_one_import_reports(planned: tuple[Plan, bytes]) -> None:
    plan, data = planned
    run, work = _run(plan, data)
    execution = _execution(data)
    one = memory_use_case(plan).run(read_statement(data))

    prepared = run.prepare(PrepareRequest(bucket="work", key=KEY), execution=execution)
    for item in work.read_json(prepared["manifest_key"]):
        run.import_part(PartRequest(execution=execution, part=item["part"]))
    report = run.finalize(FinalizeRequest(execution=execution, parts=prepared["parts"]))

    assert prepared["parts"] == 5
    assert report is not None
    assert (report.entries, report.matched, report.postings) == (
        one.entries,
        one.matched,
        one.postings,
    )
    assert report.by_rule == one.by_rule
    assert report.missing_parts == ()
    assert work.read_json("statement-reports/2026-12-10.xml.json")["matched"] == one.matched
    assert run.parted.use_case.lock.held_by is None  # type: ignore[attr-defined]


def test_a_part_that_never_reported_is_named_and_the_lock_is_freed(
    planned: tuple[Plan, bytes],
) -> None:
    plan, data = planned
    run, _ = _run(plan, data)
    execution = _execution(data)
    prepared = run.prepare(PrepareRequest(bucket="work", key=KEY), execution=execution)
    for part in range(1, prepared["parts"]):
        run.import_part(PartRequest(execution=execution, part=part))

    report = run.finalize(FinalizeRequest(execution=execution, parts=prepared["parts"]))

    assert report is not None
    assert report.missing_parts == (0,)
    assert report.entries < 1_500
    assert run.parted.use_case.lock.held_by is None  # type: ignore[attr-defined]


def test_prepare_waits_while_another_import_holds_the_lock(planned: tuple[Plan, bytes]) -> None:
    plan, data = planned
    run, work = _run(plan, data)
    run.parted.use_case.lock.held_by = "another"  # type: ignore[attr-defined]

    with pytest.raises(ImportBusyError):
        run.prepare(PrepareRequest(bucket="work", key=KEY), execution=_execution(data))
    assert not [key for key in work.objects if key.startswith("statement-parts/")]


def test_a_file_that_is_no_statement_gets_a_refusal_and_no_parts(
    planned: tuple[Plan, bytes],
) -> None:
    plan, _ = planned
    run, work = _run(plan, b"<Document><oops")
    execution = "statement-" + "0" * 64

    prepared = run.prepare(PrepareRequest(bucket="work", key=KEY), execution=execution)

    assert prepared["parts"] == 0
    assert work.read_json(prepared["manifest_key"]) == []
    refusal = work.read_json("statement-reports/2026-12-10.xml.json")
    assert refusal["key"] == KEY
    assert refusal["error"]["reason"]
    assert run.finalize(FinalizeRequest(execution=execution, parts=0)) is None


def test_a_part_run_again_after_it_reported_keeps_its_report(planned: tuple[Plan, bytes]) -> None:
    plan, data = planned
    run, _ = _run(plan, data)
    execution = _execution(data)
    run.prepare(PrepareRequest(bucket="work", key=KEY), execution=execution)
    first = run.import_part(PartRequest(execution=execution, part=2))

    again = run.import_part(PartRequest(execution=execution, part=2))

    assert first.matched > 0
    assert (again.matched, again.duplicates) == (first.matched, 0)


class FakeExecutions:
    def __init__(self, **statuses: str) -> None:
        self.statuses = {name.replace("_", "-"): status for name, status in statuses.items()}
        self.started: list[str] = []

    def start(self, name: str, payload: dict[str, Any]) -> None:
        if name in self.statuses:
            raise ExecutionExistsError(name)
        self.statuses[name] = "RUNNING"
        self.started.append(name)

    def status(self, name: str) -> str:
        return self.statuses[name]


DIGEST = "a" * 64


def test_a_file_is_started_once_while_its_import_runs_or_after_it_finished() -> None:
    executions = FakeExecutions()

    first = start_in_parts(executions, DIGEST, "work", KEY)
    again = start_in_parts(executions, DIGEST, "work", KEY)
    executions.statuses[f"statement-{DIGEST}"] = "SUCCEEDED"
    after = start_in_parts(executions, DIGEST, "work", KEY)

    assert first == f"statement-{DIGEST}"
    assert again is None
    assert after is None
    assert executions.started == [first]


def test_a_file_put_again_after_a_failed_import_starts_the_next_attempt() -> None:
    executions = FakeExecutions()
    executions.statuses[f"statement-{DIGEST}"] = "FAILED"
    executions.statuses[f"statement-{DIGEST}-2"] = "TIMED_OUT"

    started = start_in_parts(executions, DIGEST, "work", KEY)

    assert started == f"statement-{DIGEST}-3"
    assert PartRequest(execution=started, part=0).execution == started


def test_a_file_that_failed_every_attempt_is_refused() -> None:
    executions = FakeExecutions()
    for attempt in range(1, MOST_STARTS + 1):
        executions.statuses[execution_name(DIGEST, attempt)] = "ABORTED"

    with pytest.raises(ImportBusyError, match="failed to import 10 times"):
        start_in_parts(executions, DIGEST, "work", KEY)


@pytest.mark.parametrize(
    ("model", "values", "field"),
    [
        (PrepareRequest, {"bucket": "work", "key": "orders/feed.json"}, "key"),
        (PrepareRequest, {"bucket": "work", "key": KEY, "parts": 3}, "parts"),
        (PartRequest, {"execution": "run-2026-11", "part": 0}, "execution"),
        (PartRequest, {"execution": f"statement-{DIGEST}", "part": -1}, "part"),
        (FinalizeRequest, {"execution": f"statement-{DIGEST}-100", "parts": 1}, "execution"),
    ],
)
def test_a_step_refuses_input_that_is_not_its_own(
    model: type[BaseModel], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(values)

    assert [error["loc"] for error in refused.value.errors()] == [(field,)]
