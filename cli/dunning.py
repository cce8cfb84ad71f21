"""`billing dunning`: run the day's dunning, read its report, and set or clear what stops it
(blocks, disputes, instalment plans) for one customer."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import click
from pydantic import ValidationError
from rich.table import Table

from cli.console import console, errors, print_json, progress_bar, quiet_libraries
from infra import spec
from shared.dunning.model import Case, Hold, HoldKind
from shared.dunning.run import DunningReport, run_date_of
from shared.dunning.runner import report_key
from shared.invoicing.starter import StartedRun
from shared.money import format_eur

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
CUSTOMER = re.compile(r"C\d{7,12}")
SHARD_COUNT_VAR = "BILLING_SHARD_COUNT"


class DunningCliError(click.ClickException):
    pass


@dataclass(frozen=True)
class Progress:
    status: str
    shards_total: int
    shards_done: int
    notices: int
    failed: int


class DunningDriver:
    """Starts the dunning state machine, follows its shards and reads its report."""

    def __init__(self, clients: Callable[[str], Any], values: dict[str, str]) -> None:
        from shared.dunning.starter import DunningStarter
        from shared.storage.stepfunctions import StepFunctionsExecutions

        self._stepfunctions = clients("stepfunctions")
        self._dynamodb = clients("dynamodb")
        self._s3 = clients("s3")
        self._values = values
        self._starter = DunningStarter(
            StepFunctionsExecutions(self._stepfunctions, values[spec.DUNNING_RUN.env_var])
        )

    def start(self, day: date) -> StartedRun:
        return self._starter.start(day)

    def progress(self, started: StartedRun) -> Progress:
        from shared.storage.dunning import DynamoDunningRuns

        execution = self._stepfunctions.describe_execution(executionArn=started.execution_arn)
        runs = DynamoDunningRuns(self._dynamodb, self._values[spec.CONTROL.env_var])
        run = runs.get_run(started.run_id) or {}
        results = [json.loads(r) for r in runs.results(started.run_id, started.execution)]
        total = int(run.get("shards", 0)) if run.get("execution") == started.execution else 0
        return Progress(
            status=execution["status"],
            shards_total=total,
            shards_done=len(results),
            notices=sum(len(r["notices"]) for r in results),
            failed=sum(len(r["failed"]) for r in results),
        )

    def wait(self, started: StartedRun) -> Progress:
        """Until the execution ends, without a bar (for --json)."""
        while (progress := self.progress(started)).status not in TERMINAL:
            time.sleep(0.3)
        return progress

    def follow(self, started: StartedRun, label: str) -> Progress:
        with progress_bar() as bars:
            task = bars.add_task(label, total=None, detail="")
            while True:
                progress = self.progress(started)
                bars.update(
                    task,
                    total=progress.shards_total or None,
                    completed=progress.shards_done,
                    detail=f"shards  {progress.notices:,} notices  {progress.failed} failed",
                )
                if progress.status in TERMINAL:
                    return progress
                time.sleep(0.3)

    def failure(self, started: StartedRun) -> str:
        execution = self._stepfunctions.describe_execution(executionArn=started.execution_arn)
        return f"{execution.get('error', 'unknown error')}: {execution.get('cause', '')[:500]}"

    def report(self, run_id: str, execution: str | None = None) -> DunningReport:
        bucket = self._values[spec.WORK.env_var]
        try:
            body = self._s3.get_object(Bucket=bucket, Key=report_key(run_id, execution))
        except self._s3.exceptions.NoSuchKey as error:
            raise DunningCliError(f"no report for {run_id} yet") from error
        return DunningReport.model_validate_json(body["Body"].read())


def report_table(report: DunningReport, *, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("run", report.run_id),
        ("status", report.status),
        ("shards", f"{report.shards_done} of {report.shards_total}"),
        ("customers checked", f"{report.checked:,}"),
    ]
    rows += [(f"  reached {key}", f"{count:,}") for key, count in report.reached.items()]
    rows += [
        ("dunning fees", format_eur(report.fees)),
        ("default interest", format_eur(report.interest)),
        ("flat charges (§ 288 (5) BGB)", format_eur(report.flat_fees)),
        ("suspensions", f"{report.suspensions:,}"),
        ("reactivations", f"{report.reactivations:,}"),
        ("handovers to agencies", f"{report.handovers:,}"),
        ("cases settled", f"{report.settled:,}"),
    ]
    rows += [(f"  excluded: {reason}", f"{count:,}") for reason, count in report.excluded.items()]
    rows += [
        ("interest deferred (base rate unknown)", f"{report.interest_deferred:,}"),
        ("notices", f"{report.notices:,}"),
        ("numbers", f"{report.first_notice or '-'} .. {report.last_notice or '-'}"),
        ("e-mails queued", f"{report.emails_announced:,}"),
        ("by post", f"{report.post_notices:,} ({report.printed:,} in the print batch)"),
    ]
    rows += [
        (f"  export {f.agency_id}", f"{f.lines} claims, {f.key}") for f in report.collection_exports
    ]
    rows += [
        (f"  payments {f.agency_id}", f"{f.lines} lines, {f.key}") for f in report.payment_reports
    ]
    rows.append(("failed customers", f"{len(report.failed):,}"))
    if report.seconds is not None:
        rows.append(("seconds", str(report.seconds)))
    for label, value in rows:
        table.add_row(label, value)
    return table


def case_table(case: Case) -> Table:
    table = Table(title=f"dunning case {case.case_id}", title_justify="left")
    for column in ("level", "on", "notice", "deadline", "fee", "interest", "flat", "claim"):
        table.add_column(column)
    for step in case.steps:
        table.add_row(
            f"{step.level} {step.key}",
            step.on.isoformat(),
            step.notice_number or "-",
            step.deadline.isoformat() if step.deadline else "-",
            format_eur(step.fee),
            format_eur(step.interest),
            format_eur(step.flat_fee),
            format_eur(step.claim_total),
        )
    return table


def _customer(value: str) -> str:
    if not CUSTOMER.fullmatch(value):
        raise click.BadParameter("a customer id is C and 7 to 12 digits", param_hint="CUSTOMER")
    return value


def _day(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def dunning() -> None:
    """Dunning: the daily run, and what stops dunning for a customer."""


def resources(*names: str) -> dict[str, str]:
    from cli.main import _resources

    return _resources(*names)


def driver() -> DunningDriver:
    import boto3

    values = resources(spec.DUNNING_RUN.env_var, spec.CONTROL.env_var, spec.WORK.env_var)
    make: Any = boto3.client  # the stubs know no client for a service named at run time
    return DunningDriver(lambda service: make(service), values)


def store() -> Any:
    import boto3

    from shared.storage.dunning import DynamoDunningStore

    values = resources(spec.DUNNING.env_var, SHARD_COUNT_VAR)
    return DynamoDunningStore(
        boto3.client("dynamodb"), values[spec.DUNNING.env_var], int(values[SHARD_COUNT_VAR])
    )


@dunning.command("run")
@click.option("--date", "day", type=DATE, default=None, help="YYYY-MM-DD; default: today")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--no-wait", is_flag=True, help="start (or join) the run and return")
def run_command(day: datetime | None, as_json: bool, no_wait: bool) -> None:
    """Run the day's dunning: a second run on a day changes nothing already done."""
    quiet_libraries()
    runner = driver()
    started = runner.start(_day(day))
    if no_wait:
        if as_json:
            print_json(started.__dict__)
        else:
            console.print(f"{'joined' if started.joined else 'started'} {started.execution}")
        return
    final = runner.wait(started) if as_json else runner.follow(started, started.run_id)
    if final.status != "SUCCEEDED":
        raise DunningCliError(f"{started.run_id} ended {final.status}: {runner.failure(started)}")
    found = runner.report(started.run_id, started.execution)
    if as_json:
        print_json(found.model_dump(mode="json"))
    else:
        console.print(report_table(found, title=f"dunning {started.run_id}"))


