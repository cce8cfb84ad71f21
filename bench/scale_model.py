"""How long a run for 2 million customers takes on AWS, and what it costs per invoice.

The model takes what the bench measured on this machine (CPU time of our code per invoice, the
invoice item's size, PDF size, requests per invoice) and the published quotas and prices of
`../shared/design.md` (eu-central-1; check them before relying on them). Each limit gives a
ceiling in invoices per second; the lowest one binds. Every price is a Decimal in USD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Measured:
    cpu_ms_per_invoice: float
    invoice_item_bytes: int
    pdf_bytes: int
    dynamodb_writes_per_shard: int
    customers_per_shard: int = 500
    # Each global secondary index an invoice item appears in is written too (one unit each:
    # both indexes project a few small attributes).
    index_writes_per_invoice: int = 2


@dataclass(frozen=True)
class Quotas:
    customers: int = 2_000_000
    lambda_concurrency: int = 1_000
    lambda_memory_gb: Decimal = Decimal("1.769")
    map_child_executions: int = 10_000
    transitions_per_second: int = 800
    transitions_per_shard: int = 6
    dynamodb_cold_write_units: int = 4_000
    s3_puts_per_prefix: int = 3_500
    # Request latencies seen from Lambda in the same region (typical, not guaranteed).
    s3_put_ms: float = 25.0
    dynamodb_put_ms: float = 6.0
    # Prices (USD): Lambda arm64 per GB-s, Step Functions per transition, DynamoDB per write
    # unit, S3 per PUT, SQS per request, CloudWatch Logs per GB ingested, S3 Standard per GB-month.
    lambda_gb_second: Decimal = Decimal("0.0000133334")
    transition: Decimal = Decimal("0.000025")
    write_unit: Decimal = Decimal("0.00000076")
    s3_put: Decimal = Decimal("0.0000054")
    sqs_request: Decimal = Decimal("0.0000004")
    log_gb: Decimal = Decimal("0.63")
    s3_gb_month: Decimal = Decimal("0.0245")
    log_bytes_per_invoice: int = 600
    # One delivery message per invoice, sent, received and deleted in batches of ten.
    sqs_requests_per_invoice: Decimal = Decimal("0.3")
    # The paced sender, apart from the run: a claim and a final status per invoice, a read of
    # the invoice, and its own time at 256 MB.
    delivery_writes_per_invoice: int = 2
    read_unit: Decimal = Decimal("0.00000019")
    sender_ms_per_invoice: float = 60.0
    sender_memory_gb: Decimal = Decimal("0.25")
    retention_months: int = 9 * 12


@dataclass(frozen=True)
class Ceiling:
    limit: str
    invoices_per_second: float


@dataclass(frozen=True)
class ScaleModel:
    shards: int
    write_units_per_invoice: int
    worker_ms_per_invoice: float
    ceilings: list[Ceiling]
    minutes: float
    cost_lines: dict[str, Decimal]
    delivery_lines: dict[str, Decimal]
    storage_for_retention: Decimal

    @property
    def binding(self) -> Ceiling:
        return min(self.ceilings, key=lambda ceiling: ceiling.invoices_per_second)

    @property
    def cost_per_invoice(self) -> Decimal:
        """What the run itself costs per invoice."""
        return sum(self.cost_lines.values(), Decimal(0))

    @property
    def cost_with_delivery_bookkeeping(self) -> Decimal:
        """The run plus the sender's AWS charges other than SES's own price per e-mail."""
        return self.cost_per_invoice + sum(self.delivery_lines.values(), Decimal(0))


def write_units(item_bytes: int) -> int:
    """DynamoDB bills a standard write per started kilobyte of the item."""
    return max(1, math.ceil(item_bytes / 1024))


def model(measured: Measured, quotas: Quotas = Quotas()) -> ScaleModel:
    shards = math.ceil(quotas.customers / measured.customers_per_shard)
    units = write_units(measured.invoice_item_bytes)
    worker_ms = measured.cpu_ms_per_invoice + quotas.s3_put_ms + quotas.dynamodb_put_ms
    workers = min(quotas.lambda_concurrency, quotas.map_child_executions, shards)
    ceilings = [
        Ceiling("Lambda concurrency x worker time", workers * 1000 / worker_ms),
        Ceiling("DynamoDB cold table write units", quotas.dynamodb_cold_write_units / units),
        Ceiling("S3 PUTs per prefix (new bucket)", float(quotas.s3_puts_per_prefix)),
        Ceiling(
            "Step Functions transitions",
            quotas.transitions_per_second
            * measured.customers_per_shard
            / quotas.transitions_per_shard,
        ),
    ]
    slowest = min(ceiling.invoices_per_second for ceiling in ceilings)
    return ScaleModel(
        shards=shards,
        write_units_per_invoice=units,
        worker_ms_per_invoice=worker_ms,
        ceilings=ceilings,
        minutes=quotas.customers / slowest / 60,
        cost_lines=_costs(measured, quotas, units, worker_ms),
        delivery_lines=_delivery_costs(quotas),
        storage_for_retention=_cents_fraction(
            Decimal(measured.pdf_bytes)
            / Decimal(1024**3)
            * quotas.s3_gb_month
            * quotas.retention_months
        ),
    )


def _costs(measured: Measured, quotas: Quotas, units: int, worker_ms: float) -> dict[str, Decimal]:
    per_shard_writes = Decimal(measured.dynamodb_writes_per_shard) / measured.customers_per_shard
    lambda_seconds = Decimal(str(worker_ms)) / 1000
    lines = {
        "S3 PUT of the PDF": quotas.s3_put,
        "DynamoDB writes (item and its index entries)": (
            units + measured.index_writes_per_invoice + per_shard_writes
        )
        * quotas.write_unit,
        "Lambda (worker time at 1,769 MB)": lambda_seconds
        * quotas.lambda_memory_gb
        * quotas.lambda_gb_second,
        "Step Functions transitions": Decimal(quotas.transitions_per_shard)
        / measured.customers_per_shard
        * quotas.transition,
        "SQS delivery messages": quotas.sqs_requests_per_invoice * quotas.sqs_request,
        "CloudWatch Logs": Decimal(quotas.log_bytes_per_invoice) / Decimal(1024**3) * quotas.log_gb,
    }
    return {name: _cents_fraction(value) for name, value in lines.items()}


def _delivery_costs(quotas: Quotas) -> dict[str, Decimal]:
    sender_seconds = Decimal(str(quotas.sender_ms_per_invoice)) / 1000
    lines = {
        "delivery status writes": quotas.delivery_writes_per_invoice * quotas.write_unit,
        "invoice read by the sender": quotas.read_unit,
        "sender Lambda": sender_seconds * quotas.sender_memory_gb * quotas.lambda_gb_second,
    }
    return {name: _cents_fraction(value) for name, value in lines.items()}


def _cents_fraction(value: Decimal) -> Decimal:
    """Cost figures per invoice are far below a cent: keep ten decimal places."""
    return value.quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP)
