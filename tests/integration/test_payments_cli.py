"""`billing payments` against the embedded AWS in this process: import, list, assign."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cli.main import cli
from localaws import bank
from tests.integration.conftest import Aws
from tests.integration.test_payment_import import DAY, OUR_IBAN


def _billing(*arguments: str) -> Result:
    return CliRunner().invoke(cli, ["payments", *arguments], catch_exceptions=False)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _statement(aws: Aws, path: Path) -> tuple[str, str, Decimal]:
    aws.seed(2)
    aws.run("run-2026-11-cli")
    invoice = min(aws.invoices(), key=lambda i: i["number"])
    items = [
        bank.Booking(Decimal(invoice["gross"]), DAY, remittance=invoice["number"]),
        bank.Booking(Decimal("7.50"), DAY, remittance="Geschenk", counterparty_name="Oma"),
    ]
    statement = bank.BankStatement(items, account=bank.Account(iban=OUR_IBAN))
    path.write_bytes(bank.camt053(statement))
    return invoice["customer_id"], invoice["number"], Decimal(invoice["gross"])


def test_import_lists_and_assigns_from_the_command_line(aws: Aws, tmp_path: Path) -> None:
    customer, _, gross = _statement(aws, tmp_path / "day.xml")

    imported = _json(_billing("import", str(tmp_path / "day.xml"), "--json"))
    (entry,) = _json(_billing("unmatched", "--json"))
    assigned = _json(
        _billing(
            "assign", entry["transaction_id"], "--customer", customer, "--by", "erika", "--json"
        )
    )
    again = _billing("assign", entry["transaction_id"], "--customer", customer, "--by", "erika")

    assert (imported["entries"], imported["matched"], imported["unmatched"]) == (2, 1, 1)
    assert Decimal(imported["received"]) == gross
    assert (entry["amount"], entry["counterparty"], entry["remittance"]) == (
        "7.50",
        "Oma",
        "Geschenk",
    )
    assert entry["reason"] == "names no invoice, customer or reference of ours"
    assert assigned["created"] is True
    assert assigned["decided_by"] == "manual:erika"
    assert [(p["item"], p["amount"]) for p in assigned["postings"]] == [(None, "-7.50")]
    assert "was already assigned" in again.output
    assert _billing("unmatched").output.strip() == "nothing to clarify"


def test_the_import_table_shows_the_figures_and_a_reimport_skips_everything(
    aws: Aws, tmp_path: Path
) -> None:
    _statement(aws, tmp_path / "day.xml")

    first = _billing("import", str(tmp_path / "day.xml"))
    second = _json(_billing("import", str(tmp_path / "day.xml"), "--json"))

    assert first.exit_code == 0, first.output
    assert "by invoice_number" in first.output
    assert "set aside for clarification" in first.output
    assert (second["duplicates"], second["postings"], second["matched"]) == (2, 0, 0)


def test_a_file_that_is_no_statement_is_refused_naming_the_reason(aws: Aws, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Kontoauszug Dezember\n")

    result = CliRunner().invoke(cli, ["payments", "import", str(tmp_path / "notes.txt")])

    assert result.exit_code == 1
    assert "notes.txt: file: neither camt XML nor MT940" in result.output


def test_assigning_to_an_invoice_the_customer_lacks_is_refused(aws: Aws, tmp_path: Path) -> None:
    customer, _, _ = _statement(aws, tmp_path / "day.xml")
    _billing("import", str(tmp_path / "day.xml"), "--json")
    (entry,) = _json(_billing("unmatched", "--json"))

    result = CliRunner().invoke(
        cli,
        ["payments", "assign", entry["transaction_id"], "--customer", customer, "--invoice", "X1"],
    )

    assert result.exit_code == 1
    assert f"{customer} has no invoice X1" in result.output