@dunning.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
def report(run_id: str, as_json: bool) -> None:
    """Print the report of a day's dunning run (RUN_ID: dunning-YYYY-MM-DD)."""
    try:
        run_date_of(run_id)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="RUN_ID") from error
    found = driver().report(run_id)
    if as_json:
        print_json(found.model_dump(mode="json"))
    else:
        console.print(report_table(found, title=run_id))


def set_hold(kind: HoldKind, customer: str, reason: str, **extra: Any) -> Hold:
    try:
        hold = Hold(
            customer_id=_customer(customer),
            kind=kind,
            reason=reason.strip(),
            set_on=datetime.now(UTC).date(),
            set_by=f"cli:{os.environ.get('USER', 'unknown')}",
            **extra,
        )
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise click.BadParameter(f"{field}: {problem['msg']}") from error
    store().put_hold(hold)
    console.print(f"{kind} set for {hold.customer_id}: {hold.reason}")
    return hold


def clear_hold(kind: HoldKind, customer: str, item: str | None) -> None:
    if not store().remove_hold(_customer(customer), kind, item):
        raise DunningCliError(f"{customer} has no such {kind}")
    console.print(f"{kind} of {customer} cleared")


@dunning.command()
@click.argument("customer")
@click.option("--reason", required=True, help="why dunning stops, for the records")
@click.option("--until", type=DATE, default=None, help="last day of the block")
def block(customer: str, reason: str, until: datetime | None) -> None:
    """Stop dunning of CUSTOMER (until a day, or until unblocked)."""
    set_hold("block", customer, reason, until=until.date() if until else None)


