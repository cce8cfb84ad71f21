"""Builds the use cases from settings and boto3 clients: the one place that knows both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from shared.settings import Settings
from shared.storage.dynamodb import DynamoContracts, DynamoDocuments, DynamoNumberRanges, DynamoRuns
from shared.storage.s3 import S3Archive, S3WorkStore

if TYPE_CHECKING:
    from shared.accounts.datev_export import DatevExport
    from shared.accounts.ports import Ledger, OverdueLedger
    from shared.delivery.adapters import SqsDeliveryQueue
    from shared.delivery.print_batch import PrintBatches
    from shared.delivery.service import DeliveryService
    from shared.dunning.rules import Policy
    from shared.dunning.runner import DunningRunService
    from shared.dunning.service import CaseSteps, DunningService
    from shared.dunning.starter import DunningStarter
    from shared.invoicing.service import InvoiceRunService
    from shared.invoicing.starter import RunStarter
    from shared.orders.changes import ContractChanges
    from shared.orders.service import OrderService
    from shared.payments.debit_export import DebitExportService
    from shared.payments.import_run import StatementImportRun
    from shared.payments.importing import ManualAssignment, PaymentImport
    from shared.payments.matching import MatchPolicy
    from shared.storage.ledger import DynamoLedger
    from shared.storage.payments import DynamoDecisions
    from shared.storage.stepfunctions import StepFunctionsExecutions

_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=32)


def client(service: str) -> Any:
    return boto3.client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def documents_store(settings: Settings, dynamodb: Any | None = None) -> DynamoDocuments:
    return DynamoDocuments(dynamodb or client("dynamodb"), settings.documents_table)


def document_archive(settings: Settings, s3: Any | None = None) -> S3Archive:
    return S3Archive(s3 or client("s3"), settings.archive_bucket)


def invoice_run_service(settings: Settings) -> InvoiceRunService:
    # Imported here: keeps the PDF renderer out of the other functions.
    from shared.invoicing.rendering import renderer_for
    from shared.invoicing.service import InvoiceRunService, RunPolicy

    dynamodb = client("dynamodb")
    s3 = client("s3")
    return InvoiceRunService(
        contracts=DynamoContracts(dynamodb, settings.contracts_table),
        ranges=DynamoNumberRanges(dynamodb, settings.control_table),
        documents=documents_store(settings, dynamodb),
        archive=S3Archive(s3, settings.archive_bucket),
        runs=DynamoRuns(dynamodb, settings.control_table),
        work=S3WorkStore(s3, settings.work_bucket),
        policy=RunPolicy(
            seller=settings.seller,
            invoice_prefix=settings.invoice_prefix,
            payment_term_days=settings.payment_term_days,
            retention_years=settings.retention_years,
            shard_count=settings.shard_count,
        ),
        renderer=renderer_for(settings.render_processes),
        deliveries=delivery_queue(settings),
        printer=print_batches(settings, dynamodb=dynamodb, s3=s3),
    )


def delivery_queue(settings: Settings) -> SqsDeliveryQueue | None:
    """Where issued invoices are announced; None when no queue is configured."""
    from shared.delivery.adapters import SqsDeliveryQueue

    if not settings.delivery_queue:
        return None
    return SqsDeliveryQueue(client("sqs"), settings.delivery_queue)


def print_batches(
    settings: Settings, *, dynamodb: Any | None = None, s3: Any | None = None
) -> PrintBatches:
    from shared.delivery.adapters import DynamoDeliveryLog, S3PrintBatches
    from shared.delivery.print_batch import PrintBatches  # keeps pypdf out of the others

    s3 = s3 or client("s3")
    return PrintBatches(
        log=DynamoDeliveryLog(dynamodb or client("dynamodb"), settings.documents_table),
        archive=S3Archive(s3, settings.archive_bucket),
        store=S3PrintBatches(s3, settings.work_bucket),
    )


def delivery_service(settings: Settings) -> DeliveryService:
    from shared.delivery.adapters import DynamoDeliveryLog, DynamoIssuedInvoices, SesMailer
    from shared.delivery.mail import Letterhead
    from shared.delivery.service import DeliveryService
    from shared.storage.dunning import DynamoNotices

    if not settings.mail_from:
        raise ValueError("BILLING_MAIL_FROM is not set: the SES identity invoices are sent from")
    dynamodb = client("dynamodb")
    return DeliveryService(
        mailer=SesMailer(client("sesv2")),
        log=DynamoDeliveryLog(dynamodb, settings.documents_table),
        invoices=DynamoIssuedInvoices(dynamodb, settings.documents_table),
        archive=document_archive(settings),
        letterhead=Letterhead(
            sender=settings.mail_from,
            sender_name=settings.seller_name,
            portal_url=settings.portal_url,
        ),
        notices=DynamoNotices(dynamodb, settings.documents_table),
    )


def run_starter(settings: Settings) -> RunStarter:
    from shared.invoicing.starter import RunStarter
    from shared.storage.stepfunctions import StepFunctionsExecutions

    if settings.invoice_run_state_machine is None:
        raise ValueError("BILLING_INVOICE_RUN_STATE_MACHINE is not set")
    return RunStarter(
        executions=StepFunctionsExecutions(
            client("stepfunctions"), settings.invoice_run_state_machine
        ),
        runs=DynamoRuns(client("dynamodb"), settings.control_table),
    )


def order_service(settings: Settings, dynamodb: Any | None = None) -> OrderService:
    from shared.catalog import shipped_catalog
    from shared.orders.registry import LocalRegistry
    from shared.orders.rules import shipped_rules
    from shared.orders.service import OrderPolicy, OrderService
    from shared.storage.orders import DynamoInventory, DynamoOrderBook, DynamoOrderContracts

    dynamodb = dynamodb or client("dynamodb")
    return OrderService(
        catalog=shipped_catalog(),
        rules=shipped_rules(),
        registry=LocalRegistry(),
        inventory=DynamoInventory(dynamodb, settings.orders_table),
        orders=DynamoOrderBook(dynamodb, settings.orders_table),
        contracts=DynamoOrderContracts(dynamodb, settings.contracts_table, settings.shard_count),
        policy=OrderPolicy(
            shard_count=settings.shard_count,
            creditor_id=_creditor_id(settings),
            withdrawal_days=settings.withdrawal_days,
        ),
    )


def _creditor_id(settings: Settings) -> str:
    if settings.seller_creditor_id is None:
        raise ValueError(
            "BILLING_SELLER_CREDITOR_ID is not set: the SEPA creditor id mandates are given to"
        )
    return settings.seller_creditor_id


def contract_changes(settings: Settings, dynamodb: Any | None = None) -> ContractChanges:
    from shared.catalog import shipped_catalog
    from shared.orders.changes import ContractChanges
    from shared.orders.rules import shipped_rules
    from shared.storage.orders import DynamoInventory, DynamoOrderBook, DynamoOrderContracts

    dynamodb = dynamodb or client("dynamodb")
    return ContractChanges(
        catalog=shipped_catalog(),
        rules=shipped_rules(),
        inventory=DynamoInventory(dynamodb, settings.orders_table),
        orders=DynamoOrderBook(dynamodb, settings.orders_table),
        contracts=DynamoOrderContracts(dynamodb, settings.contracts_table, settings.shard_count),
        withdrawal_days=settings.withdrawal_days,
    )


def dunning_policy(settings: Settings) -> Policy:
    from shared.dunning.interest import shipped_base_rates
    from shared.dunning.levels import load_levels
    from shared.dunning.rules import Policy

    return Policy(
        levels=load_levels(settings.dunning_levels_file),
        rates=shipped_base_rates(),
        seller=settings.seller,
        minimum_open=settings.dunning_minimum_open,
    )


def dunning_ledger(settings: Settings, dynamodb: Any | None = None) -> OverdueLedger:
    """The customer accounts dunning reads and posts to, with the sweep that finds the
    overdue ones (shared/storage/overdue.py)."""
    from shared.storage.overdue import SweepingLedger

    return SweepingLedger(dynamodb or client("dynamodb"), settings.documents_table)


def dunning_service(settings: Settings, *, ledger: OverdueLedger | None = None) -> DunningService:
    from shared.dunning.service import DunningService, DunningSetup
    from shared.storage.dunning import (
        DynamoCustomerDirectory,
        DynamoDunningRuns,
        DynamoDunningStore,
        DynamoNotices,
        EventBridgeProvisioning,
    )

    if not settings.provisioning_bus:
        raise ValueError("BILLING_PROVISIONING_BUS is not set: the bus suspensions go to")
    dynamodb = client("dynamodb")
    return DunningService(
        ledger=ledger or dunning_ledger(settings, dynamodb),
        store=DynamoDunningStore(dynamodb, settings.dunning_table, settings.shard_count),
        customers=DynamoCustomerDirectory(dynamodb, settings.contracts_table),
        ranges=DynamoNumberRanges(dynamodb, settings.control_table),
        notices=DynamoNotices(dynamodb, settings.documents_table),
        archive=document_archive(settings),
        events=EventBridgeProvisioning(client("events"), settings.provisioning_bus),
        policy=dunning_policy(settings),
        setup=DunningSetup(
            shard_count=settings.shard_count,
            notice_prefix=settings.dunning_prefix,
            retention_years=settings.dunning_retention_years,
        ),
        deliveries=delivery_queue(settings),
        runs=DynamoDunningRuns(dynamodb, settings.control_table),
    )


def dunning_cases(settings: Settings, *, ledger: Ledger, dynamodb: Any | None = None) -> CaseSteps:
    """What the statement import needs of dunning: settling a customer's case once it is paid."""
    from shared.dunning.service import CaseSteps, DunningSetup
    from shared.storage.dunning import DynamoDunningStore, DynamoNotices, EventBridgeProvisioning

    if not settings.provisioning_bus:
        raise ValueError("BILLING_PROVISIONING_BUS is not set: the bus reactivations go to")
    dynamodb = dynamodb or client("dynamodb")
    return CaseSteps(
        ledger=ledger,
        store=DynamoDunningStore(dynamodb, settings.dunning_table, settings.shard_count),
        notices=DynamoNotices(dynamodb, settings.documents_table),
        archive=document_archive(settings),
        events=EventBridgeProvisioning(client("events"), settings.provisioning_bus),
        setup=DunningSetup(
            shard_count=settings.shard_count,
            notice_prefix=settings.dunning_prefix,
            retention_years=settings.dunning_retention_years,
        ),
    )


