"""What is deployed, stated once.

The CDK app builds its resources from these specs and the embedded AWS provisions its local
resources from the same specs, so the two cannot drift apart unnoticed (a test compares the
synthesized template with them). This module must not import aws_cdk: the local runtime uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

INFRA_DIR = Path(__file__).resolve().parent
STATE_MACHINE_DIR = INFRA_DIR / "statemachine"

KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: Key
    sort_key: Key | None = None


@dataclass(frozen=True)
class TableSpec:
    id: str
    env_var: str
    local_name: str
    partition_key: Key
    sort_key: Key | None
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class BucketSpec:
    id: str
    env_var: str
    local_name: str
    object_lock: bool
    versioned: bool


@dataclass(frozen=True)
class FunctionSpec:
    id: str
    local_name: str
    component: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    description: str
    writes_tables: tuple[str, ...] = ()
    reads_tables: tuple[str, ...] = ()
    writes_buckets: tuple[str, ...] = ()
    reads_buckets: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    method: Literal["GET", "POST"]
    path: str
    function_id: str


@dataclass(frozen=True)
class StateMachineSpec:
    id: str
    local_name: str
    definition_file: Path
    function_substitutions: dict[str, str] = field(default_factory=dict)

    def definition(self, function_arns: dict[str, str]) -> str:
        """The ASL text with every placeholder replaced by the ARN of its function."""
        text = self.definition_file.read_text(encoding="utf-8")
        for placeholder, function_id in self.function_substitutions.items():
            text = text.replace("${" + placeholder + "}", function_arns[function_id])
        return text


CONTRACTS = TableSpec(
    id="Contracts",
    env_var="BILLING_CONTRACTS_TABLE",
    local_name="billing-contracts",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
)
DOCUMENTS = TableSpec(
    id="Documents",
    env_var="BILLING_DOCUMENTS_TABLE",
    local_name="billing-documents",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
    indexes=(
        IndexSpec("by-number", Key("doc_number")),
        IndexSpec("by-shard-period", Key("shard_period"), Key("customer_id")),
    ),
)
CONTROL = TableSpec(
    id="Control",
    env_var="BILLING_CONTROL_TABLE",
    local_name="billing-control",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
    ttl_attribute="expires_at",
)
TABLES = (CONTRACTS, DOCUMENTS, CONTROL)

ARCHIVE = BucketSpec(
    id="Archive",
    env_var="BILLING_ARCHIVE_BUCKET",
    local_name="billing-archive",
    object_lock=True,
    versioned=True,
)
WORK = BucketSpec(
    id="Work",
    env_var="BILLING_WORK_BUCKET",
    local_name="billing-work",
    object_lock=False,
    versioned=False,
)
BUCKETS = (ARCHIVE, WORK)

INVOICE_PREPARE = FunctionSpec(
    id="InvoicePrepare",
    local_name="billing-invoice-prepare",
    component="invoice_run",
    handler="functions.invoice_run.handler.prepare",
    memory_mb=512,
    timeout_seconds=300,
    description="decides what an invoice run bills and writes its shard manifest",
    reads_tables=("Contracts",),
    writes_tables=("Control",),
    writes_buckets=("Work",),
)
INVOICE_WORKER = FunctionSpec(
    id="InvoiceWorker",
    local_name="billing-invoice-worker",
    component="invoice_run",
    handler="functions.invoice_run.handler.bill_shard",
    memory_mb=1769,
    timeout_seconds=900,
    description="bills one shard of customers: invoices, numbers, PDFs",
    writes_tables=("Contracts", "Documents", "Control"),
    writes_buckets=("Archive",),
)
INVOICE_FINALIZE = FunctionSpec(
    id="InvoiceFinalize",
    local_name="billing-invoice-finalize",
    component="invoice_run",
    handler="functions.invoice_run.handler.finalize",
    memory_mb=512,
    timeout_seconds=300,
    description="totals an invoice run, records void numbers and writes the run report",
    writes_tables=("Control",),
    writes_buckets=("Work",),
)
ARCHIVE_API = FunctionSpec(
    id="ArchiveApi",
    local_name="billing-archive-api",
    component="archive_api",
    handler="functions.archive_api.handler.handle",
    memory_mb=512,
    timeout_seconds=10,
    description="serves a signed-in customer's documents",
    reads_tables=("Documents",),
    reads_buckets=("Archive",),
)
FUNCTIONS = (INVOICE_PREPARE, INVOICE_WORKER, INVOICE_FINALIZE, ARCHIVE_API)

ROUTES = (
    RouteSpec("GET", "/documents", ARCHIVE_API.id),
    RouteSpec("GET", "/documents/{number}/pdf", ARCHIVE_API.id),
)

INVOICE_RUN = StateMachineSpec(
    id="InvoiceRun",
    local_name="billing-invoice-run",
    definition_file=STATE_MACHINE_DIR / "invoice_run.asl.json",
    function_substitutions={
        "PrepareFunctionArn": INVOICE_PREPARE.id,
        "WorkerFunctionArn": INVOICE_WORKER.id,
        "FinalizeFunctionArn": INVOICE_FINALIZE.id,
    },
)
STATE_MACHINES = (INVOICE_RUN,)

STATE_MACHINE_ENV_VAR = "BILLING_INVOICE_RUN_STATE_MACHINE"

# The JWT authorizer of the HTTP API: the claim that carries the customer id and the audience.
JWT_AUDIENCE = "billing-archive"
JWT_CUSTOMER_CLAIM = "sub"
JWT_ROLE_CLAIM = "billing_role"


def function_environment(
    *, table_names: dict[str, str], bucket_names: dict[str, str], settings: dict[str, str]
) -> dict[str, str]:
    """The environment every function gets: resource names plus the plain settings."""
    env = {table.env_var: table_names[table.id] for table in TABLES}
    env |= {bucket.env_var: bucket_names[bucket.id] for bucket in BUCKETS}
    env |= {
        "POWERTOOLS_METRICS_NAMESPACE": "Billing",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    return env | settings


def default_settings() -> dict[str, str]:
    """Plain (non-resource) settings with the values a fresh installation starts from."""
    return {
        "BILLING_SHARD_COUNT": "64",
        "BILLING_RETENTION_YEARS": "8",
        "BILLING_INVOICE_PREFIX": "RE",
        "BILLING_CREDIT_NOTE_PREFIX": "GS",
        "BILLING_SELLER_NAME": "Beispiel Hosting GmbH",
        "BILLING_SELLER_STREET": "Hafenstraße 12",
        "BILLING_SELLER_POSTAL_CODE": "20457",
        "BILLING_SELLER_CITY": "Hamburg",
        "BILLING_SELLER_COUNTRY": "DE",
        "BILLING_SELLER_VAT_ID": "DE123456788",
        "BILLING_SELLER_REGISTER": "Amtsgericht Hamburg HRB 123456",
        "BILLING_SELLER_MANAGING_DIRECTOR": "Erika Mustermann",
        "BILLING_SELLER_EMAIL": "rechnung@beispiel-hosting.example",
        "BILLING_SELLER_IBAN": "DE02120300000000202051",
        "BILLING_SELLER_BIC": "BYLADEM1001",
        "BILLING_PAYMENT_TERM_DAYS": "14",
    }
