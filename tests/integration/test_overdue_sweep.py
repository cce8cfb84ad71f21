"""The sweep dunning finds overdue customers with: a real run's invoices, one of them paid."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.accounts.model import Posting
from shared.storage.overdue import SweepingLedger, recent_periods
from tests.integration.conftest import SHARDS, Aws

pytestmark = pytest.mark.xdist_group("overdue")


@pytest.fixture
def ledger(aws: Aws) -> SweepingLedger:
    aws.seed(16)
    aws.run("run-2026-11-overdue")
    return SweepingLedger(aws.dynamodb, aws.stack.table_names["Documents"])


def _overdue(ledger: SweepingLedger, due_before: date) -> set[str]:
    found = [list(ledger.overdue_customers(shard, due_before)) for shard in range(SHARDS)]
    for customers in found:
        assert customers == sorted(set(customers))
    return {customer for customers in found for customer in customers}


def test_customers_with_an_invoice_due_before_the_day_are_overdue_unless_paid(
    aws: Aws, ledger: SweepingLedger
) -> None:
    invoices = aws.invoices()
    latest_due = max(date.fromisoformat(str(i["due_date"])) for i in invoices)
    paid = invoices[0]
    payment = Posting(
        posting_id=f"test-payment:{paid['number']}",
        customer_id=paid["customer_id"],
        booked_on=latest_due,
        kind="payment",
        amount=-paid["gross"],
        item=paid["number"],
        document_number=paid["number"],
        source="manual:overdue-test",
    )
    ledger.post([payment])

    overdue = _overdue(ledger, latest_due + timedelta(days=1))
    before_any_due = _overdue(ledger, date.fromisoformat(str(invoices[0]["issue_date"])))

    assert overdue == {i["customer_id"] for i in invoices} - {paid["customer_id"]}
    assert before_any_due == set()


def test_the_swept_months_end_with_the_days_own() -> None:
    months = [str(period) for period in recent_periods(date(2026, 2, 10), 4)]

    assert months == ["2026-02", "2026-01", "2025-12", "2025-11"]