def dunning_run_service(settings: Settings) -> DunningRunService:
    from shared.dunning.levels import load_levels
    from shared.dunning.runner import DunningRunService
    from shared.storage.dunning import DynamoDunningRuns, DynamoDunningStore, S3LineFiles

    dynamodb = client("dynamodb")
    s3 = client("s3")
    levels = load_levels(settings.dunning_levels_file)
    return DunningRunService(
        runs=DynamoDunningRuns(dynamodb, settings.control_table),
        work=S3WorkStore(s3, settings.work_bucket),
        files=S3LineFiles(s3, settings.work_bucket),
        store=DynamoDunningStore(dynamodb, settings.dunning_table, settings.shard_count),
        shard_count=settings.shard_count,
        level_keys=tuple(level.key for level in levels.levels),
        printer=print_batches(settings, dynamodb=dynamodb, s3=s3),
    )


def dunning_starter(settings: Settings) -> DunningStarter:
    from shared.dunning.starter import DunningStarter
    from shared.storage.stepfunctions import StepFunctionsExecutions

    if settings.dunning_run_state_machine is None:
        raise ValueError("BILLING_DUNNING_RUN_STATE_MACHINE is not set")
    return DunningStarter(
        StepFunctionsExecutions(client("stepfunctions"), settings.dunning_run_state_machine)
    )


