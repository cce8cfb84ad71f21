"""Figures of the invoice run: rendering a PDF, composing an invoice, a whole run on embedded AWS.

``python -m bench`` prints a table and writes ``bench-results.json`` in the repository root, a list
of ``{"name", "value", "unit", "target"}``. ``--quick`` measures less, for a first look.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cli.seed import CATALOG, synthetic_hoster
from infra import spec
from shared.contracts import Position
from shared.customers import Address, Customer
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import Invoice, InvoiceDraft, Seller
from shared.invoicing.pdf import render_invoice
from shared.periods import Period

RESULTS = Path(__file__).resolve().parent.parent / "bench-results.json"
PERIOD = Period(2026, 11)
ISSUE_DATE = date(2026, 12, 1)
PDF_TARGET_MS = 4.0
NOISY_LOGGERS = ("moto", "botocore", "boto3", "urllib3", "s3transfer", "aws_lambda_powertools")

console = Console()


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None


@dataclass(frozen=True)
class Scale:
    renders: int
    composed_customers: int
    run_customers: int
    shards: int


FULL = Scale(renders=1000, composed_customers=20_000, run_customers=1000, shards=16)
QUICK = Scale(renders=200, composed_customers=2000, run_customers=200, shards=16)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, for a first look")
    scale = QUICK if parser.parse_args(argv).quick else FULL
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)

    figures: list[Figure] = []
    with console.status("rendering PDFs"):
        figures += pdf_render(scale.renders)
    with console.status("composing invoices"):
        figures += compose_per_customer(scale.composed_customers)
    with console.status(f"invoice run of {scale.run_customers} customers on the embedded AWS"):
        figures += invoice_run(scale.run_customers, scale.shards)

    RESULTS.write_text(json.dumps([asdict(figure) for figure in figures], indent=1) + "\n")
    console.print(table(figures))
    console.print(f"written to {RESULTS}")


def pdf_render(renders: int) -> list[Figure]:
    """Milliseconds per render of the same typical invoice: five lines, two tax rates."""
    invoice = typical_invoice()
    render_invoice(invoice)

    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        render_invoice(invoice)
        samples.append((time.perf_counter() - started) * 1000)

    return [
        Figure("pdf render median", round(statistics.median(samples), 3), "ms", PDF_TARGET_MS),
        Figure("pdf render p99", round(percentile(samples, 99), 3), "ms"),
    ]


def compose_per_customer(customers: int) -> list[Figure]:
    """Microseconds to turn one customer's positions into a draft, over a synthetic hoster."""
    hoster = synthetic_hoster(customers, shard_count=1, period_start=PERIOD.start)
    positions: dict[str, list[Position]] = {}
    for position in hoster.positions:
        positions.setdefault(position.customer_id, []).append(position)

    def compose_all() -> None:
        for customer in hoster.customers:
            compose_invoice(customer, positions[customer.customer_id], PERIOD)

    best = min(timed(compose_all) for _ in range(3))
    return [Figure("compose per customer", round(best / customers * 1e6, 2), "µs")]


def invoice_run(customers: int, shards: int) -> list[Figure]:
    """The state machine end to end on moto: seed, run, and start the same run once more."""
    from localaws import embedded
    from shared.storage.dynamodb import DynamoContracts

    with embedded.in_process({"BILLING_SHARD_COUNT": str(shards)}) as stack:
        make = embedded.client_factory()
        hoster = synthetic_hoster(customers, shard_count=shards, period_start=PERIOD.start)
        contracts = DynamoContracts(make("dynamodb"), stack.table_names[spec.CONTRACTS.id])
        contracts.save_customers(hoster.customers)
        contracts.save_positions(hoster.shards, hoster.positions)

        machine = make("stepfunctions")
        first_seconds = execute(machine, stack.invoice_run_arn, f"bench-{PERIOD}-first")
        first = run_report(make("s3"), stack.bucket_names[spec.WORK.id])
        again_seconds = execute(machine, stack.invoice_run_arn, f"bench-{PERIOD}-again")
        again = run_report(make("s3"), stack.bucket_names[spec.WORK.id])

    check_run(first, expected_new=customers)
    check_run(again, expected_new=0)
    return [
        Figure("invoice run customers", customers, "customers"),
        Figure("invoice run shards", shards, "shards"),
        Figure("invoice run", round(first_seconds, 2), "s"),
        Figure("invoice run throughput", round(first["invoices"] / first_seconds, 1), "invoices/s"),
        Figure("invoice run again (idempotent)", round(again_seconds, 2), "s"),
    ]


