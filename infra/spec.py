"""What is deployed, stated once.

The CDK app builds its resources from these specs and the embedded AWS provisions its local
resources from the same specs, so the two cannot drift apart unnoticed (a test compares the
synthesized template with them). This module must not import aws_cdk: the local runtime uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

INFRA_DIR = Path(__file__).resolve().parent
STATE_MACHINE_DIR = INFRA_DIR / "statemachine"

KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class Key:
    name: str
    type: KeyType = "S"


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index projecting its keys and ``attributes``, nothing else: every
    write to the table writes the projection again, so a slim one keeps it at one write unit."""

    name: str
    partition_key: Key
    sort_key: Key | None = None
    attributes: tuple[str, ...] = ()

    def projection(self) -> dict[str, Any]:
        """The index's Projection as the DynamoDB API states it."""
        if not self.attributes:
            return {"ProjectionType": "KEYS_ONLY"}
        return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.attributes)}


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
    # Tables the function only reads and puts single items of, by key (no query, scan, update).
    item_tables: tuple[str, ...] = ()
    sends_to_queues: tuple[str, ...] = ()
    # Reserved concurrency: a ceiling (and a guarantee) for the function's parallel instances.
    reserved_concurrency: int | None = None
    # State machines (by id) whose executions the function starts and lists.
    starts_state_machines: tuple[str, ...] = ()
    # Event buses (by id) the function puts events on.
    puts_events: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueSpec:
    """A standard SQS queue; a queue with a dead-letter queue moves a message there after
    ``max_receive_count`` receives that did not delete it."""

    id: str
    local_name: str
    env_var: str | None = None
    visibility_timeout_seconds: int = 30
    retention_days: int = 14
    dead_letter_queue: QueueSpec | None = None
    max_receive_count: int = 5


