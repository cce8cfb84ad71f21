"""Figures of the invoice run: a whole run on the embedded AWS, rendering a PDF, composing.

``python -m bench`` bills a synthetic hoster of 2,000 customers (the demo's mix) through the real
state machine on the embedded AWS, prints a table and writes ``bench-results.json`` in the
repository root, a list of ``{"name", "value", "unit", "target"}``. The headline is invoices per
second end to end; the table also shows where the time goes (inside the emulator, in our code,
in the in-process Lambda runtime, in the Step Functions executor) and the per-invoice figures
the cost and scale model needs. ``--quick`` measures less, for a smoke check.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import probes, scale_model
from cli.seed import UNKNOWN_PRODUCT, Hoster, synthetic_hoster
from infra import spec
from shared.catalog import position_for, shipped_catalog
from shared.contracts import Position
from shared.customers import Address, Customer
from shared.invoicing.cii import cii_xml
from shared.invoicing.compose import compose_invoice
from shared.invoicing.documents import render_document
from shared.invoicing.model import Invoice, InvoiceDraft, Seller
from shared.invoicing.pdf import Attachment, render_invoice, writer
from shared.periods import Period

RESULTS = Path(__file__).resolve().parent.parent / "bench-results.json"
SAMPLE_XML = RESULTS.parent / "tests" / "unit" / "data" / "sample-cii-en16931.xml"
PERIOD = Period(2026, 11)
ISSUE_DATE = date(2026, 12, 1)
PDF_TARGET_MS = 4.0
RUN_TARGET_PER_SECOND = 150.0
COST_TARGET_USD = 0.00001
NOISY_LOGGERS = ("moto", "botocore", "boto3", "urllib3", "s3transfer", "aws_lambda_powertools")
TYPICAL_PRODUCTS = ("HOST-M", "STORAGE-50", "SSL-PRO", "MAIL-5", "MAG-WEB")

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
    statement_entries: int = 100_000


FULL = Scale(renders=2000, composed_customers=20_000, run_customers=2000, shards=16)
QUICK = Scale(
    renders=200, composed_customers=2000, run_customers=200, shards=4, statement_entries=10_000
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run, for a smoke check")
    parser.add_argument("--customers", type=int, help="customers of the run (default 2000)")
    parser.add_argument("--shards", type=int, help="shards of the run (default 16)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the handlers here")
    parser.add_argument("--run-only", action="store_true", help="only the invoice run")
    parser.add_argument("--orders-only", action="store_true", help="only the order intake")
    parser.add_argument("--dunning-only", action="store_true", help="only the dunning run")
    parser.add_argument("--payments-only", action="store_true", help="only the statement import")
    parser.add_argument("--entries", type=int, help="entries of the bench statement (100,000)")
    parser.add_argument("--debits-only", action="store_true", help="only debit and DATEV export")
    parser.add_argument(
        "--statements-only", action="store_true", help="only reading bank statements"
    )
    parser.add_argument(
        "--render-processes",
        type=int,
        help="processes the invoice run renders on (default: the embedded AWS's, one per spare "
        "core; 0 renders in the worker, as on AWS)",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    scale = Scale(
        scale.renders,
        scale.composed_customers,
        args.customers or scale.run_customers,
        args.shards or scale.shards,
        args.entries or scale.statement_entries,
    )
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)

    figures: list[Figure] = []
    if args.dunning_only:
        figures += dunning_figures(scale)
        _write(figures)
        return
    if args.payments_only or args.statements_only or args.debits_only:
        figures += statement_figures(scale) if args.statements_only else []
        figures += payments_figures(scale) if args.payments_only else []
        figures += debit_figures(scale) if args.debits_only else []
        _write(figures)
        return
    if not args.orders_only:
        with console.status(f"invoice run of {scale.run_customers} customers on the embedded AWS"):
            figures += invoice_run(scale, args.profile, args.render_processes)
    if not args.run_only:
        figures += order_figures(scale)
        figures += archive_figures(scale)
    if not args.run_only and not args.orders_only:
        figures += debit_figures(scale)
        with console.status("rendering PDFs"):
            figures += pdf_render(scale.renders)
        with console.status("composing invoices"):
            figures += compose_per_customer(scale.composed_customers)
        figures += payments_figures(scale)
        figures += statement_figures(scale)
        figures += dunning_figures(scale)
    _write(figures)


def _write(figures: list[Figure]) -> None:
    RESULTS.write_text(json.dumps([asdict(figure) for figure in figures], indent=1) + "\n")
    console.print(table(figures))
    console.print(f"written to {RESULTS}")


def dunning_figures(scale: Scale) -> list[Figure]:
    from bench import dunning

    customers = scale.run_customers
    with console.status(f"dunning {customers} customers in memory"):
        figures = dunning.in_memory(customers)
    with console.status(f"dunning run of {customers // 4} customers on the embedded AWS"):
        figures += dunning.embedded_run(customers // 4, scale.shards)
    return figures


def payments_figures(scale: Scale) -> list[Figure]:
    from bench import payments

    entries = scale.statement_entries
    with console.status(f"a camt.053 of {entries:,} entries imported on the embedded AWS"):
        figures: list[Figure] = payments.payment_figures(entries)
    return figures


def debit_figures(scale: Scale) -> list[Figure]:
    from bench import debits

    with console.status(f"debit and DATEV export after a run of {scale.run_customers}"):
        figures: list[Figure] = debits.debit_figures(scale.run_customers, scale.shards)
    return figures


def statement_figures(scale: Scale) -> list[Figure]:
    from bench import statements

    entries, runs = (10_000, 1) if scale == QUICK else (100_000, 3)
    with console.status(f"a CAMT.053 and an MT940 of {entries:,} entries, parsed"):
        return statements.statement_figures(entries, runs)


def archive_figures(scale: Scale) -> list[Figure]:
    from bench import archive

    customers, requests_each = (4, 15) if scale == QUICK else (8, 30)
    with console.status(f"{customers} customers reading their archives at once"):
        return archive.archive_load(customers, requests_each)


def order_figures(scale: Scale) -> list[Figure]:
    from bench import orders

    count = scale.renders
    with console.status(f"{count} orders in process on the embedded AWS"):
        figures = orders.orders_in_process(count)
    with console.status(f"{count // 4} orders through the local HTTP front end"):
        figures += orders.orders_over_http(count // 4)
    return figures


def pdf_render(renders: int) -> list[Figure]:
    """Milliseconds per PDF/A-3b document of the same typical invoice (five lines, two tax
    rates, the sample CII XML attached): ours, cutting its font programs each time as for the
    first document of its characters, and keeping them; and fpdf2 used the documented way, which
    takes about 50 times as long and so gets one render for every 60 of ours (at least 5)."""
    from bench.naive_pdf import render_naive

    naive_renders = max(5, renders // 60)
    invoice = typical_invoice()
    attachment = Attachment("factur-x.xml", SAMPLE_XML.read_bytes(), "EN 16931")
    ours = render_samples(lambda: render_cutting_fonts(invoice, attachment), renders)
    kept = render_samples(lambda: render_invoice(invoice, attachment), renders)
    naive = render_samples(lambda: render_naive(invoice, attachment), naive_renders)

    with_xml = render_samples(lambda: render_document(invoice).pdf, renders // 2)
    xml = render_samples(lambda: cii_xml(invoice, syntax="factur-x"), renders // 2)

    ratio = statistics.median(naive) / statistics.median(ours)
    return [
        Figure("pdf render median", round(statistics.median(ours), 3), "ms", PDF_TARGET_MS),
        Figure("pdf render p99", round(percentile(ours, 99), 3), "ms"),
        Figure("pdf render median, font programs kept", round(statistics.median(kept), 3), "ms"),
        Figure("cii xml median", round(statistics.median(xml), 3), "ms"),
        Figure(
            "document with its own xml (xml + pdf) median",
            round(statistics.median(with_xml), 3),
            "ms",
            PDF_TARGET_MS,
        ),
        Figure("document with its own xml p99", round(percentile(with_xml, 99), 3), "ms"),
        Figure("pdf render naive fpdf2 median", round(statistics.median(naive), 2), "ms"),
        Figure("pdf render naive fpdf2 p99", round(percentile(naive, 99), 2), "ms"),
        Figure("pdf render naive / ours (medians)", round(ratio, 1), "x"),
        Figure("pdf renders timed (ours)", renders, "renders"),
        Figure("pdf renders timed (naive fpdf2)", naive_renders, "renders"),
    ]


def render_cutting_fonts(invoice: Invoice, attachment: Attachment) -> bytes:
    """A render that cuts its font programs, as for the first document showing its characters."""
    writer._font_programs.clear()
    return render_invoice(invoice, attachment)


def render_samples(render: Callable[[], object], renders: int) -> list[float]:
    """Milliseconds of each render, after one that loads what a process loads once."""
    render()
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        render()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


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


def invoice_run(
    scale: Scale, profile: Path | None, render_processes: int | None = None
) -> list[Figure]:
    """The state machine end to end on moto: seed, run, and start the same run once more."""
    from localaws import embedded

    settings = {"BILLING_SHARD_COUNT": str(scale.shards)}
    if render_processes is not None:
        settings["BILLING_RENDER_PROCESSES"] = str(render_processes)
    with embedded.in_process(settings) as stack:
        make = embedded.client_factory()
        hoster = synthetic_hoster(
            scale.run_customers, shard_count=scale.shards, period_start=PERIOD.start
        )
        seed(make, stack, hoster)
        machine = make("stepfunctions")
        with probes.installed(profile=profile is not None) as probe:
            first_seconds = execute(machine, stack.invoice_run_arn, f"bench-{PERIOD}-first")
        first = run_report(make("s3"), stack.bucket_names[spec.WORK.id])
        again_seconds = execute(machine, stack.invoice_run_arn, f"bench-{PERIOD}-again")
        again = run_report(make("s3"), stack.bucket_names[spec.WORK.id])

    check_run(first, hoster, first=True)
    check_run(again, hoster, first=False)
    if profile is not None and probe.profile is not None:
        probe.profile.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(40)
    figures = RunFigures(first, first_seconds, probe, scale).figures()
    return [*figures, Figure("invoice run again (idempotent)", round(again_seconds, 2), "s")]


def seed(make: Callable[[str], Any], stack: Any, hoster: Hoster) -> None:
    from shared.storage.dynamodb import DynamoContracts

    contracts = DynamoContracts(make("dynamodb"), stack.table_names[spec.CONTRACTS.id])
    contracts.save_customers(hoster.customers)
    contracts.save_positions(hoster.shards, hoster.positions)
    contracts.save_mandates(hoster.shards, hoster.mandates)


@dataclass(frozen=True)
class RunFigures:
    """The figures of one measured run: its report, its wall time, what the probe saw."""

    report: dict[str, Any]
    seconds: float
    probe: probes.Probe
    scale: Scale

    def figures(self) -> list[Figure]:
        return self.headline() + self.shares() + self.steps() + self.model() + self.at_scale()

    @property
    def invoices(self) -> int:
        return int(self.report["new_invoices"])

    def per_invoice_ms(self, seconds: float) -> float:
        return round(seconds / self.invoices * 1000, 3)

    def headline(self) -> list[Figure]:
        rate = round(self.invoices / self.seconds, 1)
        return [
            Figure("invoice run end to end", rate, "invoices/s", RUN_TARGET_PER_SECOND),
            Figure("invoice run customers", self.scale.run_customers, "customers"),
            Figure("invoice run shards", self.scale.shards, "shards"),
            Figure("invoice run invoices issued", self.invoices, "invoices"),
            Figure("invoice run failed customers", len(self.report["failed"]), "customers"),
            Figure("invoice run wall time", round(self.seconds, 2), "s"),
            Figure("invoice run wall per invoice", self.per_invoice_ms(self.seconds), "ms"),
        ]

    def shares(self) -> list[Figure]:
        """Wall time of the run split four ways; invocations run one at a time."""
        probe = self.probe
        emulator = probe.emulator_seconds
        ours = probe.our_seconds
        runtime = probe.runtime_seconds
        around = self.seconds - probe.invoked_seconds
        parts = {
            "inside the emulator (DynamoDB, S3 calls of handlers)": emulator,
            "our code (handlers minus their AWS calls)": ours,
            "in-process Lambda runtime (env, stdout, logs)": runtime,
            "Step Functions executor and the rest": around,
        }
        return [
            Figure(f"share: {name}", round(part / self.seconds * 100, 1), "%")
            for name, part in parts.items()
        ] + [
            Figure(f"ms per invoice: {name}", self.per_invoice_ms(part), "ms")
            for name, part in parts.items()
        ]

    def steps(self) -> list[Figure]:
        """The service's own step timings (wall, per new invoice) and the AWS calls by kind."""
        steps = self.report.get("ms_per_invoice") or {}
        figures = [Figure(f"step {name}", float(ms), "ms/invoice") for name, ms in steps.items()]
        calls = sorted(self.probe.api_seconds.items(), key=lambda item: -item[1])
        for name, seconds in calls:
            count = self.probe.api_calls[name]
            figures.append(Figure(f"aws {name}", self.per_invoice_ms(seconds), "ms/invoice"))
            figures.append(Figure(f"aws {name} calls", round(count / self.invoices, 3), "/invoice"))
        return figures

    @property
    def cpu_ms_per_invoice(self) -> float:
        """Our code's time per invoice on every process: the handlers' own time, less what the
        worker waited for documents rendered elsewhere, plus their rendering there. On AWS a
        worker renders them itself (shared/invoicing/rendering.py)."""
        steps = self.report.get("ms_per_invoice") or {}
        elsewhere = float(steps.get("rendering elsewhere", 0))
        waited = float(steps.get("waiting for renders", 0))
        return round(self.per_invoice_ms(self.probe.our_seconds) - waited + elsewhere, 3)

    def model(self) -> list[Figure]:
        """What the cost and scale model needs, per invoice."""
        probe = self.probe
        item = max(probe.invoice_item_bytes, default=0)
        ours = probe.our_seconds
        return [
            Figure(
                "our code per invoice (handlers minus AWS calls)", self.per_invoice_ms(ours), "ms"
            ),
            Figure(
                "our code per invoice, rendering processes included", self.cpu_ms_per_invoice, "ms"
            ),
            Figure("pdf bytes per invoice (mean)", mean(probe.pdf_bytes), "B"),
            Figure(
                "dynamodb writes per invoice", self.per_invoice(probe.dynamodb_writes), "writes"
            ),
            Figure("s3 puts per invoice", self.per_invoice(probe.s3_puts), "PUTs"),
            Figure(
                "aws api calls per invoice",
                self.per_invoice(sum(probe.api_calls.values())),
                "calls",
            ),
            Figure("invoice item size (mean)", mean(probe.invoice_item_bytes), "B"),
            Figure("invoice item size (max)", item, "B"),
            Figure("invoice item write units (max, table)", math.ceil(item / 1024), "WCU"),
        ]

    def per_invoice(self, count: float) -> float:
        return round(count / self.invoices, 3)

    def at_scale(self) -> list[Figure]:
        """The scale model (bench/scale_model.py) fed with what this run measured."""
        probe = self.probe
        measured = scale_model.Measured(
            cpu_ms_per_invoice=self.cpu_ms_per_invoice,
            invoice_item_bytes=max(probe.invoice_item_bytes, default=0),
            pdf_bytes=mean(probe.pdf_bytes),
            dynamodb_writes_per_shard=max(
                0, round((probe.dynamodb_writes - self.invoices) / self.scale.shards)
            ),
        )
        result = scale_model.model(measured)
        binding = result.binding
        figures = [
            Figure("scale: run of 2 million customers", round(result.minutes, 1), "min", 10.0),
            Figure(
                f"scale: binding limit, {binding.limit}",
                round(binding.invoices_per_second),
                "invoices/s",
            ),
            Figure(
                "scale: AWS cost per invoice (run)",
                float(result.cost_per_invoice),
                "USD",
                COST_TARGET_USD,
            ),
            Figure(
                "scale: cost per invoice with the sender's bookkeeping (no SES)",
                float(result.cost_with_delivery_bookkeeping),
                "USD",
            ),
        ]
        figures += [
            Figure(f"scale: ceiling, {c.limit}", round(c.invoices_per_second), "invoices/s")
            for c in result.ceilings
        ]
        lines = result.cost_lines | result.delivery_lines
        return figures + [
            Figure(f"scale: cost, {name}", float(value), "USD") for name, value in lines.items()
        ]