def ledger(settings: Settings, dynamodb: Any | None = None) -> DynamoLedger:
    from shared.storage.ledger import DynamoLedger

    return DynamoLedger(dynamodb or client("dynamodb"), settings.documents_table)


def match_policy(settings: Settings) -> MatchPolicy:
    from shared.payments.matching import MatchPolicy
    from shared.payments.references import compact

    return MatchPolicy(
        invoice_prefixes=(settings.invoice_prefix, settings.credit_note_prefix),
        return_fee=settings.return_fee,
        fee_due_days=settings.payment_term_days,
        own_ibans=(compact(settings.seller_iban),),
        notice_prefixes=(settings.dunning_prefix,),
    )


def payment_decisions(settings: Settings, dynamodb: Any | None = None) -> DynamoDecisions:
    from shared.storage.payments import DynamoDecisions

    return DynamoDecisions(dynamodb or client("dynamodb"), settings.control_table)


def payment_import(settings: Settings, dynamodb: Any | None = None) -> PaymentImport:
    from shared.payments.importing import PaymentImport
    from shared.storage.debits import DynamoCollectionBatches
    from shared.storage.payments import (
        DynamoImportLock,
        DynamoInvoiceOwners,
        DynamoMandates,
    )

    dynamodb = dynamodb or client("dynamodb")
    control = settings.control_table
    accounts = ledger(settings, dynamodb)
    return PaymentImport(
        ledger=accounts,
        decisions=payment_decisions(settings, dynamodb),
        owners=DynamoInvoiceOwners(dynamodb, control),
        batches=DynamoCollectionBatches(dynamodb, control),
        mandates=DynamoMandates(dynamodb, settings.contracts_table, settings.shard_count),
        lock=DynamoImportLock(dynamodb, control),
        policy=match_policy(settings),
        settlement=dunning_cases(settings, ledger=accounts, dynamodb=dynamodb),
    )


