"""`billing demo` as a user runs it: a separate process, the whole local stack, files on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader

BILLING = [sys.executable, "-c", "from cli.main import main; main()"]


def test_the_demo_bills_every_customer_and_writes_pdfs_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"

    finished = subprocess.run(
        [
            *BILLING,
            "demo",
            "--customers",
            "40",
            "--shards",
            "4",
            "--period",
            "2026-10",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["period"] == "2026-10"
    assert report["run_id"] == "run-2026-10"
    assert report["customers"] == 40
    # Every order through the order API is a new customer, billed in the same run.
    assert report["orders"]["accepted"] + report["orders"]["refused"] == 20
    assert report["invoices"] == 40 + report["orders"]["accepted"]
    assert report["failed"] == []
    assert report["void_numbers"] == []
    assert Decimal(report["net"]) + Decimal(report["vat"]) == Decimal(report["gross"])
    assert report["rerun"]["execution_new_invoices"] == 0
    assert report["first_number"].endswith("00000001")
    assert report["last_number"].endswith(f"{report['invoices']:08d}")
    assert float(report["seconds"]) > 0
    pdfs = sorted((out / "invoices").glob("*.pdf"))
    assert len(pdfs) == report["invoices"]
    text = PdfReader(pdfs[0]).pages[0].extract_text()
    assert pdfs[0].stem in text
    assert "Rechnungsbetrag" in text
    assert "invoice run" in finished.stdout
    assert "0 new invoices" in finished.stdout
    portal_hint = finished.stdout[finished.stdout.index("customer portal:") :]
    assert "billing local up --seed-customers 40" in portal_hint
    assert "billing local token C0000001" in portal_hint
    assert "http://127.0.0.1:8000/portal/" in portal_hint
    delivery = report["delivery"]
    printed = delivery["print_batch_invoices"]
    assert (
        delivery["emails_sent"]
        == delivery["emails_accepted_by_ses"]
        == report["invoices"] - printed
    )
    assert delivery["failed"] == []
    assert delivery["rerun"]["emails_accepted_by_ses"] == 0
    if printed:
        batch = PdfReader(delivery["print_batch_file"])
        assert len(batch.pages) == delivery["print_batch_pages"] >= printed
    _assert_the_month(report, finished.stdout)


def _assert_the_month(report: dict[str, Any], stdout: str) -> None:
    """Debits, the statement and its import, the books and dunning, as report.json has them."""
    (debit_file,) = report["debits"]["files"]
    # Issued 1 November, due 14 days later on a Sunday: collected the next business day.
    assert report["debits"]["collection_date"] == "2026-11-16"
    assert debit_file["items"] > 0
    payments = report["payments"]
    imported = payments["import"]
    planned = payments["planned"]
    assert Path(payments["file"]).exists()
    assert imported["by_rule"]["end_to_end"] == planned["collection with details"]
    assert imported["by_rule"]["collection_batch"] >= 1
    assert imported["by_rule"]["invoice_number"] >= planned["transfer: exact, messy text"] // 2
    assert imported["returns"] == imported["by_rule"]["debit_return"] == 3
    assert Decimal(imported["return_fees"]) == 3 * Decimal("5.00")
    assert imported["unmatched"] >= planned["transfer: nothing matches"]
    assert payments["clarification_list"] == imported["unmatched"]
    assert payments["reimport"]["postings"] == 0
    assert payments["reimport"]["duplicates"] == imported["entries"]
    books = report["reconciliation"]
    assert books["reconciled"] is True
    assert Decimal(books["balances"]) == Decimal(books["invoiced_gross"]) + Decimal(
        books["return_fees"]
    ) - Decimal(books["received"]) + Decimal(books["returned"])
    assert all(books["datev"]["checks"].values())
    first, second = report["dunning"]["runs"]
    assert first["reached"]["reminder"] > 0
    assert second["reached"]["first_notice"] > 0
    assert first["failed"] == second["failed"] == []
    notices = first["notices"] + second["notices"]
    assert report["dunning"]["notices_archived"] == notices
    paid = report["dunning"]["notices_paid"]
    assert paid["first_notices"] == second["notices"]
    assert paid["paying"] > 0
    assert paid["matched_by_notice"] == paid["paying"]
    assert paid["cases_still_open"] == 0
    assert "statement import" in stdout
    assert "balances reconcile: yes, DATEV reconciles: yes" in stdout


def test_the_demo_refuses_a_malformed_period_naming_the_option(tmp_path: Path) -> None:
    finished = subprocess.run(
        [*BILLING, "demo", "--period", "2026-13", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert finished.returncode == 2
    assert "--period" in finished.stderr
    assert "YYYY-MM" in finished.stderr
    assert not (tmp_path / "report.json").exists()
