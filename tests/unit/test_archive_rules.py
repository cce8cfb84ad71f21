"""The archive's rules without AWS: filters, who reads whose documents, the e-invoice XML."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from shared.archive import (
    InvalidQueryError,
    NotPermittedError,
    Reader,
    customer_to_read,
    document_query,
    einvoice_xml,
    embedded_einvoice,
    reader_from_claims,
)
from shared.contracts import Position
from shared.customers import Address, Customer
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import Invoice
from shared.invoicing.pdf import Attachment, render_invoice
from shared.periods import Period
from tests.unit.fakes import SELLER, FakeArchive

ROLES = {"subject_claim": "sub", "role_claim": "billing_role"}


def test_no_filter_is_the_whole_archive():
    assert document_query(None, None, None).document_types == ()


def test_types_are_comma_separated_and_deduplicated():
    query = document_query("cancellation,invoice,cancellation", "2026-01-01", "2026-01-31")

    assert query.document_types == ("cancellation", "invoice")
    assert (query.issued_from, query.issued_to) == ("2026-01-01", "2026-01-31")


@pytest.mark.parametrize(
    ("types", "low", "high", "field"),
    [
        ("invoice,", None, None, "type"),
        ("INVOICE", None, None, "type"),
        (None, "2026-02-30", None, "from"),
        (None, "20260201", None, "from"),
        (None, None, "2026-1-1", "to"),
        (None, "2026-02-02", "2026-02-01", "from"),
    ],
)
def test_a_bad_filter_names_its_field(
    types: str | None, low: str | None, high: str | None, field: str
):
    with pytest.raises(InvalidQueryError) as refused:
        document_query(types, low, high)

    assert refused.value.field == field


@pytest.mark.parametrize(
    ("claims", "reader"),
    [
        ({"sub": "C0000001", "billing_role": "customer"}, Reader("C0000001", staff=False)),
        ({"sub": "C0000001"}, Reader("C0000001", staff=False)),
        ({"sub": "anna.schmidt", "billing_role": "staff"}, Reader("anna.schmidt", staff=True)),
        ({"sub": "anna.schmidt"}, None),
        ({"sub": "C0000001#DOC"}, None),
        ({"sub": "../C0000002", "billing_role": "staff"}, None),
        ({"billing_role": "staff"}, None),
    ],
)
def test_the_reader_comes_from_the_claims(claims: dict[str, str], reader: Reader | None):
    assert reader_from_claims(claims, **ROLES) == reader


def test_a_customer_reads_their_own_and_may_name_nobody():
    customer = Reader("C0000001", staff=False)

    assert customer_to_read(customer, None) == "C0000001"
    for requested in ("C0000002", "C0000001", ""):
        with pytest.raises(NotPermittedError):
            customer_to_read(customer, requested)


def test_staff_must_name_a_valid_customer():
    staff = Reader("anna.schmidt", staff=True)

    assert customer_to_read(staff, "C0000002") == "C0000002"
    for requested in (None, "", "C0000002#DOC", "anna.schmidt"):
        with pytest.raises(InvalidQueryError):
            customer_to_read(staff, requested)


def _invoice() -> Invoice:
    customer = Customer(
        customer_id="C0000001",
        name="Kunde",
        email="k@example.org",
        address=Address(street="Weg 1", postal_code="20095", city="Hamburg", country="DE"),
        shard=1,
    )
    position = Position(
        position_id="P1",
        customer_id="C0000001",
        contract_id="K1",
        product_id="HOST-S",
        description="Webhosting S",
        quantity=1,
        unit_net=Decimal("4.99"),
        start=date(2025, 1, 1),
    )
    period = Period(2026, 1)
    draft = compose_invoice(customer, [position], period)
    assert draft is not None
    issued = period.end + timedelta(days=1)
    return Invoice(
        number="RE-1",
        run_id="run-2026-01",
        issue_date=issued,
        due_date=issued,
        seller=SELLER,
        draft=draft,
    )


@pytest.mark.parametrize("filename", ["factur-x.xml", "xrechnung.xml"])
def test_the_einvoice_comes_out_of_the_pdf(filename: str):
    pdf = render_invoice(_invoice(), Attachment(filename, b"<x>1</x>", "EN 16931"))

    assert embedded_einvoice(pdf) == b"<x>1</x>"


def test_a_pdf_without_attachment_or_no_pdf_at_all_has_no_einvoice():
    assert embedded_einvoice(render_invoice(_invoice())) is None
    assert embedded_einvoice(b"not a pdf") is None


def test_an_xml_beside_the_pdf_wins():
    files = FakeArchive()
    files.objects["d/C1/RE-1.pdf"] = render_invoice(_invoice())
    files.objects["d/C1/RE-1.xml"] = b"<own/>"

    assert einvoice_xml(files, "d/C1/RE-1.pdf") == b"<own/>"


def test_without_an_xml_beside_it_the_pdf_is_read():
    files = FakeArchive()
    files.objects["d/C1/RE-1.pdf"] = render_invoice(
        _invoice(), Attachment("xrechnung.xml", b"<in/>", "XRECHNUNG")
    )

    assert einvoice_xml(files, "d/C1/RE-1.pdf") == b"<in/>"
