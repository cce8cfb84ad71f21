"""The `billing` command: demo, the local stack, and invoice runs for finance."""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from cli.console import (
    console,
    delivery_failures_table,
    delivery_table,
    errors,
    failures_table,
    follow_progress,
    follow_run,
    print_json,
    quiet_libraries,
    report_table,
)
from cli.runs import RunDriver, RunError, RunTargets
from infra import spec
from shared.periods import Period

DEFAULT_SHARDS = 16


def _period(_: click.Context, __: click.Parameter, value: str | None) -> Period:
    if value is None:
        return Period.previous(datetime.now(UTC).date())
    try:
        return Period.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


@click.group()
def cli() -> None:
    """Serverless mass billing: invoice runs, archive and payments on AWS or the embedded AWS."""


@cli.command()
@click.option("--customers", default=2000, show_default=True, type=click.IntRange(1, 200_000))
@click.option("--period", callback=_period, help="YYYY-MM; default: last month")
@click.option("--out", default="demo-out", show_default=True, type=click.Path(path_type=Path))
@click.option("--shards", default=DEFAULT_SHARDS, show_default=True, type=click.IntRange(1, 4096))
def demo(customers: int, period: Period, out: Path, shards: int) -> None:
    """Bill a synthetic hoster end to end on an embedded AWS inside this process."""
    from cli.demo import DemoOptions, run_demo

    options = DemoOptions(
        customers=customers,
        period=period,
        out=out,
        shards=shards,
        issue_date=period.end + timedelta(days=1),
    )
    try:
        run_demo(options)
    except RunError as error:
        errors.print(f"[red]demo failed:[/] {error}")
        sys.exit(1)


@cli.group()
def local() -> None:
    """The embedded AWS as a server for other processes."""


@local.command()
@click.option("--port", default=4566, show_default=True, type=click.IntRange(1, 65535))
@click.option("--api-port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--shards", default=DEFAULT_SHARDS, show_default=True, type=click.IntRange(1, 4096))
@click.option(
    "--seed-customers",
    default=0,
    show_default=True,
    type=click.IntRange(0, 200_000),
    help="create a synthetic hoster with this many customers",
)
def up(port: int, api_port: int, shards: int, seed_customers: int) -> None:
    """Start the embedded AWS, create every resource, serve the HTTP APIs; stop with Ctrl-C."""
    from cli.local import serve_forever

    serve_forever(port=port, api_port=api_port, shards=shards, seed_customers=seed_customers)


@local.command()
@click.argument("customer_id")
@click.option("--staff", is_flag=True, help="a staff token instead of a customer's")
@click.option("--expires-in", default=3600, show_default=True, type=click.IntRange(60, 86_400))
def token(customer_id: str, staff: bool, expires_in: int) -> None:
    """Print a signed token for the local HTTP APIs of a running `billing local up`."""
    from cli.local import STATE_DIR
    from localaws.http_api import LocalIssuer

    if not re.fullmatch(r"C\d{7,12}", customer_id):
        raise click.BadParameter("a customer id is C and 7 to 12 digits", param_hint="CUSTOMER_ID")
    try:
        issuer = LocalIssuer.load(STATE_DIR)
    except FileNotFoundError as error:
        raise click.ClickException(
            "no local signing key yet: start `billing local up` first"
        ) from error
    click.echo(issuer.token(customer_id, staff=staff, expires_in=expires_in))


@local.command("shop-token")
def shop_token() -> None:
    """Print a client-credentials token of the shop for the local order API."""
    from cli.local import STATE_DIR
    from localaws.http_api import LocalIssuer

    try:
        issuer = LocalIssuer.load(STATE_DIR)
    except FileNotFoundError as error:
        raise click.ClickException(
            "no local signing key yet: start `billing local up` first"
        ) from error
    click.echo(issuer.shop_token())


@cli.group()
def run() -> None:
    """Invoice runs."""


def _resources(*variables: str) -> dict[str, str]:
    """Resource names from the environment, else from the deployed stack's outputs."""
    values = {name: os.environ.get(name, "") for name in variables}
    if not all(values.values()):
        values |= _stack_outputs(os.environ.get("BILLING_STACK", "Billing"))
    missing = [name for name in variables if not values.get(name)]
    if missing:
        raise click.UsageError(
            "set " + ", ".join(missing) + " (printed by `billing local up`), or deploy the stack"
        )
    return values


