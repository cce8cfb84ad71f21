"""The demo: a synthetic hoster billed end to end on the embedded AWS, inside this process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rich.table import Table

from cli.console import (
    console,
    delivery_failures_table,
    delivery_table,
    failures_table,
    follow_run,
    progress_bar,
    quiet_libraries,
    report_table,
)
from cli.demo_month import Month, MonthError, live_the_month
from cli.local import portal_steps
from cli.runs import RunDriver, RunTargets
from cli.seed import UNKNOWN_PRODUCT, Hoster, synthetic_hoster
from localaws import embedded
from localaws.provision import LocalStack
from localaws.queue_poller import QueuePoller
from shared.customers import Customer
from shared.delivery.adapters import DynamoDeliveryLog
from shared.delivery.summary import DeliverySummary, summarize
from shared.invoicing.run import RunReport
from shared.periods import Period
from shared.storage.dynamodb import DynamoContracts
from shared.vat_ids import InvalidVatIdError, validate_vat_id

SEED_BATCH = 250


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps[name] = round(time.perf_counter() - started, 2)


@dataclass(frozen=True)
class DemoOptions:
    customers: int
    period: Period
    out: Path
    shards: int
    issue_date: date


def run_demo(options: DemoOptions) -> dict[str, Any]:
    quiet_libraries()
    timings = Timings()
    console.rule(f"[bold]billing demo: {options.customers:,} customers, period {options.period}")
    with ExitStack() as resources:
        with timings.step("start embedded AWS"):
            settings = {"BILLING_SHARD_COUNT": str(options.shards)}
            stack = resources.enter_context(embedded.in_process(settings))
        return _bill(options, stack, timings)


def _bill(options: DemoOptions, stack: LocalStack, timings: Timings) -> dict[str, Any]:
    clients = embedded.client_factory()
    driver = RunDriver(
        clients,
        RunTargets(
            state_machine_arn=stack.invoice_run_arn,
            control_table=stack.table_names["Control"],
            work_bucket=stack.bucket_names["Work"],
        ),
    )
    hoster = synthetic_hoster(
        options.customers, shard_count=options.shards, period_start=options.period.start
    )
    with timings.step("seed customers and contracts"):
        _seed(clients, stack, hoster)
    with timings.step("orders through the order API"):
        placed = _orders(options)
    console.print(mix_table(hoster, options.period))
    console.print(
        f"orders through the order API use case: [bold]{placed.accepted:,}[/] accepted "
        f"({placed.contracts:,} contracts), {placed.refused:,} refused as taken"
    )
    with timings.step("invoice run"):
        report = _run(driver, options, "invoice run")
    with timings.step("send e-mails"):
        emails = _send(clients, stack)
    with timings.step("same run again"):
        rerun = _run(driver, options, "same period again")
    with timings.step("send e-mails again"):
        rerun_emails = _send(clients, stack)
    with timings.step("copy PDFs"):
        copied = _copy_pdfs(clients, stack, options.out / "invoices")
        batch_file = _copy_print_batch(clients, stack, report, options.out / "print")

    delivery = DeliveryFigures(
        summary=summarize(report.run_id, _delivery_log(clients, stack).of_run(report.run_id)),
        emails=emails,
        rerun_emails=rerun_emails,
        batch_file=batch_file,
    )
    document = _report_document(report, rerun, hoster, copied, timings)
    document["delivery"] = delivery.document(report, rerun)
    document["orders"] = {
        "accepted": placed.accepted,
        "refused": placed.refused,
        "contracts": placed.contracts,
    }
    _summary(report, rerun, timings, options.out, copied)
    _delivery_summary(delivery, report, rerun)
    month = Month(issue_date=options.issue_date, gross=report.gross, out=options.out)
    document |= live_the_month(month, stack, clients, timings)
    document["seconds"] = sum(timings.steps.values())
    document["timings"] = timings.steps
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "report.json").write_text(json.dumps(document, indent=2) + "\n")
    if "error" in document:
        raise MonthError(document["error"])
    _portal_hint(hoster.customers[0].customer_id, options.customers)
    return document


def _portal_hint(customer_id: str, customers: int) -> None:
    """The demo's embedded AWS ends with it: the portal needs `billing local up`."""
    console.print("\nread the documents of a customer such as this one in the customer portal:")
    for line in portal_steps(customer_id, customers=customers):
        console.print(line, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class DeliveryFigures:
    summary: DeliverySummary
    emails: int
    rerun_emails: int
    batch_file: Path | None

    def document(self, report: RunReport, rerun: RunReport) -> dict[str, Any]:
        summary = self.summary
        return {
            "emails_announced": report.delivery.emails_announced,
            "emails_accepted_by_ses": self.emails,
            "emails_sent": summary.emails_sent,
            "emails_with_attachment": summary.with_attachment,
            "failed": [failure.model_dump() for failure in summary.failed],
            "by_status": summary.by_status,
            "print_batch": report.delivery.print_batch,
            "print_batch_invoices": report.delivery.printed,
            "print_batch_pages": report.delivery.print_pages,
            "print_batch_file": str(self.batch_file) if self.batch_file else None,
            "rerun": {
                "emails_announced": rerun.delivery.emails_announced,
                "emails_accepted_by_ses": self.rerun_emails,
                "print_batch": rerun.delivery.print_batch,
            },
        }


def _send(clients: Any, stack: LocalStack) -> int:
    """Let the paced sender work off the delivery queue; the e-mails SES accepted meanwhile."""
    poller = QueuePoller(clients, stack)
    before = len(embedded.sent_emails())
    with progress_bar() as bars:
        task = bars.add_task("paced sender", total=poller.backlog(), detail="messages")
        poller.drain(on_batch=lambda received: bars.advance(task, received))
    return len(embedded.sent_emails()) - before


def _delivery_log(clients: Any, stack: LocalStack) -> DynamoDeliveryLog:
    return DynamoDeliveryLog(clients("dynamodb"), stack.table_names["Documents"])


def _copy_print_batch(
    clients: Any, stack: LocalStack, report: RunReport, target: Path
) -> Path | None:
    key = report.delivery.print_batch
    if key is None:
        return None
    body = clients("s3").get_object(Bucket=stack.bucket_names["Work"], Key=key)["Body"].read()
    target.mkdir(parents=True, exist_ok=True)
    path = target / key.rsplit("/", 1)[-1]
    path.write_bytes(body)
    return path


def _delivery_summary(delivery: DeliveryFigures, report: RunReport, rerun: RunReport) -> None:
    console.print(delivery_table(delivery.summary, title="delivery"))
    if delivery.summary.failed:
        console.print(delivery_failures_table(delivery.summary))
    if delivery.batch_file:
        console.print(
            f"print batch: [bold]{report.delivery.printed}[/] invoices, "
            f"{report.delivery.print_pages} pages in {report.delivery.print_batch} "
            f"(copied to {delivery.batch_file})"
        )
    console.print(
        f"same period again: {rerun.delivery.emails_announced:,} invoices announced again, "
        f"[bold]{delivery.rerun_emails}[/] new e-mails, "
        f"print batch: {rerun.delivery.print_batch or 'none (nothing left to print)'}"
    )


def _has_valid_vat_id(customer: Customer) -> bool:
    """A business whose VAT id passes the check the invoice run makes before reverse charge."""
    if customer.kind != "business" or not customer.vat_id:
        return False
    try:
        validate_vat_id(customer.vat_id, customer.address.country)
    except InvalidVatIdError:
        return False
    return True


def mix_table(hoster: Hoster, period: Period) -> Table:
    """What the synthetic provider holds, so the run's figures can be read against it."""
    customers = hoster.customers
    positions = hoster.positions
    abroad = [c for c in customers if c.address.country != "DE"]
    eu = {"AT", "FR", "NL", "IT", "ES", "PL"}
    rows: dict[str, int | str] = {
        "customers in Germany (consumers / businesses)": "{} / {}".format(
            sum(c.address.country == "DE" and c.kind == "consumer" for c in customers),
            sum(c.address.country == "DE" and c.kind == "business" for c in customers),
        ),
        "EU consumers (their country's VAT)": sum(
            c.address.country in eu and c.kind == "consumer" for c in abroad
        ),
        "EU businesses with / without a valid VAT id": "{} / {}".format(
            sum(_has_valid_vat_id(c) for c in abroad if c.address.country in eu),
            sum(
                c.kind == "business" and not _has_valid_vat_id(c)
                for c in abroad
                if c.address.country in eu
            ),
        ),
        "customers outside the EU": sum(c.address.country not in eu for c in abroad),
        "customers who want paper": sum(c.delivery == "post" for c in customers),
        "public buyers with XRechnung (embedded / XML alone)": "{} / {}".format(
            sum(c.einvoice == "xrechnung-embedded" for c in customers),
            sum(c.einvoice == "xrechnung-xml" for c in customers),
        ),
        "paying by direct debit, first / recurring collection": "{} / {}".format(
            sum(m.sequence == "FRST" for m in hoster.mandates),
            sum(m.sequence == "RCUR" for m in hoster.mandates),
        ),
        "paying by transfer": len(customers) - len(hoster.mandates),
        "positions starting in the month": sum(
            period.start <= p.start <= period.end for p in positions
        ),
        "positions ending in the month": sum(
            p.end is not None and p.end <= period.end for p in positions
        ),
        "yearly domains (billed in their anniversary month)": sum(
            p.billing_period == "yearly" for p in positions
        ),
        "billed in arrears": sum(p.timing == "arrears" for p in positions),
        "goodwill credits / exempt fees": "{} / {}".format(
            sum(p.kind == "credit" for p in positions),
            sum(p.tax_category == "exempt" for p in positions),
        ),
        "positions with a product we do not sell": sum(
            p.product_id == UNKNOWN_PRODUCT for p in positions
        ),
    }
    table = Table(title="synthetic provider", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    for label, value in rows.items():
        table.add_row(label, f"{value:,}" if isinstance(value, int) else value)
    return table


def _seed(clients: Any, stack: LocalStack, hoster: Hoster) -> None:
    contracts = DynamoContracts(clients("dynamodb"), stack.table_names["Contracts"])
    shards = hoster.shards
    with progress_bar() as bars:
        task = bars.add_task("seed", total=len(hoster.customers), detail="customers")
        for start in range(0, len(hoster.customers), SEED_BATCH):
            batch = hoster.customers[start : start + SEED_BATCH]
            ids = {customer.customer_id for customer in batch}
            contracts.save_customers(batch)
            contracts.save_positions(shards, (p for p in hoster.positions if p.customer_id in ids))
            contracts.save_mandates(shards, (m for m in hoster.mandates if m.customer_id in ids))
            bars.advance(task, len(batch))


@dataclass
class PlacedOrders:
    accepted: int = 0
    contracts: int = 0
    refused: int = 0


def demo_orders(options: DemoOptions) -> int:
    """A few hundred shop orders, about one for every seventh seeded customer."""
    return max(20, min(400, options.customers // 7))


def _orders(options: DemoOptions) -> PlacedOrders:
    """Shop orders placed through the order use case on days of the billed month, so that the
    run bills them; every 25th asks for a domain an earlier order holds and is refused."""
    from cli.seed import shop_order
    from shared.orders.errors import UnavailableError
    from shared.orders.model import order_id_for
    from shared.orders.requests import OrderRequest
    from shared.orders.service import PlaceCommand
    from shared.settings import Settings
    from shared.wiring import order_service

    service = order_service(Settings())
    placed = PlacedOrders()
    count = demo_orders(options)
    with progress_bar() as bars:
        task = bars.add_task("orders", total=count, detail="through the order API")
        for index in range(count):
            day = options.period.start.replace(day=1 + index % options.period.end.day)
            service.today = lambda day=day: day  # type: ignore[misc]
            order = OrderRequest.model_validate(shop_order(index))
            command = PlaceCommand(order, order_id_for("demo", str(index)), "demo", str(index))
            try:
                placed.contracts += len(service.place(command).contracts)
                placed.accepted += 1
            except UnavailableError:
                placed.refused += 1
            bars.advance(task)
    return placed


def _run(driver: RunDriver, options: DemoOptions, label: str) -> RunReport:
    started = driver.start(options.period, issue_date=options.issue_date)
    return follow_run(driver, started, label)


def _copy_pdfs(clients: Any, stack: LocalStack, target: Path) -> int:
    s3 = clients("s3")
    bucket = stack.bucket_names["Archive"]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="documents/")
        for item in page.get("Contents", [])
    ]
    target.mkdir(parents=True, exist_ok=True)
    with progress_bar() as bars:
        task = bars.add_task("copy PDFs", total=len(keys), detail="")
        for key in keys:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            (target / key.rsplit("/", 1)[-1]).write_bytes(body)
            bars.advance(task)
    return len(keys)


def _report_document(
    report: RunReport, rerun: RunReport, hoster: Hoster, copied: int, timings: Timings
) -> dict[str, Any]:
    figures = report.model_dump(mode="json")
    return figures | {
        "customers": len(hoster.customers),
        "customers_billed": report.customers,
        "failed": [failure.model_dump() for failure in report.failed],
        "void_numbers": [void.model_dump() for void in report.void_numbers],
        "pdfs": copied,
        "rerun": {
            "execution_new_invoices": rerun.new_invoices,
            "invoices": rerun.invoices,
            "gross": str(rerun.gross),
        },
        "seconds": sum(timings.steps.values()),
        "run_seconds": timings.steps.get("invoice run"),
        "timings": timings.steps,
    }


def _summary(report: RunReport, rerun: RunReport, timings: Timings, out: Path, copied: int) -> None:
    console.print(report_table(report, title="invoice run"))
    if report.failed:
        console.print(failures_table(report))
    steps = Table(title="timings", title_justify="left")
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for name, seconds in timings.steps.items():
        steps.add_row(name, f"{seconds:.2f}")
    console.print(steps)
    console.print(
        f"same period started again: [bold]{rerun.new_invoices}[/] new invoices "
        f"({rerun.invoices:,} already issued, gross unchanged: {rerun.gross == report.gross})"
    )
    console.print(
        f"{copied:,} documents (PDFs, and XML for XML-only buyers) in "
        f"[bold]{out / 'invoices'}[/], report in {out / 'report.json'}"
    )
