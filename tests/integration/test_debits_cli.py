"""`billing debits export` and `billing accounts datev` on the embedded AWS after a run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from shared.payments.target import next_business_day
from shared.settings import Settings
from tests.integration.conftest import Aws

pytestmark = pytest.mark.xdist_group("debits")

# The run issues on 1 December 2026, debits fall due on the 15th; later, the next business day.
COLLECTION = max(date(2026, 12, 15), next_business_day(date.today()))


@pytest.fixture
def billed(aws: Aws) -> Aws:
    aws.seed(12)
    aws.run("run-2026-11-cli")
    return aws


def _run(*arguments: str) -> Any:
    return CliRunner().invoke(cli, list(arguments), catch_exceptions=False)


def test_debits_export_writes_once_and_then_shows_the_dates_file(billed: Aws) -> None:
    first = _run("debits", "export", "--collection-date", COLLECTION.isoformat(), "--json")
    again = _run("debits", "export", "--collection-date", COLLECTION.isoformat())

    assert first.exit_code == 0, first.output
    result = json.loads(first.output[first.output.index("{") :])
    assert result["new_file"]["items"] > 0
    assert result["new_file"]["key"].startswith(f"debits/{COLLECTION}/")
    assert again.exit_code == 0, again.output
    assert "nothing new to collect" in again.output
    assert result["new_file"]["file_id"] in again.output


@pytest.mark.parametrize(
    ("date_given", "message"),
    [("2026-12-32", "is not a date"), (date.today().isoformat(), "too early")],
)
def test_a_bad_collection_date_is_refused_naming_the_option(
    billed: Aws, date_given: str, message: str
) -> None:
    refused = _run("debits", "export", "--collection-date", date_given)

    assert refused.exit_code == 2
    assert "--collection-date" in refused.output
    assert message in refused.output
    assert not [i for i in billed.scan("Control") if str(i["pk"]).startswith("DEBIT")]


def test_accounts_datev_writes_the_batch_and_reconciles(billed: Aws, tmp_path: Path) -> None:
    target = tmp_path / "EXTF_Buchungsstapel.csv"

    done = _run(
        "accounts", "datev", "--from", "2026-12-01", "--to", "2026-12-31", "--out", str(target)
    )

    assert done.exit_code == 0, done.output
    assert "reconciliation" in done.output
    assert "DIFFERENT" not in done.output
    lines = target.read_bytes().split(b"\r\n")
    assert lines[0].startswith(b'"EXTF";700;21;"Buchungsstapel";13;')
    assert len([line for line in lines[2:] if line]) >= len(billed.invoices())
    assert Settings().datev_chart == "SKR03"


def test_accounts_datev_refuses_a_range_over_two_fiscal_years(billed: Aws) -> None:
    refused = _run("accounts", "datev", "--from", "2026-12-01", "--to", "2027-01-31")

    assert refused.exit_code == 2
    assert "--to" in refused.output
    assert "one fiscal year" in refused.output