def execute(machine: Any, arn: str, name: str) -> float:
    """Seconds from the start of an execution until it ended; it must succeed."""
    document = {"period": str(PERIOD), "issue_date": ISSUE_DATE.isoformat()}
    started = time.perf_counter()
    execution = machine.start_execution(stateMachineArn=arn, name=name, input=json.dumps(document))
    for described in poll(machine, execution["executionArn"]):
        if described["status"] != "RUNNING":
            break
    seconds = time.perf_counter() - started

    if described["status"] != "SUCCEEDED":
        cause = described.get("cause", "")[:2000]
        raise SystemExit(f"execution {name} ended {described['status']}: {cause}")
    return seconds


def poll(machine: Any, execution_arn: str) -> Iterator[dict[str, Any]]:
    while True:
        yield machine.describe_execution(executionArn=execution_arn)
        time.sleep(0.05)


def run_report(s3: Any, bucket: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=bucket, Key=f"runs/run-{PERIOD}/report.json")["Body"].read()
    report: dict[str, Any] = json.loads(body)
    return report


def check_run(report: dict[str, Any], *, expected_new: int) -> None:
    """A figure of a run that did not bill everyone would be a figure of something else."""
    if report["status"] != "succeeded" or report["new_invoices"] != expected_new:
        raise SystemExit(
            f"the run did not bill as expected: status {report['status']}, "
            f"{report['new_invoices']} new invoices where {expected_new} were expected"
        )


def typical_invoice() -> Invoice:
    customer = synthetic_hoster(1, shard_count=1, period_start=PERIOD.start).customers[0]
    products = [CATALOG[1], CATALOG[5], CATALOG[6], CATALOG[7], CATALOG[9]]
    positions = [
        Position(
            position_id=f"K0000001-{index:02d}",
            customer_id=customer.customer_id,
            contract_id="K0000001",
            product_id=product.product_id,
            description=product.name,
            quantity=2 if index == 2 else 1,
            unit_net=product.unit_net,
            tax_category=product.tax_category,
            start=PERIOD.start - timedelta(days=400),
        )
        for index, product in enumerate(products, start=1)
    ]
    return Invoice(
        number="RE-2026-00000001",
        run_id=f"run-{PERIOD}",
        issue_date=ISSUE_DATE,
        due_date=ISSUE_DATE + timedelta(days=14),
        seller=default_seller(),
        draft=draft_of(customer, positions),
    )


def draft_of(customer: Customer, positions: list[Position]) -> InvoiceDraft:
    draft = compose_invoice(customer, positions, PERIOD)
    if draft is None or len(draft.lines) != len(positions):
        raise SystemExit("the typical invoice must bill every one of its positions")
    return draft


def default_seller() -> Seller:
    values = spec.default_settings()
    return Seller(
        name=values["BILLING_SELLER_NAME"],
        address=Address(
            street=values["BILLING_SELLER_STREET"],
            postal_code=values["BILLING_SELLER_POSTAL_CODE"],
            city=values["BILLING_SELLER_CITY"],
            country=values["BILLING_SELLER_COUNTRY"],
        ),
        vat_id=values["BILLING_SELLER_VAT_ID"],
        trade_register=values["BILLING_SELLER_REGISTER"],
        managing_director=values["BILLING_SELLER_MANAGING_DIRECTOR"],
        email=values["BILLING_SELLER_EMAIL"],
        iban=values["BILLING_SELLER_IBAN"],
        bic=values["BILLING_SELLER_BIC"],
    )


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def percentile(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


def table(figures: list[Figure]) -> Table:
    view = Table(title="bench")
    view.add_column("figure")
    view.add_column("value", justify="right")
    view.add_column("unit")
    view.add_column("target", justify="right")
    view.add_column("met")
    for figure in figures:
        target = "" if figure.target is None else f"{figure.target:g}"
        met = "" if figure.target is None else ("yes" if figure.value <= figure.target else "no")
        view.add_row(figure.name, f"{figure.value:g}", figure.unit, target, met)
    return view


if __name__ == "__main__":
    main()
