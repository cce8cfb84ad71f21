"""Every issued document becomes a CII e-invoice that the official EN 16931 rules accept.

Invoices are composed from catalog products for each kind of customer, turned into XML and run
through the vendored CEN (and, for XRechnung, KoSIT) rules; key values are read back with lxml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest
from drafthorse.utils import validate_xml
from hypothesis import given, settings
from lxml import etree

from shared.catalog import position_for, shipped_catalog
from shared.contracts import Position
from shared.customers import Address, Customer, EInvoiceChoice
from shared.invoicing.cii import GUIDELINES, XML_DECLARATION, EInvoiceError, Syntax, cii_xml
from shared.invoicing.compose import compose_invoice
from shared.invoicing.corrections import reversed_draft
from shared.invoicing.model import Correction, Invoice, SepaMandate
from shared.periods import Period
from tests.unit.cii_oracle import cii_document
from tests.unit.fakes import SELLER
from tests.unit.test_properties import Case, draft_of, invoices
from tools.einvoice.validator import Validator, validator

PERIOD = Period(2026, 11)
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
LEITWEG_ID = "04011000-12345-03"
# Quarterly, in advance: its cycle from November to January is due in the November run.
MAGAZINE = ("MAG-WEB", date(2026, 8, 1), 1)


@pytest.fixture(scope="module")
def en16931() -> Validator:
    return validator()


@pytest.fixture(scope="module")
def xrechnung() -> Validator:
    return validator(xrechnung=True)


def buyer(
    country: str = "DE",
    *,
    kind: str = "consumer",
    vat_id: str | None = None,
    einvoice: EInvoiceChoice = "factur-x",
    reference: str | None = None,
    name: str = "Jürgen Müller",
) -> Customer:
    return Customer(
        customer_id="C0000042",
        name=name,
        email="kunde42@example.org",
        address=Address(street="Lindenallee 4", postal_code="10115", city="Ort", country=country),
        kind=kind,  # type: ignore[arg-type]
        vat_id=vat_id,
        shard=0,
        einvoice=einvoice,
        buyer_reference=reference,
    )


def ordered(customer: Customer, *products: str | tuple[str, date, int]) -> list[Position]:
    """Positions of catalog products, ordered on 1 January unless a start date is given."""
    catalog = shipped_catalog()
    positions = []
    for index, spec in enumerate(products, start=1):
        product_id, start, quantity = (
            spec if isinstance(spec, tuple) else (spec, date(2026, 1, 1), 1)
        )
        positions.append(
            position_for(
                catalog.get(product_id),
                position_id=f"K0000042-{index:02d}",
                customer_id=customer.customer_id,
                contract_id="K0000042",
                start=start,
                quantity=quantity,
            )
        )
    return positions


def issue(customer: Customer, *products: str | tuple[str, date, int]) -> Invoice:
    draft = compose_invoice(
        customer, ordered(customer, *products), PERIOD, catalog=shipped_catalog()
    )
    assert draft is not None
    return Invoice(
        number="RE-2026-00000042",
        run_id="run-2026-11",
        issue_date=date(2026, 12, 1),
        due_date=date(2026, 12, 15),
        seller=SELLER,
        draft=draft,
    )


def cancelled(original: Invoice) -> Invoice:
    return Invoice(
        document_type="cancellation",
        correction=Correction(
            refers_to=original.number,
            refers_to_date=original.issue_date,
            reason="Vertrag rückwirkend aufgehoben",
        ),
        number="GS-2026-00000007",
        run_id=original.run_id,
        issue_date=date(2026, 12, 10),
        due_date=date(2026, 12, 10),
        seller=original.seller,
        draft=reversed_draft(original.draft),
    )


def parsed(xml: bytes) -> Any:
    return etree.fromstring(xml)


def amount(tree: Any, path: str) -> Decimal:
    (text,) = tree.xpath(f"{path}/text()", namespaces=NS)
    return Decimal(text)


def texts(tree: Any, path: str) -> list[str]:
    return [str(value) for value in tree.xpath(f"{path}/text()", namespaces=NS)]


def assert_valid(checker: Validator, xml: bytes) -> None:
    report = checker.validate(xml)
    assert not report.fatal, "\n".join(str(finding) for finding in report.findings)


@dataclass(frozen=True)
class Kind:
    customer: Customer
    products: tuple[str | tuple[str, date, int], ...]
    categories: tuple[str, ...]


KINDS = {
    "german consumer, 19 and 7 %": Kind(
        buyer(), ("HOST-M", MAGAZINE, ("MAIL-5", date(2026, 1, 1), 3)), ("S", "S")
    ),
    "german business": Kind(
        buyer(kind="business", vat_id="DE136695976", name="Weber Bau GmbH"),
        ("HOST-L", ("DOM-DE", date(2025, 11, 1), 1)),
        ("S",),
    ),
    "french consumer at 20 %": Kind(buyer("FR"), ("HOST-S", "SSL-PRO"), ("S",)),
    "austrian consumer, two rates": Kind(buyer("AT"), ("HOST-M", MAGAZINE), ("S", "S")),
    "french business, reverse charge": Kind(
        buyer("FR", kind="business", vat_id="FR 40 303 265 045", name="Dupont SARL"),
        ("VPS-2", "STORAGE-50"),
        ("AE",),
    ),
    "swiss consumer, not subject": Kind(buyer("CH"), ("HOST-M", "FEE-PASS"), ("O",)),
    "us business, not subject": Kind(
        buyer("US", kind="business", vat_id="98-7654321", name="Acme Inc."),
        ("DED-1", MAGAZINE),
        ("O",),
    ),
    "exempt pass-through fee": Kind(
        buyer(), ("HOST-S", ("FEE-PASS", date(2026, 11, 3), 2)), ("S", "E")
    ),
    "prorated line": Kind(buyer(), (("HOST-M", date(2026, 11, 16), 1),), ("S",)),
    "goodwill credit": Kind(
        buyer(), ("HOST-L", ("CREDIT-GOODWILL", date(2026, 11, 20), 2)), ("S",)
    ),
    "multi-rate": Kind(
        buyer(), ("DED-1", MAGAZINE, ("FEE-PASS", date(2026, 11, 5), 1)), ("S", "S", "E")
    ),
}


@pytest.mark.parametrize("case", KINDS.values(), ids=KINDS.keys())
def test_each_kind_of_customer_gets_a_valid_en16931_invoice(case: Kind, en16931: Validator) -> None:
    issued = issue(case.customer, *case.products)

    xml = cii_xml(issued, syntax="factur-x")

    assert_valid(en16931, xml)
    tree = parsed(xml)
    assert texts(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode") == list(
        case.categories
    )
    assert texts(tree, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert_totals(tree, issued, sign=1)


def assert_totals(tree: Any, issued: Invoice, *, sign: int) -> None:
    draft = issued.draft
    assert amount(tree, f"{TOTALS}/ram:LineTotalAmount") == sign * draft.net
    assert amount(tree, f"{TOTALS}/ram:TaxBasisTotalAmount") == sign * draft.net
    assert amount(tree, f"{TOTALS}/ram:TaxTotalAmount[@currencyID='EUR']") == sign * draft.vat
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == sign * draft.gross
    assert amount(tree, f"{TOTALS}/ram:DuePayableAmount") == sign * draft.gross
    breakdown = tree.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NS)
    assert [
        (amount(tax, "ram:BasisAmount"), amount(tax, "ram:CalculatedAmount")) for tax in breakdown
    ] == [(sign * group.net, sign * group.vat) for group in draft.vat_groups]


@pytest.mark.parametrize(
    ("country", "rates"), [("DE", ["19", "7"]), ("FR", ["20", "2.1"]), ("AT", ["20", "10"])]
)
def test_consumers_pay_their_countrys_rates(country: str, rates: list[str]) -> None:
    tree = parsed(cii_xml(issue(buyer(country), "HOST-S", MAGAZINE), syntax="factur-x"))

    breakdown = f"{SETTLEMENT}/ram:ApplicableTradeTax"
    assert texts(tree, f"{breakdown}/ram:RateApplicablePercent") == rates
    line_rates = (
        "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"
    )
    assert texts(tree, line_rates) == rates


def test_reverse_charge_shows_both_vat_ids_and_the_reason() -> None:
    case = KINDS["french business, reverse charge"]
    tree = parsed(cii_xml(issue(case.customer, *case.products), syntax="factur-x"))

    assert texts(tree, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        SELLER.vat_id
    ]
    assert texts(tree, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == [
        "FR40303265045"
    ]
    assert texts(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == [
        "VATEX-EU-AE"
    ]


def test_not_subject_shows_the_tax_number_instead_of_any_vat_id() -> None:
    case = KINDS["us business, not subject"]
    tree = parsed(cii_xml(issue(case.customer, *case.products), syntax="factur-x"))

    registrations = tree.xpath("//ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
    assert [(r.get("schemeID"), r.text) for r in registrations] == [("FC", SELLER.tax_number)]
    assert texts(tree, "//ram:ApplicableTradeTax/ram:RateApplicablePercent") == []
    assert texts(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:ExemptionReasonCode") == [
        "VATEX-EU-O"
    ]


def test_exempt_group_names_its_reason() -> None:
    case = KINDS["exempt pass-through fee"]
    tree = parsed(cii_xml(issue(case.customer, *case.products), syntax="factur-x"))

    exempt = f"{SETTLEMENT}/ram:ApplicableTradeTax[ram:CategoryCode='E']"
    assert texts(tree, f"{exempt}/ram:ExemptionReasonCode") == ["VATEX-EU-79-C"]
    assert texts(tree, f"{exempt}/ram:ExemptionReason")[0].startswith("Durchlaufender Posten")


def test_a_prorated_line_is_billed_in_days_at_the_cycle_price() -> None:
    issued = issue(buyer(), ("HOST-M", date(2026, 11, 16), 1))
    tree = parsed(cii_xml(issued, syntax="factur-x"))

    line = "//ram:IncludedSupplyChainTradeLineItem"
    assert tree.xpath(f"{line}//ram:BilledQuantity/@unitCode", namespaces=NS) == ["DAY"]
    assert amount(tree, f"{line}//ram:BilledQuantity") == 15
    assert amount(tree, f"{line}//ram:NetPriceProductTradePrice/ram:ChargeAmount") == Decimal(
        "9.99"
    )
    assert amount(tree, f"{line}//ram:NetPriceProductTradePrice/ram:BasisQuantity") == 30
    assert amount(tree, f"{line}//ram:LineTotalAmount") == Decimal("5.00")
    assert texts(tree, f"{line}//ram:IncludedNote/ram:Content") == ["Anteilig 15 von 30 Tagen"]
    assert texts(tree, f"{line}//ram:BillingSpecifiedPeriod//udt:DateTimeString") == [
        "20261116",
        "20261130",
    ]


def test_a_credit_line_carries_its_sign_in_the_quantity() -> None:
    issued = issue(buyer(), "HOST-L", ("CREDIT-GOODWILL", date(2026, 11, 20), 2))
    tree = parsed(cii_xml(issued, syntax="factur-x"))

    credit = "//ram:IncludedSupplyChainTradeLineItem[2]"
    assert amount(tree, f"{credit}//ram:BilledQuantity") == -2
    assert amount(tree, f"{credit}//ram:NetPriceProductTradePrice/ram:ChargeAmount") == Decimal(
        "5.00"
    )
    assert amount(tree, f"{credit}//ram:LineTotalAmount") == Decimal("-10.00")


def test_the_invoicing_period_spans_every_line_period() -> None:
    case = KINDS["german business"]
    tree = parsed(cii_xml(issue(case.customer, *case.products), syntax="factur-x"))

    period = f"{SETTLEMENT}/ram:BillingSpecifiedPeriod//udt:DateTimeString"
    assert texts(tree, period) == ["20261101", "20271031"]


def test_a_cancellation_is_a_credit_note_with_positive_amounts_naming_the_original(
    en16931: Validator,
) -> None:
    case = KINDS["french business, reverse charge"]
    original = issue(case.customer, *case.products)
    cancellation = cancelled(original)

    xml = cii_xml(cancellation, syntax="factur-x")

    assert_valid(en16931, xml)
    tree = parsed(xml)
    assert texts(tree, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    reference = f"{SETTLEMENT}/ram:InvoiceReferencedDocument"
    assert texts(tree, f"{reference}/ram:IssuerAssignedID") == [original.number]
    assert texts(tree, f"{reference}//*[local-name()='DateTimeString']") == ["20261201"]
    assert texts(tree, f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CategoryCode") == ["AE"]
    assert_totals(tree, cancellation, sign=-1)
    assert amount(tree, f"{TOTALS}/ram:GrandTotalAmount") == original.draft.gross > 0


def test_a_cancelled_credit_line_keeps_its_sign_against_the_other_lines(
    en16931: Validator,
) -> None:
    original = issue(buyer(), "HOST-L", ("CREDIT-GOODWILL", date(2026, 11, 20), 1))

    xml = cii_xml(cancelled(original), syntax="factur-x")

    assert_valid(en16931, xml)
    quantities = texts(parsed(xml), "//ram:BilledQuantity")
    assert [Decimal(q) for q in quantities] == [1, -1]


def public_buyer(einvoice: EInvoiceChoice = "xrechnung-embedded") -> Customer:
    return buyer(kind="business", name="Bezirksamt Mitte", einvoice=einvoice, reference=LEITWEG_ID)


def test_a_public_buyer_gets_a_valid_xrechnung(xrechnung: Validator) -> None:
    issued = issue(public_buyer(), "HOST-L", MAGAZINE, ("FEE-PASS", date(2026, 11, 2), 1))

    xml = cii_xml(issued, syntax="xrechnung")

    assert_valid(xrechnung, xml)
    tree = parsed(xml)
    assert texts(tree, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        GUIDELINES["xrechnung"]
    ]
    assert texts(tree, "//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference") == [LEITWEG_ID]
    assert_totals(tree, issued, sign=1)


@pytest.mark.parametrize(
    "products",
    [
        ("HOST-M", MAGAZINE),
        (("HOST-M", date(2026, 11, 16), 1), ("CREDIT-GOODWILL", date(2026, 11, 20), 1)),
    ],
    ids=["two rates", "prorated and credit"],
)
def test_xrechnung_rules_pass_for_cancellations_and_prorated_lines(
    products: tuple[str | tuple[str, date, int], ...], xrechnung: Validator
) -> None:
    original = issue(public_buyer(), *products)

    for document in (original, cancelled(original)):
        report = xrechnung.validate(cii_xml(document, syntax="xrechnung"))
        assert not report.fatal, report.findings
        assert "PEPPOL-EN16931-R120" not in report.rules("warning")


def test_xrechnung_without_a_leitweg_id_or_seller_phone_is_refused() -> None:
    issued = issue(buyer(), "HOST-M")
    no_phone = issued.model_copy(update={"seller": SELLER.model_copy(update={"phone": None})})

    with pytest.raises(EInvoiceError, match=r"buyer reference \(BT-10, BR-DE-15\)"):
        cii_xml(issued, syntax="xrechnung")
    with pytest.raises(EInvoiceError, match=r"seller phone \(BT-42, BR-DE-6\)"):
        cii_xml(no_phone, syntax="xrechnung")


def with_mandate(issued: Invoice) -> Invoice:
    mandate = SepaMandate(reference="MANDAT-C0000042-1", iban="DE89370400440532013000")
    payer = issued.draft.buyer.model_copy(update={"mandate": mandate})
    return issued.model_copy(update={"draft": issued.draft.model_copy(update={"buyer": payer})})


def test_a_buyer_with_a_mandate_is_debited(xrechnung: Validator) -> None:
    issued = with_mandate(issue(public_buyer(), "HOST-M"))

    xml = cii_xml(issued, syntax="xrechnung")

    assert_valid(xrechnung, xml)
    tree = parsed(xml)
    assert texts(tree, f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == [
        "59"
    ]
    assert texts(tree, f"{SETTLEMENT}/ram:CreditorReferenceID") == [SELLER.creditor_id]
    assert texts(tree, "//ram:DirectDebitMandateID") == ["MANDAT-C0000042-1"]
    assert texts(tree, "//ram:PayerPartyDebtorFinancialAccount/ram:IBANID") == [
        "DE89370400440532013000"
    ]


def test_a_direct_debit_without_the_sellers_creditor_id_is_refused() -> None:
    issued = with_mandate(issue(buyer(), "HOST-M"))
    no_creditor = issued.model_copy(
        update={"seller": SELLER.model_copy(update={"creditor_id": None})}
    )

    with pytest.raises(EInvoiceError, match="creditor id"):
        cii_xml(no_creditor, syntax="factur-x")


def drafthorse_xml(issued: Invoice, syntax: Syntax) -> bytes:
    """What drafthorse writes for the document, serialized as cii_xml serializes."""
    root = cii_document(issued, syntax=syntax).to_etree()
    return XML_DECLARATION + ElementTree.tostring(root, encoding="unicode").encode()


def every_kind_of_document() -> Iterator[tuple[str, Invoice, Syntax]]:
    for name, kind in KINDS.items():
        issued = issue(kind.customer, *kind.products)
        yield name, issued, "factur-x"
        yield f"{name}, cancelled", cancelled(issued), "factur-x"
        yield f"{name}, debited", with_mandate(issued), "factur-x"
    for products in (("HOST-L", MAGAZINE), (("HOST-M", date(2026, 11, 16), 1), "CREDIT-GOODWILL")):
        public = issue(public_buyer(), *products)
        for document in (public, cancelled(public), with_mandate(public)):
            yield f"xrechnung {document.number} {products}", document, "xrechnung"


def test_the_xml_is_byte_for_byte_what_drafthorse_writes_for_every_kind_of_document() -> None:
    compared = 0
    for name, document, syntax in every_kind_of_document():
        assert cii_xml(document, syntax=syntax) == drafthorse_xml(document, syntax), name
        compared += 1

    assert compared == 3 * len(KINDS) + 6


def test_drafthorse_accepts_the_xml_against_its_factur_x_xsd() -> None:
    """drafthorse pretty-prints and declares unused namespaces; the content is the same."""
    for kind in KINDS.values():
        issued = issue(kind.customer, *kind.products)
        xml = cii_xml(issued, syntax="factur-x")
        checked = cii_document(issued, syntax="factur-x").serialize(schema="FACTUR-X_EN16931")

        # validate_xml raises where the XSD refuses the document, and writes it out again.
        assert canonical(validate_xml(xml, "FACTUR-X_EN16931")) == canonical(checked)
        assert canonical(xml) == canonical(checked)


def canonical(xml: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True)
    return etree.tostring(etree.fromstring(xml, parser), method="c14n", exclusive=True)


def test_the_same_invoice_gives_the_same_bytes() -> None:
    case = KINDS["multi-rate"]

    assert cii_xml(issue(case.customer, *case.products), syntax="factur-x") == cii_xml(
        issue(case.customer, *case.products), syntax="factur-x"
    )


def test_the_xml_is_what_elementtree_writes_with_its_declaration() -> None:
    case = KINDS["multi-rate"]
    issued = issue(case.customer, *case.products)
    root = cii_document(issued, syntax="factur-x").to_etree()

    expected = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    assert cii_xml(issued, syntax="factur-x") == expected
    assert not expected.isascii()  # umlauts of the seller's address, encoded alike


def test_tampered_totals_are_fatal(en16931: Validator) -> None:
    issued = issue(buyer(), "HOST-M", MAGAZINE)
    xml = cii_xml(issued, syntax="factur-x")
    gross = f"<ram:GrandTotalAmount>{issued.draft.gross}</ram:GrandTotalAmount>".encode()
    assert gross in xml

    report = en16931.validate(
        xml.replace(gross, b"<ram:GrandTotalAmount>1.00</ram:GrandTotalAmount>")
    )

    assert report.fatal
    assert "BR-CO-15" in report.rules()


def test_a_document_that_is_not_xml_is_fatal(en16931: Validator) -> None:
    report = en16931.validate(b"<rsm:CrossIndustryInvoice")

    assert report.fatal
    assert report.rules() == {"XML"}


def test_an_xrechnung_rule_fails_where_only_the_xrechnung_rules_look(
    en16931: Validator, xrechnung: Validator
) -> None:
    xml = cii_xml(issue(buyer(), "HOST-M"), syntax="factur-x")

    assert not en16931.validate(xml).fatal
    assert "BR-DE-15" in xrechnung.validate(xml).rules()


@settings(max_examples=40, deadline=None)
@given(invoices())
def test_any_composed_invoice_is_valid_and_its_xml_totals_are_the_invoices(case: Case) -> None:
    draft = draft_of(case)
    issued = Invoice(
        number="RE-2026-00000001",
        run_id="run",
        issue_date=date(2029, 1, 2),
        due_date=date(2029, 1, 16),
        seller=SELLER,
        draft=draft,
    )

    xml = cii_xml(issued, syntax="factur-x")

    assert_valid(validator(), xml)
    assert_totals(parsed(xml), issued, sign=1)
    assert xml == drafthorse_xml(issued, "factur-x")
    assert cii_xml(cancelled(issued), syntax="factur-x") == drafthorse_xml(
        cancelled(issued), "factur-x"
    )