def _driver() -> RunDriver:
    import boto3

    values = _resources(spec.STATE_MACHINE_ENV_VAR, spec.CONTROL.env_var, spec.WORK.env_var)
    targets = RunTargets(
        state_machine_arn=values[spec.STATE_MACHINE_ENV_VAR],
        control_table=values[spec.CONTROL.env_var],
        work_bucket=values[spec.WORK.env_var],
    )
    return RunDriver(lambda service: boto3.client(service), targets)  # type: ignore[call-overload]


def _stack_outputs(stack_name: str) -> dict[str, str]:
    """The deployed stack's outputs, keyed by the variable each one stands for."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError):
        return {}
    outputs = stacks[0].get("Outputs", []) if stacks else []
    return {o["Description"]: o["OutputValue"] for o in outputs if o.get("Description")}


@run.command()
@click.option("--period", callback=_period, help="YYYY-MM; default: last month")
@click.option("--issue-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--dry-run", is_flag=True, help="compute every invoice and the totals, issue nothing")
@click.option("--wait", is_flag=True, help="follow the run with a progress bar until it ends")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def start(
    period: Period, issue_date: datetime | None, dry_run: bool, wait: bool, as_json: bool
) -> None:
    """Start the invoice run of a period (a second start joins or repeats it, never bills twice)."""
    quiet_libraries()
    driver = _driver()
    day = issue_date.date() if issue_date else date.today()
    started = driver.start(period, issue_date=day, dry_run=dry_run)
    verb = "joined" if started.joined else "started"
    if not wait:
        if as_json:
            print_json(started.__dict__)
        else:
            console.print(f"{verb} {started.run_id} as execution {started.execution}")
        return

    try:
        report = follow_run(driver, started, f"run {period}")
    except RunError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        console.print(report_table(report, title=f"{verb} {started.run_id}"))


@run.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="print the figures once, as JSON")
def status(run_id: str, as_json: bool) -> None:
    """Follow a run's latest execution live: shards done of total, invoices, failures."""
    quiet_libraries()
    driver = _driver()
    try:
        started = driver.latest(run_id)
        if as_json:
            print_json(driver.progress(started).__dict__ | {"execution": started.execution})
            return
        final = follow_progress(driver, started, run_id)
    except RunError as error:
        raise click.ClickException(str(error)) from error
    console.print(
        f"{run_id}: {final.status.lower()}, {final.shards_done} of {final.shards_total} shards, "
        f"{final.invoices:,} invoices, {final.failed} failed customers"
    )


@run.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
def report(run_id: str, as_json: bool) -> None:
    """Print the report of a finished run."""
    try:
        found = _driver().report(run_id)
    except RunError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        print_json(found.model_dump(mode="json"))
    else:
        console.print(report_table(found, title=run_id))
        if found.failed:
            console.print(failures_table(found))


@run.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="every figure and every failure, as JSON")
def delivery(run_id: str, as_json: bool) -> None:
    """Show how a run's invoices were delivered: per status, e-mails, print batch, failures."""
    import boto3

    from shared.delivery.adapters import DynamoDeliveryLog
    from shared.delivery.summary import summarize

    table = _resources(spec.DOCUMENTS.env_var)[spec.DOCUMENTS.env_var]
    log = DynamoDeliveryLog(boto3.client("dynamodb"), table)
    summary = summarize(run_id, log.of_run(run_id))
    if as_json:
        print_json(summary.model_dump(mode="json"))
        return
    if not summary.by_status:
        raise click.ClickException(f"no delivery recorded for {run_id}")
    console.print(delivery_table(summary, title=f"delivery of {run_id}"))
    if summary.failed:
        console.print(delivery_failures_table(summary))


@cli.group()
def invoices() -> None:
    """Issued invoices and their corrections."""


@invoices.command()
@click.argument("number")
@click.option("--reason", required=True, help="why, as it will stand on the cancellation")
@click.option("--json", "as_json", is_flag=True)
def cancel(number: str, reason: str, as_json: bool) -> None:
    """Issue a cancellation (Stornorechnung) of invoice NUMBER; the invoice itself stays as is."""
    from cli.corrections import cancel_invoice

    if not re.fullmatch(r"[A-Z]{1,6}-[0-9]{4}-[0-9]{8}", number):
        raise click.BadParameter(
            "an invoice number looks like RE-2026-00000001", param_hint="NUMBER"
        )
    if len(reason.strip()) < 3:
        raise click.BadParameter("give the reason in a few words", param_hint="--reason")

    values = _resources(spec.DOCUMENTS.env_var, spec.CONTROL.env_var, spec.ARCHIVE.env_var)
    try:
        outcome = cancel_invoice(values, number=number, reason=reason.strip())
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    document = outcome.cancellation
    if as_json:
        print_json(document.model_dump(mode="json") | {"created": outcome.created})
        return
    verb = "cancelled by" if outcome.created else "was already cancelled by"
    console.print(f"{number} {verb} {document.number} ({document.draft.gross} EUR)")