@dunning.command()
@click.argument("customer")
def unblock(customer: str) -> None:
    """Let dunning of CUSTOMER go on."""
    clear_hold("block", customer, None)


@dunning.command()
@click.argument("customer")
@click.argument("item")
@click.option("--reason", required=True, help="what the customer disputes")
def dispute(customer: str, item: str, reason: str) -> None:
    """Take ITEM (an invoice number) of CUSTOMER out of dunning while it is disputed."""
    set_hold("dispute", customer, reason, item=item)


@dunning.command()
@click.argument("customer")
@click.argument("item")
def undispute(customer: str, item: str) -> None:
    """End the dispute of ITEM: it is dunned again."""
    clear_hold("dispute", customer, item)


@dunning.command()
@click.argument("customer")
@click.option("--until", type=DATE, required=True, help="the day of the last instalment")
@click.option("--reason", required=True, help="what was agreed")
def plan(customer: str, until: datetime, reason: str) -> None:
    """Record an agreed instalment plan of CUSTOMER: no dunning until it ends."""
    set_hold("plan", customer, reason, until=until.date())


@dunning.command("end-plan")
@click.argument("customer")
def end_plan(customer: str) -> None:
    """End the instalment plan of CUSTOMER (broken or paid)."""
    clear_hold("plan", customer, None)


@dunning.command()
@click.argument("customer")
@click.option("--json", "as_json", is_flag=True)
def show(customer: str, as_json: bool) -> None:
    """The case of CUSTOMER (level, since, deadline, steps), its holds and closed cases."""
    found = store()
    case = found.case(_customer(customer))
    holds = found.holds(customer).holds
    closed = found.closed_cases(customer)
    if as_json:
        print_json(
            {
                "case": case.model_dump(mode="json", exclude={"pending"}) if case else None,
                "holds": [hold.model_dump(mode="json") for hold in holds],
                "closed": [{k: c[k] for k in ("case_id", "closed_on", "reason")} for c in closed],
            }
        )
        return
    _print_case(customer, case)
    for hold in holds:
        what = f" {hold.item}" if hold.item else ""
        console.print(f"{hold.kind}{what} since {hold.set_on}: {hold.reason}")
    for record in closed:
        console.print(f"closed {record['case_id']} on {record['closed_on']}: {record['reason']}")


def _print_case(customer: str, case: Case | None) -> None:
    if case is None:
        console.print(f"{customer} is not in dunning")
        return
    since = f"level {case.level} {case.level_key} since {case.since}"
    deadline = f", deadline {case.deadline}" if case.deadline else ""
    console.print(f"{customer}: {since}{deadline}, items {', '.join(case.listed)}")
    console.print(case_table(case))


@dunning.command()
@click.argument("customer")
@click.option("--date", "day", type=DATE, default=None, help="YYYY-MM-DD; default: today")
def settle(customer: str, day: datetime | None) -> None:
    """Check CUSTOMER's claim now, as the statement import does after posting payments."""
    from shared.settings import Settings
    from shared.wiring import dunning_cases, ledger

    try:
        settings = Settings()
        cases = dunning_cases(settings, ledger=ledger(settings))
        outcome = cases.settle(_customer(customer), on=_day(day))
    except (LookupError, ValueError) as error:
        errors.print(f"[red]cannot settle:[/] {error}")
        raise SystemExit(1) from error
    console.print(f"{customer}: {outcome.replace('_', ' ')}")