def statement_import_run(settings: Settings) -> StatementImportRun:
    from shared.payments.import_run import StatementImportRun
    from shared.payments.parts import PartedImport

    s3 = client("s3")

    def read_object(bucket: str, key: str) -> bytes:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    return StatementImportRun(
        parted=PartedImport(
            payment_import(settings), entries_per_part=settings.statement_part_entries
        ),
        work=S3WorkStore(s3, settings.work_bucket),
        read_object=read_object,
    )


def statement_import_executions(settings: Settings) -> StepFunctionsExecutions:
    from shared.storage.stepfunctions import StepFunctionsExecutions

    if settings.payment_import_run_state_machine is None:
        raise ValueError("BILLING_PAYMENT_IMPORT_RUN_STATE_MACHINE is not set")
    return StepFunctionsExecutions(
        client("stepfunctions"), settings.payment_import_run_state_machine
    )


def manual_assignment(settings: Settings, dynamodb: Any | None = None) -> ManualAssignment:
    from shared.payments.importing import ManualAssignment

    dynamodb = dynamodb or client("dynamodb")
    return ManualAssignment(
        ledger=ledger(settings, dynamodb), decisions=payment_decisions(settings, dynamodb)
    )


def debit_export_service(
    settings: Settings, ledger: Ledger, *, dynamodb: Any | None = None, s3: Any | None = None
) -> DebitExportService:
    """Raises DebitInputError when no creditor id is configured: nothing can be collected."""
    from shared.payments.debit_export import DebitExportService
    from shared.payments.debits import creditor_of
    from shared.storage.debits import (
        DynamoCollectionBatches,
        DynamoDebitMandates,
        DynamoDebitRegister,
        S3DebitFiles,
    )

    dynamodb = dynamodb or client("dynamodb")
    return DebitExportService(
        mandates=DynamoDebitMandates(dynamodb, settings.contracts_table),
        ledger=ledger,
        register=DynamoDebitRegister(dynamodb, settings.control_table),
        batches=DynamoCollectionBatches(dynamodb, settings.control_table),
        files=S3DebitFiles(s3 or client("s3"), settings.work_bucket),
        creditor=creditor_of(settings.seller),
        shard_count=settings.shard_count,
    )


def datev_export(settings: Settings, ledger: Ledger, *, dynamodb: Any | None = None) -> DatevExport:
    """Raises DatevError when the account settings do not fit the chart."""
    from shared.accounts.datev import accounts_for
    from shared.accounts.datev_export import DatevExport, DatevOptions
    from shared.storage.debtors import DynamoDebtorNumbers
    from shared.storage.issued import DynamoIssuedDocuments

    documents = DynamoIssuedDocuments(
        dynamodb or client("dynamodb"),
        documents_table=settings.documents_table,
        control_table=settings.control_table,
        prefixes=(settings.invoice_prefix, settings.credit_note_prefix),
    )
    options = DatevOptions(
        chart=settings.datev_chart,
        consultant=settings.datev_consultant,
        client=settings.datev_client,
        accounts=accounts_for(settings.datev_chart, settings.datev_accounts),
        fiscal_year_start_month=settings.datev_fiscal_year_start_month,
        fixed=settings.datev_fixed,
    )
    debtors = DynamoDebtorNumbers(dynamodb or client("dynamodb"), settings.control_table)
    return DatevExport(documents=documents, ledger=ledger, options=options, debtors=debtors)
