"""Cancelling an issued invoice: a new document that reverses it; the original stays as it was."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.invoicing.corrections import CorrectionError, CorrectionService
from shared.storage.dynamodb import DynamoDocuments, DynamoNumberRanges
from shared.storage.s3 import S3Archive
from tests.integration.conftest import Aws


def _corrections(aws: Aws) -> CorrectionService:
    return CorrectionService(
        documents=DynamoDocuments(aws.dynamodb, aws.stack.table_names["Documents"]),
        ranges=DynamoNumberRanges(aws.dynamodb, aws.stack.table_names["Control"]),
        archive=S3Archive(aws.s3, aws.stack.bucket_names["Archive"]),
        credit_prefix="GS",
        retention_years=8,
    )


def test_a_cancellation_reverses_the_invoice_to_the_cent_and_leaves_it_unchanged(
    aws: Aws,
) -> None:
    aws.seed(3)
    aws.run("run-2026-11-cancel")
    original = next(i for i in aws.invoices() if i["number"] == "RE-2026-00000002")

    done = _corrections(aws).cancel(
        "RE-2026-00000002", reason="Doppelt berechnet", today=date(2026, 12, 5)
    )

    cancellation = done.cancellation
    assert done.created
    assert cancellation.number == "GS-2026-00000001"
    assert cancellation.document_type == "cancellation"
    assert cancellation.correction is not None
    assert cancellation.correction.refers_to == "RE-2026-00000002"
    assert cancellation.draft.gross == -Decimal(original["gross"])
    assert sum(line.net for line in cancellation.draft.lines) == cancellation.draft.net
    unchanged = next(i for i in aws.invoices() if i["number"] == "RE-2026-00000002")
    assert unchanged == original
    stored = aws.scan("Documents")
    corrections = [i for i in stored if i.get("document_type") == "cancellation"]
    assert [(c["number"], c["refers_to"]) for c in corrections] == [
        ("GS-2026-00000001", "RE-2026-00000002")
    ]
    pdf = aws.s3.get_object(Bucket=aws.stack.bucket_names["Archive"], Key=corrections[0]["pdf_key"])
    assert pdf["ObjectLockMode"] == "COMPLIANCE"


def test_cancelling_the_same_invoice_again_issues_nothing_new(aws: Aws) -> None:
    aws.seed(2)
    aws.run("run-2026-11-twice")
    corrections = _corrections(aws)

    first = corrections.cancel("RE-2026-00000001", reason="Kulanz", today=date(2026, 12, 5))
    second = corrections.cancel("RE-2026-00000001", reason="Kulanz", today=date(2026, 12, 6))

    assert (first.created, second.created) == (True, False)
    assert second.cancellation.number == first.cancellation.number
    assert second.cancellation.issue_date == date(2026, 12, 5)
    cancellations = [i for i in aws.scan("Documents") if i.get("document_type") == "cancellation"]
    assert len(cancellations) == 1


def test_a_cancellation_or_an_unknown_number_cannot_be_cancelled(aws: Aws) -> None:
    aws.seed(1)
    aws.run("run-2026-11-refuse")
    corrections = _corrections(aws)
    corrections.cancel("RE-2026-00000001", reason="Kulanz", today=date(2026, 12, 5))

    with pytest.raises(CorrectionError, match="is a cancellation, not an invoice"):
        corrections.cancel("GS-2026-00000001", reason="zurück", today=date(2026, 12, 5))
    with pytest.raises(CorrectionError, match="no invoice RE-2026-00000099"):
        corrections.cancel("RE-2026-00000099", reason="Kulanz", today=date(2026, 12, 5))
