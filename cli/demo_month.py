"""The demo after the invoice run: a month of direct debits, a bank statement, its import,
the books reconciled, and dunning of what stayed unpaid. Simulated time throughout: every date
comes from the issue date, none from the machine's clock."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.table import Table

from cli.console import console, debit_table, progress_bar, reconciliation_table
from cli.demo_bank import MonthPlan, OpenInvoice, plan_month
from cli.runs import RunError
from localaws import bank
from localaws.provision import LocalStack
from shared.accounts.datev_export import DatevExportResult
from shared.money import ZERO, format_eur
from shared.payments.debit_export import DebitExportRequest, DebitExportResult
from shared.payments.debits import DebitFile, read_pain008
from shared.payments.importing import ImportReport
from shared.payments.statements import read_statement
from shared.payments.target import is_business_day, next_business_day
from shared.settings import Settings
from shared.storage.dynamodb import scan_all
from shared.storage.ledger import DynamoLedger

# Days after the due date the dunning runs look at: the free reminder comes 7 days after due,
# the first notice the day after the reminder's 10-day deadline.
DUNNING_DAYS = (10, 24)
# Days after the due date a statement brings what some customers paid on their first notice,
# and which share of the noticed customers pays (quoting the notice number, nothing else).
NOTICES_PAID_DAYS = 27
NOTICES_PAID_EVERY = 3


class MonthError(RunError):
    """A figure of the month that does not reconcile."""


@dataclass(frozen=True)
class Month:
    issue_date: date
    gross: Decimal
    out: Path

    def at(self, day: date) -> datetime:
        return datetime.combine(day, time(8, 0), tzinfo=UTC)


def live_the_month(
    month: Month, stack: LocalStack, clients: Callable[[str], Any], timings: Any
) -> dict[str, Any]:
    """Every figure of the month, for report.json, with an ``error`` when the books do not
    reconcile. The info logs of the use cases give way to the tables."""
    logging.getLogger("shared").setLevel(logging.WARNING)
    settings = Settings()
    books = DynamoLedger(clients("dynamodb"), settings.documents_table)
    invoices = _issued_invoices(clients, settings)
    with timings.step("debit export"):
        debits, debit_file = _export(month, settings, books, clients)
    transfers = _transfers(invoices, debit_file)
    due = debit_file.collection_date
    plan = plan_month(debit_file, transfers, paid_until=due + timedelta(days=5))
    with timings.step("bank statement and import"):
        payments = _payments(month, settings, plan, due + timedelta(days=6))
    customers = {str(item["customer_id"]) for item in invoices}
    reconciliation = _reconcile(month, settings, books, customers, payments, timings)
    with timings.step("dunning"):
        dunning = _dunning(stack, clients, due)
    with timings.step("notices paid"):
        dunning["notices_paid"] = _notices_paid(month, settings, books, clients, due)
    document = {
        "debits": _debits_document(debits),
        "payments": payments,
        "reconciliation": reconciliation,
        "dunning": dunning | {"expected_unpaid": sorted(plan.unpaid), "returned": plan.returned},
    }
    if not reconciliation["reconciled"]:
        return document | {"error": "the month does not reconcile"}
    return document


def _issued_invoices(clients: Callable[[str], Any], settings: Settings) -> list[dict[str, Any]]:
    return list(
        scan_all(
            clients("dynamodb"),
            TableName=settings.documents_table,
            FilterExpression="document_type = :invoice",
            ExpressionAttributeValues={":invoice": {"S": "invoice"}},
            ProjectionExpression="customer_id, #n, gross, due_date",
            ExpressionAttributeNames={"#n": "number"},
        )
    )


def _export(
    month: Month, settings: Settings, books: DynamoLedger, clients: Callable[[str], Any]
) -> tuple[DebitExportResult, DebitFile]:
    from shared.wiring import debit_export_service

    due = month.issue_date + timedelta(days=settings.payment_term_days)
    collection = due if is_business_day(due) else next_business_day(due)
    exported_on = month.at(month.issue_date + timedelta(days=1))
    service = debit_export_service(settings, books, dynamodb=clients("dynamodb"))
    service = dataclasses.replace(service, clock=lambda: exported_on)
    with progress_bar() as bars:
        task = bars.add_task("debit export", total=settings.shard_count, detail="shards")
        result = service.export(
            DebitExportRequest.parse(collection.isoformat()),
            on_shard=lambda *_: bars.advance(task),
        )
    console.print(debit_table(result))
    (summary,) = result.files
    body = clients("s3").get_object(Bucket=settings.work_bucket, Key=summary.key)["Body"].read()
    _write(month.out / "bank" / summary.key.rsplit("/", 1)[-1], body)
    return result, read_pain008(body)


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _transfers(invoices: list[dict[str, Any]], debits: DebitFile) -> list[OpenInvoice]:
    """The invoices to pay by transfer: those of customers the debit file collected nothing of."""
    collected = {collection.customer_id for collection in debits.collections}
    return [
        OpenInvoice(str(i["customer_id"]), str(i["number"]), Decimal(str(i["gross"])))
        for i in invoices
        if str(i["customer_id"]) not in collected and Decimal(str(i["gross"])) > 0
    ]


def _payments(month: Month, settings: Settings, plan: MonthPlan, booked: date) -> dict[str, Any]:
    from shared.wiring import payment_decisions, payment_import

    statement = bank.BankStatement(
        plan.items,
        account=bank.Account(iban=settings.seller_iban.replace(" ", "")),
        statement_id=f"STMT-{booked:%Y-%m-%d}",
        created_at=month.at(booked),
    )
    data = bank.camt053(statement)
    path = month.out / "bank" / f"camt053-{booked:%Y-%m-%d}.xml"
    _write(path, data)
    use_case = dataclasses.replace(payment_import(settings), now=lambda: month.at(booked))
    report = _import(use_case, data, "statement import")
    again = _import(use_case, data, "same file again")
    clarification = len(payment_decisions(settings).unmatched())
    _print_import(report, again, clarification)
    return {
        "file": str(path),
        "planned": dict(sorted(plan.kinds.items())),
        "import": report.model_dump(mode="json", exclude={"unmatched_entries"}),
        "unmatched_reasons": _reasons(report),
        "clarification_list": clarification,
        "reimport": {
            "entries": again.entries,
            "duplicates": again.duplicates,
            "matched": again.matched,
            "postings": again.postings,
        },
    }


def _import(use_case: Any, data: bytes, label: str) -> ImportReport:
    source = read_statement(data)
    entries = sum(len(statement.transactions) for statement in source.statements)
    with progress_bar() as bars:
        task = bars.add_task(label, total=entries, detail="entries")
        report: ImportReport = use_case.run(source, progress=lambda done: bars.advance(task, done))
    return report


def _reasons(report: ImportReport) -> dict[str, int]:
    counted: dict[str, int] = {}
    for entry in report.unmatched_entries:
        counted[entry.reason] = counted.get(entry.reason, 0) + 1
    return counted


def _print_import(report: ImportReport, again: ImportReport, clarification: int) -> None:
    from cli.payments import report_table

    console.print(report_table(report, title="statement import"))
    reasons = Table(title="unmatched, by reason", title_justify="left")
    reasons.add_column("reason")
    reasons.add_column("entries", justify="right")
    for reason, count in sorted(_reasons(report).items()):
        reasons.add_row(reason, str(count))
    console.print(reasons)
    console.print(f"clarification list: [bold]{clarification}[/] entries")
    console.print(
        f"same file imported again: {again.duplicates:,} of {again.entries:,} entries known, "
        f"[bold]{again.postings}[/] postings written"
    )


def _reconcile(
    month: Month,
    settings: Settings,
    books: DynamoLedger,
    customers: set[str],
    payments: dict[str, Any],
    timings: Any,
) -> dict[str, Any]:
    imported = ImportReport.model_validate(payments["import"])
    with timings.step("balances of all customers"):
        balances = sum((a.balance for a in books.accounts(customers).values()), ZERO)
    expected = month.gross + imported.return_fees - imported.received + imported.returned
    with timings.step("DATEV export"):
        datev = _datev(month, settings, books)
    table = Table(title="customer balances", title_justify="left", show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("amount", justify="right")
    rows = [
        ("invoiced gross", month.gross),
        ("+ return fees", imported.return_fees),
        ("- payments received", -imported.received),
        ("+ debits returned", imported.returned),
        ("= expected sum of balances", expected),
        ("sum of all customers' balances", balances),
    ]
    for label, amount in rows:
        table.add_row(label, format_eur(amount))
    console.print(table)
    console.print(reconciliation_table(datev))
    ok = balances == expected
    console.print(
        f"balances reconcile: {'[green]yes[/]' if ok else '[red]NO[/]'}, "
        f"DATEV reconciles: {'[green]yes[/]' if datev.reconciliation.ok else '[red]NO[/]'}"
    )
    return {
        "invoiced_gross": str(month.gross),
        "return_fees": str(imported.return_fees),
        "received": str(imported.received),
        "unmatched": str(imported.unmatched_amount),
        "returned": str(imported.returned),
        "expected_balances": str(expected),
        "balances": str(balances),
        "balances_reconciled": ok,
        "datev": {
            "first": datev.first.isoformat(),
            "last": datev.last.isoformat(),
            "bookings": len(datev.bookings),
            "checks": {c.name: c.ok for c in datev.reconciliation.checks},
            "reconciled": datev.reconciliation.ok,
        },
        "reconciled": ok and datev.reconciliation.ok,
    }


def _datev(month: Month, settings: Settings, books: DynamoLedger) -> DatevExportResult:
    from shared.wiring import datev_export

    first = month.issue_date.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    export = datev_export(settings, books)
    export = dataclasses.replace(export, clock=lambda: month.at(last))
    return export.export(first, last)


def _dunning(stack: LocalStack, clients: Callable[[str], Any], due: date) -> dict[str, Any]:
    from cli.dunning import DunningDriver, report_table

    driver = DunningDriver(clients, stack.exports())
    runs = []
    for days in DUNNING_DAYS:
        day = due + timedelta(days=days)
        started = driver.start(day)
        progress = driver.follow(started, f"dunning {day}")
        if progress.status != "SUCCEEDED":
            raise MonthError(f"dunning run {day}: {driver.failure(started)}")
        report = driver.report(started.run_id, started.execution)
        console.print(report_table(report, title=f"dunning on {day} (due + {days} days)"))
        runs.append(report.model_dump(mode="json"))
    return {"runs": runs, "notices_archived": _archived_notices(clients)}


def _notices_paid(
    month: Month,
    settings: Settings,
    books: DynamoLedger,
    clients: Callable[[str], Any],
    due: date,
) -> dict[str, Any]:
    """Every third customer who got a first notice pays what they owe, naming only the notice
    number; the import matches the notice and tells dunning, which closes those cases at once."""
    from shared.storage.dunning import DynamoDunningStore
    from shared.wiring import payment_import

    booked = due + timedelta(days=NOTICES_PAID_DAYS)
    first_notices = _notices_of(clients, settings, due + timedelta(days=DUNNING_DAYS[-1]))
    owed = {c: books.account(c).balance for c, _ in first_notices[::NOTICES_PAID_EVERY]}
    paying = [(c, number) for c, number in first_notices[::NOTICES_PAID_EVERY] if owed[c] > ZERO]
    bookings = [
        bank.Booking(owed[customer_id], booked, remittance=f"Mahnung {number}")
        for customer_id, number in paying
    ]
    statement = bank.BankStatement(
        bookings,
        account=bank.Account(iban=settings.seller_iban.replace(" ", "")),
        statement_id=f"STMT-{booked:%Y-%m-%d}",
        created_at=month.at(booked),
    )
    data = bank.camt053(statement)
    _write(month.out / "bank" / f"camt053-{booked:%Y-%m-%d}.xml", data)
    use_case = dataclasses.replace(payment_import(settings), now=lambda: month.at(booked))
    report = _import(use_case, data, "notices paid")
    store = DynamoDunningStore(clients("dynamodb"), settings.dunning_table, settings.shard_count)
    customers = [customer_id for customer_id, _ in paying]
    still_open = len(store.cases_of(customers))
    paid = {
        "day": booked.isoformat(),
        "first_notices": len(first_notices),
        "paying": len(paying),
        "matched_by_notice": report.by_rule.get("dunning_notice", 0),
        "received": str(report.received),
        "cases_still_open": still_open,
    }
    console.print(_notices_paid_table(paid))
    return paid


def _notices_of(
    clients: Callable[[str], Any], settings: Settings, issued: date
) -> list[tuple[str, str]]:
    """(customer, notice number) of the notices issued on the day, by customer (numbers follow
    the order the run's shards finished in)."""
    notices = scan_all(
        clients("dynamodb"),
        TableName=settings.documents_table,
        FilterExpression="document_type = :dunning AND issue_date = :issued",
        ExpressionAttributeValues={
            ":dunning": {"S": "dunning"},
            ":issued": {"S": issued.isoformat()},
        },
    )
    return sorted((notice["customer_id"], notice["number"]) for notice in notices)


def _notices_paid_table(paid: dict[str, Any]) -> Table:
    table = Table(title=f"first notices paid by {paid['day']}", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("customers with a first notice", f"{paid['first_notices']:,}")
    table.add_row("paying what they owe, naming only the notice", f"{paid['paying']:,}")
    table.add_row("matched by the notice number", f"{paid['matched_by_notice']:,}")
    table.add_row("received", format_eur(Decimal(paid["received"])))
    table.add_row("their dunning cases still open", f"{paid['cases_still_open']:,}")
    return table


def _archived_notices(clients: Callable[[str], Any]) -> int:
    """Dunning notices written as documents whose PDF is in the archive."""
    settings = Settings()
    s3 = clients("s3")
    notices = scan_all(
        clients("dynamodb"),
        TableName=settings.documents_table,
        FilterExpression="document_type = :dunning",
        ExpressionAttributeValues={":dunning": {"S": "dunning"}},
        ProjectionExpression="pdf_key",
    )
    keys = [notice["pdf_key"] for notice in notices if "pdf_key" in notice]
    for key in keys:
        s3.head_object(Bucket=settings.archive_bucket, Key=key)
    return len(keys)


def _debits_document(result: DebitExportResult) -> dict[str, Any]:
    return result.model_dump(mode="json")
