"""Every document a run issues is a valid EN 16931 e-invoice, checked with the official rules."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree
from pypdf import PdfReader

from shared.invoicing.corrections import CorrectionService
from shared.invoicing.documents import xml_key
from shared.storage.dynamodb import DynamoDocuments, DynamoNumberRanges
from shared.storage.s3 import S3Archive
from tests.integration.conftest import Aws
from tools.einvoice.validator import validator

# Enough customers of the synthetic hoster for every kind of buyer and every e-invoice choice.
CUSTOMERS = 240
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"

pytestmark = pytest.mark.xdist_group("einvoices")


def test_every_document_of_a_run_is_a_valid_e_invoice_in_the_form_its_customer_chose(
    aws: Aws,
) -> None:
    hoster = aws.seed(CUSTOMERS, seed=11)
    choices = {c.customer_id: c.einvoice for c in hoster.customers}
    assert set(choices.values()) == {"factur-x", "xrechnung-embedded", "xrechnung-xml"}
    assert {c.kind for c in hoster.customers} == {"consumer", "business"}

    report = aws.run("run-2026-11-einvoices")
    cancellation = _cancel_an_xrechnung(aws, choices)

    documents = [*aws.invoices(), cancellation]
    assert len(documents) == report["invoices"] + 1
    checked = Counter()
    for document in documents:
        xml, choice = _einvoice_of(aws, document, choices)
        findings = validator(xrechnung=choice != "factur-x").validate(xml)
        assert not findings.fatal, (document["number"], [str(f) for f in findings.findings])
        assert _grand_total(xml) == abs(Decimal(document["gross"])), document["number"]
        checked[choice] += 1
    assert set(checked) == {"factur-x", "xrechnung-embedded", "xrechnung-xml"}


def _einvoice_of(aws: Aws, document: dict[str, Any], choices: dict[str, str]) -> tuple[bytes, str]:
    """The XML of a document: inside its PDF/A-3, or beside it for XML-only customers."""
    choice = choices[document["customer_id"]]
    pdf = aws.s3.get_object(Bucket=_archive(aws), Key=document["pdf_key"])["Body"].read()
    reader = PdfReader(io.BytesIO(pdf))
    assert b"<pdfaid:part>3</pdfaid:part>" in pdf, document["number"]
    if choice == "xrechnung-xml":
        assert not reader.attachments, document["number"]
        key = xml_key(document["pdf_key"])
        return aws.s3.get_object(Bucket=_archive(aws), Key=key)["Body"].read(), choice

    name = "factur-x.xml" if choice == "factur-x" else "xrechnung.xml"
    assert list(reader.attachments) == [name], document["number"]
    return reader.attachments[name][0], choice


def _cancel_an_xrechnung(aws: Aws, choices: dict[str, str]) -> dict[str, Any]:
    original = next(i for i in aws.invoices() if choices[i["customer_id"]] == "xrechnung-embedded")
    corrections = CorrectionService(
        documents=DynamoDocuments(aws.dynamodb, aws.stack.table_names["Documents"]),
        ranges=DynamoNumberRanges(aws.dynamodb, aws.stack.table_names["Control"]),
        archive=S3Archive(aws.s3, _archive(aws)),
        credit_prefix="GS",
        retention_years=8,
    )
    done = corrections.cancel(
        original["number"], reason="Doppelt berechnet", today=date(2026, 12, 5)
    )
    return next(d for d in aws.scan("Documents") if d.get("number") == done.cancellation.number)


def _grand_total(xml: bytes) -> Decimal:
    tree = etree.fromstring(xml)
    return Decimal(tree.findtext(f".//{RAM}GrandTotalAmount") or "nan")


def _archive(aws: Aws) -> str:
    return aws.stack.bucket_names["Archive"]