@dataclass(frozen=True)
class EventSourceSpec:
    """A queue that invokes a function with batches of its messages; with
    ``report_batch_item_failures`` only the messages a handler names as failed come back."""

    queue_id: str
    function_id: str
    batch_size: int = 10
    maximum_concurrency: int = 2
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge Scheduler schedule that invokes a function with its due time."""

    id: str
    local_name: str
    expression: str
    timezone: str
    function_id: str
    description: str


ApiName = Literal["archive", "orders"]


@dataclass(frozen=True)
class RouteSpec:
    method: Literal["GET", "POST"]
    path: str
    function_id: str
    # The archive API serves customers; the order API serves the shop (see API_AUTH).
    api: ApiName = "archive"
    # False for the few public routes, such as the OpenAPI document: no JWT authorizer.
    authorized: bool = True


@dataclass(frozen=True)
class EventBusSpec:
    """A custom EventBridge bus; other systems put their rules on it."""

    id: str
    local_name: str
    env_var: str
    description: str


@dataclass(frozen=True)
class StateMachineSpec:
    id: str
    local_name: str
    definition_file: Path
    # Given to the functions that start its executions (starts_state_machines).
    env_var: str
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
        # A document by its number: the summary the archive lists, not the document itself.
        IndexSpec(
            "by-number",
            Key("doc_number"),
            attributes=(
                "customer_id",
                "document_type",
                "issue_date",
                "period",
                "gross",
                "pdf_key",
            ),
        ),
        # The billed markers of a shard and period: what a worker needs to skip and to report.
        IndexSpec(
            "by-shard-period",
            Key("shard_period"),
            Key("customer_id"),
            attributes=("run_id", "number", "net", "vat", "gross", "by_rate"),
        ),
        # Postings by booking day (the DATEV export), sparse: documents lack the key. The key is
        # "<day>#<bucket>" over shared.storage.ledger.BOOKING_BUCKETS, so a day's million
        # postings spread over that many partitions; one more write unit per posting.
        IndexSpec("by-booking-day", Key("booking_day"), Key("sk"), attributes=("posting",)),
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
# Orders, domain holds and product stock: single items by key, never queried (see
# shared/storage/orders.py); the idempotency records of the order API expire after a day.
ORDERS = TableSpec(
    id="Orders",
    env_var="BILLING_ORDERS_TABLE",
    local_name="billing-orders",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
)
IDEMPOTENCY = TableSpec(
    id="Idempotency",
    env_var="BILLING_IDEMPOTENCY_TABLE",
    local_name="billing-idempotency",
    partition_key=Key("id"),
    sort_key=None,
    ttl_attribute="expiration",
)
# Dunning: per shard the cases of customers in dunning and the holds (blocks, disputes,
# instalment plans); per customer the closed cases (see shared/storage/dunning.py).
DUNNING = TableSpec(
    id="Dunning",
    env_var="BILLING_DUNNING_TABLE",
    local_name="billing-dunning",
    partition_key=Key("pk"),
    sort_key=Key("sk"),
)
TABLES = (CONTRACTS, DOCUMENTS, CONTROL, ORDERS, IDEMPOTENCY, DUNNING)

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
    sends_to_queues=("Delivery",),
)
INVOICE_FINALIZE = FunctionSpec(
    id="InvoiceFinalize",
    local_name="billing-invoice-finalize",
    component="invoice_run",
    handler="functions.invoice_run.handler.finalize",
    memory_mb=512,
    timeout_seconds=300,
    description="totals an invoice run, records void numbers, prints post invoices, reports",
    writes_tables=("Control",),
    writes_buckets=("Work",),
    reads_buckets=("Archive",),
    # Reads and records the delivery status of the run's post invoices (print batch).
    item_tables=("Documents",),
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
# SES grants each account a send rate: the paced sender works through the queue with at most
# this many instances (the CDK app takes another value from context billing:deliveryConcurrency).
DELIVERY_CONCURRENCY = 5
INVOICE_DELIVERY = FunctionSpec(
    id="InvoiceDelivery",
    local_name="billing-invoice-delivery",
    component="delivery",
    handler="functions.invoice_run.delivery.handle",
    memory_mb=256,
    timeout_seconds=60,
    description="e-mails issued invoices at a paced rate and records each delivery",
    item_tables=("Documents",),
    reads_buckets=("Archive",),
    reserved_concurrency=DELIVERY_CONCURRENCY,
)
INVOICE_SCHEDULE = FunctionSpec(
    id="InvoiceSchedule",
    local_name="billing-invoice-schedule",
    component="invoice_run",
    handler="functions.invoice_run.schedule.start",
    memory_mb=256,
    timeout_seconds=30,
    description="starts last month's invoice run when the monthly schedule fires",
    reads_tables=("Control",),
    starts_state_machines=("InvoiceRun",),
)
ORDER_INTAKE = FunctionSpec(
    id="OrderIntake",
    local_name="billing-order-intake",
    component="order_intake",
    handler="functions.order_intake.handler.handle",
    memory_mb=1024,
    timeout_seconds=15,
    description="takes orders, withdrawals and contract changes from the shop",
    writes_tables=("Contracts", "Orders", "Idempotency"),
)
ORDER_FEED = FunctionSpec(
    id="OrderFeed",
    local_name="billing-order-feed",
    component="order_intake",
    handler="functions.order_intake.feed.handle",
    memory_mb=1024,
    timeout_seconds=900,
    description="applies order records of bulk feeds (JSON Lines in S3, SQS messages)",
    writes_tables=("Contracts", "Orders"),
    writes_buckets=("Work",),
)
DUNNING_PREPARE = FunctionSpec(
    id="DunningPrepare",
    local_name="billing-dunning-prepare",
    component="dunning",
    handler="functions.dunning.handler.prepare",
    memory_mb=256,
    timeout_seconds=60,
    description="starts a day's dunning run and writes its shard manifest",
    writes_tables=("Control",),
    writes_buckets=("Work",),
)
DUNNING_WORKER = FunctionSpec(
    id="DunningWorker",
    local_name="billing-dunning-worker",
    component="dunning",
    handler="functions.dunning.handler.run_shard",
    memory_mb=1769,
    timeout_seconds=900,
    description="dunning of one shard: levels, fees, interest, notices, suspensions, handovers",
    # Documents holds the accounts' postings and the notices; Control the notice numbers.
    writes_tables=("Dunning", "Documents", "Control"),
    reads_tables=("Contracts",),
    writes_buckets=("Archive",),
    sends_to_queues=("Delivery",),
    puts_events=("Provisioning",),
)
DUNNING_FINALIZE = FunctionSpec(
    id="DunningFinalize",
    local_name="billing-dunning-finalize",
    component="dunning",
    handler="functions.dunning.handler.finalize",
    memory_mb=512,
    timeout_seconds=300,
    description="totals a dunning run, prints post notices, writes the agencies' files",
    writes_tables=("Control", "Dunning"),
    writes_buckets=("Work",),
    reads_buckets=("Archive",),
    item_tables=("Documents",),
)
DUNNING_SCHEDULE = FunctionSpec(
    id="DunningSchedule",
    local_name="billing-dunning-schedule",
    component="dunning",
    handler="functions.dunning.handler.start_scheduled",
    memory_mb=256,
    timeout_seconds=30,
    description="starts the day's dunning run when the daily schedule fires",
    reads_tables=("Control",),
    starts_state_machines=("DunningRun",),
)
# What importing statements writes: postings beside the documents; decisions, the
# clarification list, the lock and the recorded collection batches in Control; mandates
# revoked in Contracts. Dunning is told of each customer paid (a case settled, a customer
# reactivated on the provisioning bus; a step a dunning run left pending is completed first,
# its notice archived).
_STATEMENT_IMPORT_ACCESS: dict[str, Any] = {
    "writes_tables": ("Documents", "Control", "Contracts", "Dunning"),
    "writes_buckets": ("Work", "Archive"),
    "puts_events": ("Provisioning",),
}
PAYMENT_IMPORT = FunctionSpec(
    id="PaymentImport",
    local_name="billing-payment-import",
    component="payment_import",
    handler="functions.payment_import.handler.handle",
    memory_mb=1769,
    timeout_seconds=900,
    description="imports bank statement files (large ones through the import in parts)",
    starts_state_machines=("PaymentImportRun",),
    **_STATEMENT_IMPORT_ACCESS,
)
# A large statement file in parts: prepare splits it by customer, workers import the parts at
# once, finalize imports the rest and writes the file's report (shared/payments/import_run.py).
PAYMENT_IMPORT_PREPARE = FunctionSpec(
    id="PaymentImportPrepare",
    local_name="billing-payment-import-prepare",
    component="payment_import",
    handler="functions.payment_import.handler.prepare",
    memory_mb=1769,
    timeout_seconds=300,
    description="splits a large statement file into parts by customer and takes the import lock",
    # The lock and the number blocks (owners of quoted numbers) in Control.
    writes_tables=("Control",),
    writes_buckets=("Work",),
)
PAYMENT_IMPORT_WORKER = FunctionSpec(
    id="PaymentImportWorker",
    local_name="billing-payment-import-worker",
    component="payment_import",
    handler="functions.payment_import.handler.import_part",
    memory_mb=1769,
    timeout_seconds=900,
    description="imports one part of a statement file: matches and posts its customers' payments",
    **_STATEMENT_IMPORT_ACCESS,
)
PAYMENT_IMPORT_FINALIZE = FunctionSpec(
    id="PaymentImportFinalize",
    local_name="billing-payment-import-finalize",
    component="payment_import",
    handler="functions.payment_import.handler.finalize",
    memory_mb=1769,
    timeout_seconds=900,
    description="imports what concerns several customers, writes the file's report, frees the lock",
    **_STATEMENT_IMPORT_ACCESS,
)
# Every business day: collect what is due by the next TARGET2 business day (one day's lead).
DEBIT_EXPORT = FunctionSpec(
    id="DebitExport",
    local_name="billing-debit-export",
    component="payments",
    handler="functions.debit_export.handler.export",
    memory_mb=1024,
    timeout_seconds=900,
    description="writes the pain.008 file of what is due by the next TARGET2 business day",
    # Claims, batches, the lease (Control), first collections noted on mandates (Contracts).
    writes_tables=("Control", "Contracts"),
    # The customer accounts (the ledger beside the documents).
    reads_tables=("Documents",),
    writes_buckets=("Work",),
)
FUNCTIONS = (
    INVOICE_PREPARE,
    INVOICE_WORKER,
    INVOICE_FINALIZE,
    ARCHIVE_API,
    INVOICE_DELIVERY,
    INVOICE_SCHEDULE,
    ORDER_INTAKE,
    ORDER_FEED,
    DUNNING_PREPARE,
    DUNNING_WORKER,
    DUNNING_FINALIZE,
    DUNNING_SCHEDULE,
    PAYMENT_IMPORT,
    PAYMENT_IMPORT_PREPARE,
    PAYMENT_IMPORT_WORKER,
    PAYMENT_IMPORT_FINALIZE,
    DEBIT_EXPORT,
)

# Suspension and reactivation of customers' services (CustomerSuspended, CustomerReactivated
# from source billing.dunning), for the provisioning system to consume with its own rules.
PROVISIONING_BUS = EventBusSpec(
    id="Provisioning",
    local_name="billing-provisioning",
    env_var="BILLING_PROVISIONING_BUS",
    description="tells provisioning to suspend or reactivate a customer's services",
)
EVENT_BUSES = (PROVISIONING_BUS,)

DELIVERY_DEAD_LETTERS = QueueSpec(
    id="DeliveryDeadLetters",
    local_name="billing-delivery-dead-letters",
)
DELIVERY_QUEUE = QueueSpec(
    id="Delivery",
    local_name="billing-delivery",
    env_var="BILLING_DELIVERY_QUEUE",
    # Lambda's advice for queues it polls: at least six times the function's timeout.
    visibility_timeout_seconds=7 * INVOICE_DELIVERY.timeout_seconds,
    dead_letter_queue=DELIVERY_DEAD_LETTERS,
    max_receive_count=5,
)
ORDER_FEED_DEAD_LETTERS = QueueSpec(
    id="OrderFeedDeadLetters",
    local_name="billing-order-feed-dead-letters",
)
# Order records, and the S3 notifications of feed files (prefix FEED_PREFIX of the work bucket).
ORDER_FEED_QUEUE = QueueSpec(
    id="OrderFeed",
    local_name="billing-order-feed",
    env_var="BILLING_ORDER_FEED_QUEUE",
    visibility_timeout_seconds=7 * ORDER_FEED.timeout_seconds,
    dead_letter_queue=ORDER_FEED_DEAD_LETTERS,
    max_receive_count=5,
)
STATEMENTS_DEAD_LETTERS = QueueSpec(
    id="StatementsDeadLetters",
    local_name="billing-statements-dead-letters",
)
# S3's notices of statement files (prefix STATEMENT_PREFIX of the work bucket).
STATEMENTS_QUEUE = QueueSpec(
    id="Statements",
    local_name="billing-statements",
    visibility_timeout_seconds=7 * PAYMENT_IMPORT.timeout_seconds,
    dead_letter_queue=STATEMENTS_DEAD_LETTERS,
    max_receive_count=5,
)
# Dead-letter queues first: a queue can only be created after the queue it sends failures to.
QUEUES = (
    DELIVERY_DEAD_LETTERS,
    DELIVERY_QUEUE,
    ORDER_FEED_DEAD_LETTERS,
    ORDER_FEED_QUEUE,
    STATEMENTS_DEAD_LETTERS,
    STATEMENTS_QUEUE,
)

FEED_PREFIX = "feeds/incoming/"
FEED_REJECTS_PREFIX = "feeds/rejects/"
# Bank statement files land here; the import writes its report under the reports prefix.
STATEMENT_PREFIX = "statements/"
STATEMENT_REPORTS_PREFIX = "statement-reports/"


@dataclass(frozen=True)
class NotificationSpec:
    """New objects under ``prefix`` of a bucket are announced on a queue."""

    bucket_id: str
    prefix: str
    queue_id: str


NOTIFICATIONS = (
    NotificationSpec(bucket_id="Work", prefix=FEED_PREFIX, queue_id="OrderFeed"),
    NotificationSpec(bucket_id="Work", prefix=STATEMENT_PREFIX, queue_id="Statements"),
)

EVENT_SOURCES = (
    EventSourceSpec(
        queue_id=DELIVERY_QUEUE.id,
        function_id=INVOICE_DELIVERY.id,
        batch_size=10,
        maximum_concurrency=DELIVERY_CONCURRENCY,
    ),
    EventSourceSpec(
        queue_id=ORDER_FEED_QUEUE.id,
        function_id=ORDER_FEED.id,
        batch_size=10,
        maximum_concurrency=10,
    ),
    # One file per invocation; imports take a lock, so a second one waits for a later receive.
    EventSourceSpec(
        queue_id=STATEMENTS_QUEUE.id,
        function_id=PAYMENT_IMPORT.id,
        batch_size=1,
        maximum_concurrency=2,
    ),
)

ROUTES = (
    RouteSpec("GET", "/documents", ARCHIVE_API.id),
    RouteSpec("GET", "/documents/{number}", ARCHIVE_API.id),
    RouteSpec("GET", "/documents/{number}/pdf", ARCHIVE_API.id),
    RouteSpec("GET", "/documents/{number}/xml", ARCHIVE_API.id),
    RouteSpec("GET", "/account", ARCHIVE_API.id),
    RouteSpec("GET", "/openapi.json", ARCHIVE_API.id, authorized=False),
    RouteSpec("POST", "/orders", ORDER_INTAKE.id, api="orders"),
    RouteSpec("POST", "/orders/{order_id}/cancel", ORDER_INTAKE.id, api="orders"),
    RouteSpec("POST", "/contracts/{contract_id}/changes", ORDER_INTAKE.id, api="orders"),
)

INVOICE_RUN = StateMachineSpec(
    id="InvoiceRun",
    local_name="billing-invoice-run",
    definition_file=STATE_MACHINE_DIR / "invoice_run.asl.json",
    env_var="BILLING_INVOICE_RUN_STATE_MACHINE",
    function_substitutions={
        "PrepareFunctionArn": INVOICE_PREPARE.id,
        "WorkerFunctionArn": INVOICE_WORKER.id,
        "FinalizeFunctionArn": INVOICE_FINALIZE.id,
    },
)
DUNNING_RUN = StateMachineSpec(
    id="DunningRun",
    local_name="billing-dunning-run",
    definition_file=STATE_MACHINE_DIR / "dunning_run.asl.json",
    env_var="BILLING_DUNNING_RUN_STATE_MACHINE",
    function_substitutions={
        "PrepareFunctionArn": DUNNING_PREPARE.id,
        "WorkerFunctionArn": DUNNING_WORKER.id,
        "FinalizeFunctionArn": DUNNING_FINALIZE.id,
    },
)
PAYMENT_IMPORT_RUN = StateMachineSpec(
    id="PaymentImportRun",
    local_name="billing-payment-import-run",
    definition_file=STATE_MACHINE_DIR / "payment_import_run.asl.json",
    env_var="BILLING_PAYMENT_IMPORT_RUN_STATE_MACHINE",
    function_substitutions={
        "PrepareFunctionArn": PAYMENT_IMPORT_PREPARE.id,
        "WorkerFunctionArn": PAYMENT_IMPORT_WORKER.id,
        "FinalizeFunctionArn": PAYMENT_IMPORT_FINALIZE.id,
    },
)
STATE_MACHINES = (INVOICE_RUN, DUNNING_RUN, PAYMENT_IMPORT_RUN)

# Early on the 1st in Berlin (still the 1st in UTC): the run bills the month that just ended.
MONTHLY_INVOICE_RUN = ScheduleSpec(
    id="MonthlyInvoiceRun",
    local_name="billing-monthly-invoice-run",
    expression="cron(0 3 1 * ? *)",
    timezone="Europe/Berlin",
    function_id=INVOICE_SCHEDULE.id,
    description="starts the invoice run of the month that just ended",
)
# Early on business days in Berlin, so the file is at the bank well before the cut-off.
DAILY_DEBIT_EXPORT = ScheduleSpec(
    id="DailyDebitExport",
    local_name="billing-daily-debit-export",
    expression="cron(0 6 ? * MON-FRI *)",
    timezone="Europe/Berlin",
    function_id=DEBIT_EXPORT.id,
    description="collects what is due by the next TARGET2 business day",
)
# Every morning in Berlin: the day's dunning run (a day missed is caught up by the next one,
# since a level is reached from its deadline on, not on one day only).
DAILY_DUNNING_RUN = ScheduleSpec(
    id="DailyDunningRun",
    local_name="billing-daily-dunning-run",
    expression="cron(0 6 * * ? *)",
    timezone="Europe/Berlin",
    function_id=DUNNING_SCHEDULE.id,
    description="starts the day's dunning run",
)
SCHEDULES = (MONTHLY_INVOICE_RUN, DAILY_DEBIT_EXPORT, DAILY_DUNNING_RUN)

STATE_MACHINE_ENV_VAR = INVOICE_RUN.env_var


@dataclass(frozen=True)
class PortalSpec:
    """The customers' web page: static files, served by CloudFront from a private bucket on AWS
    and by the local front end under ``local_path``; ``config_file`` beside them names the API.

    Browsers call the archive API from the portal's origin, so that API answers CORS for it:
    the methods, request headers and exposed headers below, preflights cached ``cors_max_age``.
    """

    id: str
    source_dir: Path
    local_path: str
    config_file: str
    index_file: str
    cors_allow_methods: tuple[str, ...]
    cors_allow_headers: tuple[str, ...]
    cors_expose_headers: tuple[str, ...]
    cors_max_age_seconds: int

    def config(self, api_url: str) -> dict[str, str]:
        """The content of ``config_file``: where the page finds the archive API."""
        return {"api_url": api_url.rstrip("/")}


PORTAL = PortalSpec(
    id="Portal",
    source_dir=INFRA_DIR.parent / "portal",
    local_path="/portal/",
    config_file="config.json",
    index_file="index.html",
    cors_allow_methods=("GET",),
    cors_allow_headers=("authorization", "accept"),
    cors_expose_headers=("content-disposition", "apigw-requestid"),
    cors_max_age_seconds=600,
)


def portal_content_security_policy(api_origins: str) -> str:
    """The page loads only its own files and talks only to itself and ``api_origins``
    (space-separated); no inline script or style, no frames, no plugins, no form targets."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            f"connect-src 'self' {api_origins}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


