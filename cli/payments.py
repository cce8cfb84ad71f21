"""`billing payments`: import bank statements, the clarification list, assigning by hand."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import click
from rich.table import Table

from cli.console import console, errors, print_json, progress_bar, quiet_libraries
from cli.settings import cli_settings
from infra import spec
from shared.money import format_eur
from shared.payments.importing import (
    Assigned,
    ImportBusyError,
    ImportReport,
    ManualAssignment,
    PaymentImport,
)
from shared.payments.matching import AssignmentError, Decision
from shared.payments.statement import StatementError, StatementFile
from shared.settings import Settings

_RESOURCES = (
    *(table.env_var for table in spec.TABLES),
    *(bucket.env_var for bucket in spec.BUCKETS),
)
_CUSTOMER_ID = re.compile(r"C\d{7,12}")
MOST_ROWS = 20


def _settings() -> Settings:
    from cli.main import _resources

    return cli_settings(_resources(*_RESOURCES))


@click.group()
def payments() -> None:
    """Bank statements in: matching, posting, clarification."""


@payments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def import_statement(file: Path, as_json: bool) -> None:
    """Import a statement file (CAMT.052/.053/.054, MT940): match, post, set aside the rest."""
    from shared.payments.statements import read_statement_file
    from shared.wiring import payment_import

    quiet_libraries()
    use_case = payment_import(_settings())
    try:
        with console.status(f"reading {file.name}"):
            statement = read_statement_file(file)
    except StatementError as error:
        raise click.ClickException(f"{file.name}: {error.field}: {error.reason}") from error
    report = _run(use_case, statement, file.name, show_progress=not as_json)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    console.print(report_table(report, title=f"import of {file.name}"))
    if report.unmatched_entries:
        console.print(_unmatched_entries_table(report))


def _run(
    use_case: PaymentImport, statement: StatementFile, name: str, *, show_progress: bool
) -> ImportReport:
    try:
        if not show_progress:
            return use_case.run(statement)
        entries = sum(len(s.transactions) for s in statement.statements)
        with progress_bar() as bars:
            task = bars.add_task(name[:22], total=entries, detail="entries")
            return use_case.run(statement, progress=lambda done: bars.advance(task, done))
    except ImportBusyError as error:
        raise click.ClickException(str(error)) from error


def report_table(report: ImportReport, *, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("format", report.format),
        ("statements", str(report.statements)),
        ("entries", f"{report.entries:,}"),
        ("matched", f"{report.matched:,}"),
        *((f"  by {rule}", f"{count:,}") for rule, count in sorted(report.by_rule.items())),
        ("received", format_eur(report.received)),
        ("returned debits", f"{report.returns:,} ({format_eur(report.returned)})"),
        ("return fees charged", format_eur(report.return_fees)),
        ("mandates revoked", f"{report.mandates_revoked:,}"),
        ("unmatched", f"{report.unmatched:,} ({format_eur(report.unmatched_amount)})"),
        ("duplicates skipped", f"{report.duplicates:,}"),
        ("pending or information only", f"{report.not_booked:,}"),
        ("postings written", f"{report.postings:,}"),
        ("seconds", ", ".join(f"{step} {s:g}" for step, s in report.seconds.items())),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _unmatched_entries_table(report: ImportReport) -> Table:
    table = _list_table("set aside for clarification")
    for entry in report.unmatched_entries[:MOST_ROWS]:
        table.add_row(
            entry.transaction_id,
            entry.booking_date,
            format_eur(entry.amount),
            entry.counterparty or "",
            entry.remittance,
            entry.reason,
        )
    _more(table, len(report.unmatched_entries))
    return table


def _list_table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("transaction", "booked", "amount", "from / to", "text", "reason"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    return table


def _more(table: Table, count: int) -> None:
    if count > MOST_ROWS:
        table.add_row("...", "", "", "", "", f"{count - MOST_ROWS} more (--json lists all)")


@payments.command()
@click.option("--json", "as_json", is_flag=True, help="every entry, as JSON")
def unmatched(as_json: bool) -> None:
    """The clarification list: payments no rule could assign, with the reason."""
    from shared.wiring import payment_decisions

    quiet_libraries()
    decisions = payment_decisions(_settings()).unmatched()
    if as_json:
        print_json([_listed(decision) for decision in decisions])
        return
    if not decisions:
        console.print("nothing to clarify")
        return
    console.print(unmatched_table(decisions))


def _listed(decision: Decision) -> dict[str, object]:
    transaction = decision.transaction
    return {
        "transaction_id": transaction.transaction_id,
        "statement_id": decision.statement_id,
        "booking_date": transaction.booking_date.isoformat(),
        "amount": str(transaction.amount),
        "currency": transaction.currency,
        "counterparty": transaction.counterparty_name,
        "counterparty_iban": transaction.counterparty_iban,
        "remittance": transaction.remittance,
        "end_to_end_id": transaction.end_to_end_id,
        "reason": decision.reason,
    }


def unmatched_table(decisions: list[Decision]) -> Table:
    table = _list_table(f"{len(decisions):,} payments to clarify")
    for decision in decisions[:MOST_ROWS]:
        transaction = decision.transaction
        table.add_row(
            transaction.transaction_id,
            transaction.booking_date.isoformat(),
            format_eur(transaction.amount),
            transaction.counterparty_name or "",
            transaction.remittance,
            decision.reason or "",
        )
    _more(table, len(decisions))
    return table


@payments.command()
@click.argument("transaction_id")
@click.option("--customer", "customer_id", required=True, help="the customer who paid")
@click.option("--invoice", default=None, help="the invoice paid (default: oldest open first)")
@click.option("--by", "who", default=None, help="who assigns it (default: your login name)")
@click.option("--json", "as_json", is_flag=True)
def assign(
    transaction_id: str, customer_id: str, invoice: str | None, who: str | None, as_json: bool
) -> None:
    """Post an unmatched payment to a customer (and invoice) by hand; it leaves the list."""
    from shared.wiring import manual_assignment

    if not _CUSTOMER_ID.fullmatch(customer_id):
        raise click.BadParameter("a customer id is C and 7 to 12 digits", param_hint="--customer")
    quiet_libraries()
    use_case: ManualAssignment = manual_assignment(_settings())
    try:
        done = use_case.assign(
            transaction_id, customer_id=customer_id, invoice=invoice, who=who or _login()
        )
    except AssignmentError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        print_json(done.decision.model_dump(mode="json") | {"created": done.created})
        return
    console.print(_assigned_text(done))


def _assigned_text(done: Assigned) -> str:
    verb = "assigned" if done.created else "was already assigned"
    booked = ", ".join(
        f"{p.item or 'credit'} {format_eur(p.amount)}" for p in done.decision.postings
    )
    return f"{done.decision.transaction.transaction_id} {verb}: {booked}"


def _login() -> str:
    try:
        return getpass.getuser()
    except OSError:
        errors.print("no login name found: recorded as cli")
        return "cli"
