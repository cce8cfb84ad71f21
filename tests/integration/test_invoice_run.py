"""The invoice run driven through the real state machine on the embedded AWS."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from shared.contracts import Position
from shared.invoicing.compose import compose_invoice
from shared.invoicing.numbering import sequence_of
from shared.periods import Period
from shared.storage.s3 import S3Archive
from tests.integration.conftest import ISSUE_DATE, Aws

PERIOD = Period(2026, 11)


def _expected_totals(hoster) -> tuple[Decimal, Decimal, Decimal]:
    by_customer: dict[str, list[Position]] = {}
    for position in hoster.positions:
        by_customer.setdefault(position.customer_id, []).append(position)
    drafts = [compose_invoice(c, by_customer[c.customer_id], PERIOD) for c in hoster.customers]
    return (
        sum((d.net for d in drafts if d), Decimal(0)),
        sum((d.vat for d in drafts if d), Decimal(0)),
        sum((d.gross for d in drafts if d), Decimal(0)),
    )


def test_a_run_bills_every_customer_once_with_consecutive_numbers(aws: Aws) -> None:
    hoster = aws.seed(40)

    report = aws.run("run-2026-11-first")

    invoices = aws.invoices()
    assert report["status"] == "succeeded"
    assert report["invoices"] == report["new_invoices"] == len(invoices) == 40
    assert Counter(i["customer_id"] for i in invoices) == Counter(
        c.customer_id for c in hoster.customers
    )
    numbers = sorted(sequence_of(i["number"]) for i in invoices)
    assert numbers == list(range(1, 41))
    assert (report["first_number"], report["last_number"]) == (
        "RE-2026-00000001",
        "RE-2026-00000040",
    )
    net, vat, gross = _expected_totals(hoster)
    assert (Decimal(report["net"]), Decimal(report["vat"]), Decimal(report["gross"])) == (
        net,
        vat,
        gross,
    )
    assert sum(Decimal(i["gross"]) for i in invoices) == gross
    assert sum(Decimal(g["vat"]) for g in report["by_rate"]) == vat
    assert report["void_numbers"] == []
    assert report["failed"] == []


def test_every_invoice_pdf_is_archived_under_compliance_retention(aws: Aws) -> None:
    aws.seed(6)
    aws.run("run-2026-11-pdf")

    bucket = aws.stack.bucket_names["Archive"]
    for invoice in aws.invoices():
        head = aws.s3.head_object(Bucket=bucket, Key=invoice["pdf_key"])
        assert head["ContentType"] == "application/pdf"
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == datetime(2035, 1, 1, tzinfo=UTC)
        body = aws.s3.get_object(Bucket=bucket, Key=invoice["pdf_key"])["Body"].read()
        assert body.startswith(b"%PDF")

    some = aws.invoices()[0]["pdf_key"]
    version = aws.s3.list_object_versions(Bucket=bucket, Prefix=some)["Versions"][0]
    with pytest.raises(ClientError, match="AccessDenied"):
        aws.s3.delete_object(Bucket=bucket, Key=some, VersionId=version["VersionId"])


def test_running_the_same_period_again_issues_nothing_new(aws: Aws) -> None:
    aws.seed(30)
    first = aws.run("run-2026-11-a")
    documents_before = aws.scan("Documents")
    objects_before = aws.s3.list_object_versions(Bucket=aws.stack.bucket_names["Archive"])

    second = aws.run("run-2026-11-b")

    assert second["new_invoices"] == 0
    assert second["invoices"] == first["invoices"] == 30
    assert (second["net"], second["vat"], second["gross"]) == (
        first["net"],
        first["vat"],
        first["gross"],
    )
    assert (second["first_number"], second["last_number"]) == (
        first["first_number"],
        first["last_number"],
    )
    assert len(aws.scan("Documents")) == len(documents_before)
    objects_after = aws.s3.list_object_versions(Bucket=aws.stack.bucket_names["Archive"])
    assert len(objects_after["Versions"]) == len(objects_before["Versions"])


def test_a_worker_that_fails_midway_is_retried_without_duplicates(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.seed(30)
    original = S3Archive.store_pdf
    calls = {"count": 0}

    def fail_once_midway(self, key, body, *, retain_until):
        calls["count"] += 1
        if calls["count"] == 5:
            raise ConnectionError("archive unreachable")
        return original(self, key, body, retain_until=retain_until)

    monkeypatch.setattr(S3Archive, "store_pdf", fail_once_midway)

    report = aws.run("run-2026-11-retry")

    invoices = aws.invoices()
    assert calls["count"] == 31, "each PDF stored once, plus the attempt that failed"
    assert report["invoices"] == len(invoices) == 30
    assert len({i["number"] for i in invoices}) == 30
    assert sorted(sequence_of(i["number"]) for i in invoices) == list(range(1, 31))
    assert report["void_numbers"] == []


def test_a_number_whose_customer_vanished_between_attempts_is_voided(aws: Aws) -> None:
    hoster = aws.seed(12)
    shard = hoster.customers[0].shard
    event = {
        "run_id": "run-2026-11",
        "period": "2026-11",
        "issue_date": ISSUE_DATE,
        "execution": "manual-1",
        "shard": shard,
    }
    customers_of_shard = sorted(c.customer_id for c in hoster.customers if c.shard == shard)
    _reserve_numbers_then_crash(aws, event)
    gone = customers_of_shard[0]
    _delete_positions(aws, shard, gone)

    result, error = aws.invoke("billing-invoice-worker", event | {"execution": "manual-2"})

    assert error is None, result
    assert result["invoices"] == len(customers_of_shard) - 1
    blocks = [i for i in aws.scan("Control") if i["sk"].startswith("BLOCK#")]
    assert len(blocks) == 1
    voided = blocks[0]["voids"]
    assert list(voided) == ["RE-2026-00000001"]
    issued = {i["number"] for i in aws.invoices()}
    assert "RE-2026-00000001" not in issued
    assert len(issued) == len(customers_of_shard) - 1
    void_items = [i for i in aws.scan("Documents") if i.get("document_type") == "void"]
    assert [(v["pk"], v["number"]) for v in void_items] == [(f"CUST#{gone}", "RE-2026-00000001")]


def _reserve_numbers_then_crash(aws: Aws, event: dict) -> None:
    from shared.storage.dynamodb import DynamoDocuments

    original = DynamoDocuments.issue_invoice

    def crash(self, invoice, *, shard, pdf_key):
        raise ConnectionError("lost the connection to DynamoDB")

    DynamoDocuments.issue_invoice = crash  # type: ignore[method-assign]
    try:
        result, error = aws.invoke("billing-invoice-worker", event)
    finally:
        DynamoDocuments.issue_invoice = original  # type: ignore[method-assign]
    assert error == "Handled"
    assert result["errorType"] == "ConnectionError"


def _delete_positions(aws: Aws, shard: int, customer_id: str) -> None:
    table = aws.stack.table_names["Contracts"]
    for item in aws.scan("Contracts"):
        if item["sk"].startswith(f"{customer_id}#POS#"):
            aws.dynamodb.delete_item(
                TableName=table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}}
            )


def test_a_dry_run_computes_the_totals_and_issues_nothing(aws: Aws) -> None:
    hoster = aws.seed(20)

    dry = aws.run("run-2026-11-dry", dry_run=True)

    assert aws.invoices() == []
    assert aws.s3.list_objects_v2(Bucket=aws.stack.bucket_names["Archive"])["KeyCount"] == 0
    assert dry["dry_run"] is True
    assert dry["invoices"] == 20
    assert dry["first_number"] is None
    live = aws.run("run-2026-11-live")
    assert (dry["net"], dry["vat"], dry["gross"]) == (live["net"], live["vat"], live["gross"])
    net, _, _ = _expected_totals(hoster)
    assert Decimal(live["net"]) == net


def test_customers_without_due_positions_get_no_invoice(aws: Aws) -> None:
    aws.seed(10)

    report = aws.run("run-2020-01-early", period="2020-01")

    assert report["invoices"] == 0
    assert report["customers"] == 10
    assert aws.invoices() == []


def test_a_customer_with_a_broken_record_fails_alone_with_the_reason(aws: Aws) -> None:
    hoster = aws.seed(8)
    broken = hoster.customers[3]
    record = broken.model_dump(mode="json")
    record["address"]["city"] = ""
    aws.dynamodb.put_item(
        TableName=aws.stack.table_names["Contracts"],
        Item={
            "pk": {"S": f"SHARD#{broken.shard:05d}"},
            "sk": {"S": f"{broken.customer_id}#CUSTOMER"},
            "kind": {"S": "customer"},
            "data": {"S": json.dumps(record)},
        },
    )

    report = aws.run("run-2026-11-broken")

    assert report["status"] == "completed_with_failures"
    assert report["invoices"] == 7
    assert report["failed"] == [
        {
            "customer_id": broken.customer_id,
            "reason": "customer address.city: String should have at least 1 character",
        }
    ]
    assert broken.customer_id not in {i["customer_id"] for i in aws.invoices()}