# Security headers of the portal's answers besides the CSP, as CloudFront's policy sets them.
PORTAL_SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}

# The JWT authorizer of the HTTP API: the claim that carries the customer id and the audience.
JWT_AUDIENCE = "billing-archive"
JWT_CUSTOMER_CLAIM = "sub"
JWT_ROLE_CLAIM = "billing_role"

# The shop is a server: it gets OAuth 2.0 client-credentials access tokens from the identity
# provider and sends them as bearer tokens. The order API's JWT authorizer accepts the shop's
# client id as audience (API Gateway compares ``aud``, else ``client_id``) and its routes
# require the scope below.
SHOP_CLIENT_ID = "billing-shop"
ORDER_SCOPE = "orders/write"


@dataclass(frozen=True)
class ApiAuth:
    audience: str
    scopes: tuple[str, ...] = ()


API_AUTH: dict[str, ApiAuth] = {
    "archive": ApiAuth(audience=JWT_AUDIENCE),
    "orders": ApiAuth(audience=SHOP_CLIENT_ID, scopes=(ORDER_SCOPE,)),
}


def function_environment(
    *,
    table_names: dict[str, str],
    bucket_names: dict[str, str],
    settings: dict[str, str],
    queue_urls: dict[str, str] | None = None,
    bus_names: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment every function gets: resource names plus the plain settings.

    ``queue_urls`` (by queue id) adds the URL of every queue that has an environment variable,
    ``bus_names`` (by bus id) the name of every event bus.
    """
    env = {table.env_var: table_names[table.id] for table in TABLES}
    env |= {bucket.env_var: bucket_names[bucket.id] for bucket in BUCKETS}
    env |= queue_environment(queue_urls) if queue_urls is not None else {}
    env |= {bus.env_var: bus_names[bus.id] for bus in EVENT_BUSES} if bus_names else {}
    env |= {
        "POWERTOOLS_METRICS_NAMESPACE": "Billing",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    return env | settings


def queue_environment(queue_urls: dict[str, str]) -> dict[str, str]:
    """The environment variables that name the queues functions send to."""
    return {queue.env_var: queue_urls[queue.id] for queue in QUEUES if queue.env_var}


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
        "BILLING_SELLER_TAX_NUMBER": "43/123/45678",
        "BILLING_SELLER_CONTACT": "Buchhaltung",
        "BILLING_SELLER_PHONE": "+49 40 1234567",
        # The SEPA creditor identifier mandates are given to and debits collected under (the
        # Bundesbank's test identifier until the seller has its own).
        "BILLING_SELLER_CREDITOR_ID": "DE98ZZZ09999999999",
        "BILLING_PAYMENT_TERM_DAYS": "14",
        # What a returned direct debit costs the customer (the bank's charge passed on), EUR.
        "BILLING_RETURN_FEE": "5.00",
        # Statement files over this many bytes are imported in parts of at most so many entries.
        "BILLING_STATEMENT_PARTS_FROM_BYTES": "2000000",
        "BILLING_STATEMENT_PART_ENTRIES": "1000",
        # The days in which a customer may withdraw an order.
        "BILLING_WITHDRAWAL_DAYS": "14",
        # The sender of invoice e-mails: an SES identity (the CDK app takes billing:mailFrom).
        "BILLING_MAIL_FROM": "rechnung@beispiel-hosting.example",
        # Where customers read their archive; e-mails link to {portal}/documents/{number}.
        "BILLING_PORTAL_URL": "https://kundenportal.beispiel-hosting.example",
        # Dunning: the levels file in shared/data, the smallest claim dunned, the notice prefix.
        "BILLING_DUNNING_LEVELS_FILE": "dunning_levels.json",
        "BILLING_DUNNING_MINIMUM_OPEN": "5.00",
        "BILLING_DUNNING_PREFIX": "MA",
    }