def mean(values: list[int]) -> int:
    return round(statistics.fmean(values)) if values else 0


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


def check_run(report: dict[str, Any], hoster: Hoster, *, first: bool) -> None:
    """A figure of a run that did not bill everyone billable would be a figure of something else.

    The demo's mix holds a few customers with a product the catalog lacks: they fail alone.
    """
    unbillable = {p.customer_id for p in hoster.positions if p.product_id == UNKNOWN_PRODUCT}
    failed = {failure["customer_id"] for failure in report["failed"]}
    expected_new = report["invoices"] if first else 0
    if failed != unbillable or report["new_invoices"] != expected_new or not report["invoices"]:
        raise SystemExit(
            f"the run did not bill as expected: status {report['status']}, "
            f"{report['new_invoices']} new of {report['invoices']} invoices, "
            f"{len(failed)} failed customers where {len(unbillable)} were expected"
        )


def typical_invoice() -> Invoice:
    customer = synthetic_hoster(1, shard_count=1, period_start=PERIOD.start).customers[0]
    products = [shipped_catalog().get(product_id) for product_id in TYPICAL_PRODUCTS]
    positions = [
        position_for(
            product,
            position_id=f"K0000001-{index:02d}",
            customer_id=customer.customer_id,
            contract_id="K0000001",
            quantity=2 if index == 2 else 1,
            start=PERIOD.start,
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
        tax_number=values["BILLING_SELLER_TAX_NUMBER"],
        phone=values["BILLING_SELLER_PHONE"],
        contact=values["BILLING_SELLER_CONTACT"],
        creditor_id=values["BILLING_SELLER_CREDITOR_ID"],
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
        met = "" if figure.target is None else ("yes" if met_target(figure) else "no")
        view.add_row(figure.name, f"{figure.value:g}", figure.unit, target, met)
    return view


def met_target(figure: Figure) -> bool:
    """Rates ("/s") must reach their target, durations must stay under it."""
    assert figure.target is not None
    if figure.unit.endswith("/s"):
        return figure.value >= figure.target
    return figure.value <= figure.target


if __name__ == "__main__":
    main()
