"""Wires the debit and DATEV exports for the CLI from resource names and settings."""

from __future__ import annotations

from datetime import date

from cli.settings import cli_settings
from infra import spec
from shared.accounts.datev_export import DatevExportResult
from shared.payments.debit_export import DebitExportRequest, DebitExportResult, ShardProgress
from shared.wiring import client, datev_export, debit_export_service, ledger

DEBIT_RESOURCES = (
    spec.CONTRACTS.env_var,
    spec.DOCUMENTS.env_var,
    spec.CONTROL.env_var,
    spec.WORK.env_var,
)
DATEV_RESOURCES = (spec.DOCUMENTS.env_var, spec.CONTROL.env_var)


def export_debits(
    resources: dict[str, str], request: DebitExportRequest, on_shard: ShardProgress
) -> DebitExportResult:
    settings = cli_settings(resources)
    dynamodb = client("dynamodb")
    service = debit_export_service(settings, ledger(settings, dynamodb), dynamodb=dynamodb)
    return service.export(request, on_shard=on_shard)


def export_datev(resources: dict[str, str], first: date, last: date) -> DatevExportResult:
    settings = cli_settings(resources)
    dynamodb = client("dynamodb")
    return datev_export(settings, ledger(settings, dynamodb), dynamodb=dynamodb).export(first, last)
