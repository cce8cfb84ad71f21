"""How the CLI shows things: rich tables and progress bars for people, JSON for machines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cli.runs import Progress as RunProgress
from cli.runs import RunDriver, RunError
from shared.accounts.datev_export import DatevExportResult
from shared.delivery.summary import DeliverySummary
from shared.invoicing.run import RunReport
from shared.invoicing.starter import StartedRun
from shared.money import format_eur
from shared.payments.debit_export import DebitExportResult

console = Console()
errors = Console(stderr=True)

NOISY_LOGGERS = ("moto", "werkzeug", "botocore", "urllib3", "aws_xray_sdk")


def quiet_libraries() -> None:
    """The emulator logs every state transition; the CLI shows its own progress instead."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    columns = (
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield progress


def report_table(report: RunReport, *, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("run", report.run_id),
        ("period", report.period),
        ("status", report.status),
        ("shards", f"{report.shards_done} of {report.shards_total}"),
        ("customers", f"{report.customers:,}"),
        ("invoices", f"{report.invoices:,}"),
        ("issued in this execution", f"{report.new_invoices:,}"),
        ("net", format_eur(report.net)),
        ("VAT", format_eur(report.vat)),
        ("gross", format_eur(report.gross)),
        ("numbers", f"{report.first_number or '-'} .. {report.last_number or '-'}"),
        ("void numbers", str(len(report.void_numbers))),
        ("failed customers", str(len(report.failed))),
    ]
    rows += [
        (
            f"  {_category(group.category_code, group.rate)}",
            f"{format_eur(group.net)} net, {format_eur(group.vat)} VAT",
        )
        for group in report.by_rate
    ]
    if not report.dry_run:
        delivery = report.delivery
        rows.append(("e-mails queued for the sender", f"{delivery.emails_announced:,}"))
        printed = f"{delivery.printed:,} invoices, {delivery.print_pages:,} pages"
        rows.append(("print batch of this execution", printed if delivery.print_batch else "-"))
    if report.seconds is not None:
        rows.append(("seconds", f"{report.seconds}"))
    if report.ms_per_invoice:
        steps = ", ".join(f"{name} {ms:g}" for name, ms in report.ms_per_invoice.items())
        rows.append(("ms per invoice", steps))
    for label, value in rows:
        table.add_row(label, value)
    return table


_CATEGORIES = {"AE": "reverse charge", "O": "not subject (non-EU)", "E": "exempt"}


def _category(code: str, rate: Decimal) -> str:
    return f"{rate.normalize():f} % VAT" if code == "S" else _CATEGORIES.get(code, code)


def failures_table(report: RunReport, *, most: int = 10) -> Table:
    table = Table(title="failed customers", title_justify="left")
    table.add_column("customer")
    table.add_column("reason")
    for failure in report.failed[:most]:
        table.add_row(failure.customer_id, failure.reason)
    if len(report.failed) > most:
        table.add_row("...", f"{len(report.failed) - most} more in the report")
    return table


def delivery_table(summary: DeliverySummary, *, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    table.add_row("run", summary.run_id)
    for status, count in summary.by_status.items():
        table.add_row(f"status {status}", f"{count:,}")
    table.add_row("e-mails sent", f"{summary.emails_sent:,}")
    table.add_row("  with the PDF attached", f"{summary.with_attachment:,}")
    table.add_row("printed (post)", f"{summary.printed:,}")
    for key in summary.print_batches:
        table.add_row("  print batch", key)
    table.add_row("failed", f"{len(summary.failed):,}")
    return table


def delivery_failures_table(summary: DeliverySummary, *, most: int = 10) -> Table:
    table = Table(title="failed deliveries", title_justify="left")
    table.add_column("invoice")
    table.add_column("customer")
    table.add_column("attempts", justify="right")
    table.add_column("reason")
    for failure in summary.failed[:most]:
        table.add_row(failure.number, failure.customer_id, str(failure.attempts), failure.reason)
    if len(summary.failed) > most:
        table.add_row("...", "", "", f"{len(summary.failed) - most} more (--json lists all)")
    return table


def print_json(document: Any) -> None:
    console.print_json(json.dumps(document, default=str))


def follow_run(driver: RunDriver, started: StartedRun, label: str) -> RunReport:
    """Show the run's shards as a progress bar until it ends; its report, or RunError."""
    final = follow_progress(driver, started, label)
    if final.status != "SUCCEEDED":
        raise RunError(f"{label} ended {final.status}: {driver.failure(started)}")
    return driver.report(started.run_id, started.execution)


def follow_progress(driver: RunDriver, started: StartedRun, label: str) -> RunProgress:
    with progress_bar() as bars:
        task = bars.add_task(label, total=None, detail="")

        def show(progress: RunProgress) -> None:
            bars.update(
                task,
                total=progress.shards_total or None,
                completed=progress.shards_done,
                detail=f"shards  {progress.invoices:,} invoices  {progress.failed} failed",
            )

        return driver.wait(started, show, poll_seconds=0.3)


def debit_table(result: DebitExportResult) -> Table:
    """What a debit export collected: the new file, or the date's files when nothing was new."""
    title = f"direct debits for {result.collection_date} (pain.008.{result.version})"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    for summary in result.files:
        new = result.new_file is not None and summary.file_id == result.new_file.file_id
        rows = [
            ("file" + (" (new)" if new else ""), summary.file_id),
            ("key", summary.key),
            ("items", f"{summary.items:,}"),
            ("customers", f"{summary.customers:,}"),
            ("total", format_eur(summary.total)),
            ("FRST", f"{summary.frst_items:,} items, {format_eur(summary.frst_total)}"),
            ("RCUR", f"{summary.rcur_items:,} items, {format_eur(summary.rcur_total)}"),
        ]
        for label, value in rows:
            table.add_row(label, value)
    return table


def debit_notes(result: DebitExportResult) -> list[str]:
    notes = [
        "new file written" if result.new_file else "nothing new to collect: no file written",
        f"due items already in a debit file: {result.already_claimed:,}",
        f"customers whose mandates are all revoked: {result.customers_with_revoked_mandates:,}",
    ]
    if result.completed_pending:
        notes.append(f"completed {result.completed_pending}, left half written by an export")
    notes += [
        f"[yellow]skipped[/] {s.customer_id} {s.item or ''}: {s.reason}" for s in result.skipped
    ]
    conflicts = sum(summary.conflicts for summary in result.files)
    if conflicts:
        notes.append(f"[red]{conflicts} items of these files were claimed by other files[/]")
    return notes


def datev_totals_table(result: DatevExportResult) -> Table:
    table = Table(title=f"DATEV {result.first} .. {result.last}: totals per account")
    table.add_column("account", justify="right")
    table.add_column("name")
    table.add_column("Soll", justify="right")
    table.add_column("Haben", justify="right")
    table.add_column("balance", justify="right")
    for line in result.totals:
        table.add_row(
            str(line.account),
            line.label,
            format_eur(line.debit),
            format_eur(line.credit),
            format_eur(line.balance),
        )
    return table


def reconciliation_table(result: DatevExportResult) -> Table:
    table = Table(title="reconciliation", title_justify="left")
    table.add_column("check")
    table.add_column("source", justify="right")
    table.add_column("bookings", justify="right")
    table.add_column("")
    for check in result.reconciliation.checks:
        table.add_row(
            check.name,
            f"{check.expected}",
            f"{check.booked}",
            "[green]ok[/]" if check.ok else "[red]DIFFERENT[/]",
        )
    return table
