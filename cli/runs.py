"""Starts invoice runs on the state machine, follows them and reads their reports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.invoicing.run import RunReport
from shared.invoicing.starter import RunStarter, StartedRun
from shared.periods import Period
from shared.storage.dynamodb import DynamoRuns, from_item
from shared.storage.stepfunctions import StepFunctionsExecutions

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class RunError(Exception):
    """The run could not be started or did not finish."""


@dataclass(frozen=True)
class RunTargets:
    state_machine_arn: str
    control_table: str
    work_bucket: str


@dataclass(frozen=True)
class Progress:
    status: str
    shards_total: int
    shards_done: int
    invoices: int
    failed: int


class RunDriver:
    def __init__(self, clients: Callable[[str], Any], targets: RunTargets) -> None:
        self._stepfunctions = clients("stepfunctions")
        self._dynamodb = clients("dynamodb")
        self._s3 = clients("s3")
        self._targets = targets
        self._starter = RunStarter(
            StepFunctionsExecutions(self._stepfunctions, targets.state_machine_arn),
            DynamoRuns(self._dynamodb, targets.control_table),
        )

    def start(self, period: Period, *, issue_date: date, dry_run: bool = False) -> StartedRun:
        """Start the period's run, or join an execution of it that is still running."""
        return self._starter.start(period, issue_date=issue_date, dry_run=dry_run)

    def progress(self, started: StartedRun) -> Progress:
        execution = self._stepfunctions.describe_execution(executionArn=started.execution_arn)
        run = self._item(f"RUN#{started.run_id}", "RUN") or {}
        results = self._shard_results(started.run_id, started.execution)
        return Progress(
            status=execution["status"],
            shards_total=int(run.get("shards", 0))
            if run.get("execution") == started.execution
            else 0,
            shards_done=len(results),
            invoices=sum(int(r["invoices"]) for r in results),
            failed=sum(len(r["failed"]) for r in results),
        )

    def wait(
        self,
        started: StartedRun,
        on_progress: Callable[[Progress], None],
        *,
        poll_seconds: float = 0.5,
    ) -> Progress:
        while True:
            progress = self.progress(started)
            on_progress(progress)
            if progress.status in TERMINAL:
                return progress
            time.sleep(poll_seconds)

    def latest(self, run_id: str) -> StartedRun:
        """The run's most recent execution, as recorded when it was prepared."""
        run = self._item(f"RUN#{run_id}", "RUN")
        if run is None or not run.get("execution"):
            raise RunError(f"no run {run_id} has started yet")

        execution = str(run["execution"])
        arn = self._targets.state_machine_arn.replace(":stateMachine:", ":execution:")
        return StartedRun(run_id, execution, f"{arn}:{execution}", joined=True)

    def failure(self, started: StartedRun) -> str:
        execution = self._stepfunctions.describe_execution(executionArn=started.execution_arn)
        return f"{execution.get('error', 'unknown error')}: {execution.get('cause', '')[:500]}"

    def report(self, run_id: str, execution: str | None = None) -> RunReport:
        key = (
            f"runs/{run_id}/{execution}/report.json" if execution else f"runs/{run_id}/report.json"
        )
        try:
            body = self._s3.get_object(Bucket=self._targets.work_bucket, Key=key)["Body"].read()
        except self._s3.exceptions.NoSuchKey as error:
            raise RunError(f"no report for {run_id} yet") from error
        return RunReport.model_validate_json(body)

    def _item(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._targets.control_table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
        )
        return from_item(response["Item"]) if "Item" in response else None

    def _shard_results(self, run_id: str, execution: str) -> list[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._targets.control_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"RUN#{run_id}"},
                ":prefix": {"S": f"RESULT#{execution}#"},
            },
        )
        return [json.loads(from_item(item)["result"]) for page in pages for item in page["Items"]]