_DEBIT_FIELDS = {
    "collection_date": "--collection-date",
    "version": "--version",
    "creditor_id": "BILLING_SELLER_CREDITOR_ID",
}


@cli.group()
def debits() -> None:
    """SEPA direct debits out: pain.008 files of what is due."""


@debits.command("export")
@click.option("--collection-date", required=True, help="YYYY-MM-DD, a TARGET2 business day")
@click.option(
    "--version",
    "version",
    default="001.08",
    show_default=True,
    type=click.Choice(["001.08", "001.02"]),
    help="pain.008 version",
)
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def export_debits(collection_date: str, version: str, as_json: bool) -> None:
    """Collect what is due by COLLECTION-DATE in one pain.008 file; again, it collects nothing
    twice and shows the date's file."""
    from cli.console import debit_notes, debit_table, progress_bar
    from cli.debits import DEBIT_RESOURCES, export_debits
    from shared.payments.debit_export import DebitExportRequest
    from shared.payments.debit_ports import DebitBusyError
    from shared.payments.debits import DebitFileError, DebitInputError

    quiet_libraries()
    try:
        request = DebitExportRequest.parse(collection_date, version)
        resources = _resources(*DEBIT_RESOURCES)
        with progress_bar() as bars:
            task = bars.add_task("debit export", total=None, detail="shards")
            result = export_debits(
                resources,
                request,
                lambda done, of: bars.update(task, completed=done, total=of),
            )
    except DebitInputError as error:
        hint = _DEBIT_FIELDS.get(error.field, error.field)
        raise click.BadParameter(error.reason, param_hint=hint) from error
    except (DebitBusyError, DebitFileError) as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    console.print(debit_table(result))
    for note in debit_notes(result):
        console.print(note)


@cli.group()
def accounts() -> None:
    """Customer accounts and the books: the DATEV export."""


def _day(_: click.Context, parameter: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from error


@accounts.command()
@click.option("--from", "first", required=True, callback=_day, help="first day, YYYY-MM-DD")
@click.option("--to", "last", required=True, callback=_day, help="last day, YYYY-MM-DD")
@click.option("--out", type=click.Path(path_type=Path), help="CSV file (default EXTF_...csv)")
def datev(first: date, last: date, out: Path | None) -> None:
    """Write the documents and postings of a date range as a DATEV Buchungsstapel, print the
    totals per account and check them against documents and ledger to the cent."""
    from cli.console import datev_totals_table, reconciliation_table
    from cli.debits import DATEV_RESOURCES, export_datev
    from shared.accounts.datev import DatevError

    quiet_libraries()
    try:
        result = export_datev(_resources(*DATEV_RESOURCES), first, last)
    except DatevError as error:
        hint = {"to": "--to", "from": "--from"}.get(error.field, error.field)
        raise click.BadParameter(error.reason, param_hint=hint) from error
    target = out or Path(f"EXTF_Buchungsstapel_{first:%Y%m%d}_{last:%Y%m%d}.csv")
    target.write_bytes(result.csv)
    console.print(datev_totals_table(result))
    console.print(reconciliation_table(result))
    console.print(
        f"{len(result.bookings):,} bookings ({result.documents:,} documents, "
        f"{result.postings:,} postings, {result.voids:,} void numbers) in {target}"
    )
    if not result.reconciliation.ok:
        errors.print("[red bold]the export does not reconcile[/]: see the checks above")
        for number in result.missing[:10]:
            errors.print(f"  number {number} is neither a document nor a void")
        sys.exit(1)


def _add_payments() -> None:
    from cli.payments import payments

    cli.add_command(payments)


_add_payments()


def main() -> None:
    cli()


def _add_dunning() -> None:
    from cli.dunning import dunning

    cli.add_command(dunning)


_add_dunning()
