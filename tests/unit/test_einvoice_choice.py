"""Customers choose their e-invoice; XRechnung needs a Leitweg-ID, and old documents still read."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError

from shared.customers import Address, Customer, EInvoiceChoice
from shared.invoicing.cii import GUIDELINES
from shared.invoicing.compose import compose_invoice
from shared.invoicing.einvoice import einvoice_for
from shared.invoicing.model import Invoice
from shared.leitweg_id import InvalidLeitwegIdError, validate_leitweg_id
from shared.periods import Period
from tests.unit.fakes import SELLER, position
from tests.unit.test_pdf import invoice

LEITWEG_ID = "04011000-12345-03"


def customer(**fields: object) -> Customer:
    values: dict[str, object] = {
        "customer_id": "C0000007",
        "name": "Bezirksamt Mitte",
        "email": "rechnung@ba-mitte.example",
        "address": Address(
            street="Karl-Marx-Allee 31", postal_code="10178", city="Berlin", country="DE"
        ),
        "kind": "business",
        "shard": 0,
    }
    return Customer.model_validate(values | fields)


@pytest.mark.parametrize(
    "leitweg_id",
    ["04011000-12345-03", "991-33333TEST-33", "04011000-1234512345-06", "  991-33333TEST-33 "],
)
def test_a_leitweg_id_with_right_check_digits_is_accepted(leitweg_id: str) -> None:
    assert validate_leitweg_id(leitweg_id) == leitweg_id.strip()


@pytest.mark.parametrize(
    ("leitweg_id", "problem"),
    [
        ("04011000-12345-04", "fails its check digits"),
        ("991-33333TEST-34", "fails its check digits"),
        ("04011000-12345", "is not a Leitweg-ID"),
        ("1-12345-03", "is not a Leitweg-ID"),
        ("04011000-123_45-03", "is not a Leitweg-ID"),
        ("04011000-" + "A" * 31 + "-03", "is not a Leitweg-ID"),
    ],
)
def test_a_wrong_leitweg_id_is_refused_with_its_problem(leitweg_id: str, problem: str) -> None:
    with pytest.raises(InvalidLeitwegIdError, match=problem):
        validate_leitweg_id(leitweg_id)


def test_customers_get_factur_x_by_default() -> None:
    assert customer().einvoice == "factur-x"
    assert customer().buyer_reference is None


@pytest.mark.parametrize("choice", ["xrechnung-embedded", "xrechnung-xml"])
def test_xrechnung_without_a_buyer_reference_names_the_field(choice: EInvoiceChoice) -> None:
    with pytest.raises(ValidationError) as raised:
        customer(einvoice=choice)

    (error,) = raised.value.errors()
    assert error["loc"] == ("buyer_reference",)
    assert "Leitweg-ID" in error["msg"]


def test_xrechnung_checks_the_leitweg_id() -> None:
    with pytest.raises(ValidationError, match="fails its check digits"):
        customer(einvoice="xrechnung-xml", buyer_reference="04011000-12345-09")

    assert customer(einvoice="xrechnung-xml", buyer_reference=LEITWEG_ID).buyer_reference == (
        LEITWEG_ID
    )


def test_a_factur_x_customer_may_quote_any_reference() -> None:
    assert customer(buyer_reference="Kostenstelle 4711").buyer_reference == "Kostenstelle 4711"


def test_unknown_fields_and_choices_are_still_refused() -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        customer(leitweg_id=LEITWEG_ID)
    with pytest.raises(ValidationError, match="einvoice"):
        customer(einvoice="zugferd-1")


def issued_for(buyer: Customer) -> Invoice:
    draft = compose_invoice(buyer, [position(buyer.customer_id, 1)], Period(2026, 11))
    assert draft is not None
    return Invoice(
        number="RE-2026-00000009",
        run_id="run-2026-11",
        issue_date=date(2026, 12, 1),
        due_date=date(2026, 12, 15),
        seller=SELLER,
        draft=draft,
    )


def test_compose_carries_the_choice_and_the_reference_to_the_buyer() -> None:
    buyer = issued_for(customer(einvoice="xrechnung-xml", buyer_reference=LEITWEG_ID)).draft.buyer

    assert (buyer.einvoice, buyer.buyer_reference) == ("xrechnung-xml", LEITWEG_ID)


@pytest.mark.parametrize(
    ("choice", "filename", "embedded", "conformance", "syntax"),
    [
        ("factur-x", "factur-x.xml", True, "EN 16931", "factur-x"),
        ("xrechnung-embedded", "xrechnung.xml", True, "XRECHNUNG", "xrechnung"),
        ("xrechnung-xml", "xrechnung.xml", False, "XRECHNUNG", "xrechnung"),
    ],
)
def test_each_choice_gets_its_attachment(
    choice: EInvoiceChoice, filename: str, embedded: bool, conformance: str, syntax: str
) -> None:
    reference = LEITWEG_ID if choice != "factur-x" else None
    issued = issued_for(customer(einvoice=choice, buyer_reference=reference))

    attachment = einvoice_for(issued)

    assert (attachment.filename, attachment.embedded) == (filename, embedded)
    assert attachment.conformance == conformance
    assert GUIDELINES[syntax].encode() + b"</ram:ID>" in attachment.xml  # type: ignore[index]


def test_documents_stored_before_e_invoices_still_decode() -> None:
    stored = json.loads(invoice(2).model_dump_json())
    for name in ("tax_number", "phone", "contact", "creditor_id"):
        del stored["seller"][name]
    for name in ("buyer_reference", "einvoice", "mandate"):
        del stored["draft"]["buyer"][name]

    decoded = Invoice.model_validate_json(json.dumps(stored))

    assert decoded.seller.tax_number is None
    assert decoded.draft.buyer.einvoice == "factur-x"
    assert decoded.draft.buyer.mandate is None
