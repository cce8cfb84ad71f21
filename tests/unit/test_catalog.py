import json
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from shared.catalog import Catalog, Product, UnknownProductError, position_for, shipped_catalog
from shared.tax import TaxCategory

# The shipped catalog has an exempt product; it loads once tax.py knows the exempt category.
needs_exempt = pytest.mark.skipif(
    "exempt" not in {category.value for category in TaxCategory},
    reason="TaxCategory has no 'exempt' member yet",
)


def product(**fields: Any) -> dict[str, Any]:
    values = {
        "product_id": "HOST-S",
        "name": "Webhosting S",
        "kind": "hosting",
        "unit_net": "4.99",
        "billing_period": "monthly",
        "timing": "advance",
        "tax_category": "standard",
    }
    return values | fields


def catalog_of(*products: dict[str, Any]) -> Catalog:
    return Catalog.from_json(json.dumps({"products": list(products)}))


def test_the_catalog_file_ships_inside_the_shared_package() -> None:
    data = resources.files("shared") / "data/catalog.json"

    assert data.is_file()
    assert json.loads(data.read_text(encoding="utf-8"))["products"]


@needs_exempt
def test_the_shipped_catalog_sells_hosting_domains_add_ons_and_fees() -> None:
    catalog = shipped_catalog()

    by_kind = {
        kind: {p.product_id for p in catalog if p.kind == kind} for kind in ("hosting", "addon")
    }
    assert {"HOST-S", "HOST-M", "HOST-L", "VPS-2", "DED-1"} <= by_kind["hosting"]
    assert {"STORAGE-50", "SSL-PRO", "MAIL-5"} <= by_kind["addon"]
    assert catalog.get("SETUP-SRV").billing_period == "once"
    assert catalog.get("TRAFFIC-TB").timing == "arrears"
    assert catalog.get("MAG-WEB").tax_category is TaxCategory.REDUCED
    assert catalog.get("FEE-PASS").tax_category == TaxCategory("exempt")


@needs_exempt
@pytest.mark.parametrize("tld", ["de", "com", "net", "org", "eu", "shop"])
def test_the_shipped_catalog_prices_domains_per_tld_yearly_in_advance(tld: str) -> None:
    domain = shipped_catalog().domain(tld)

    assert (domain.kind, domain.tld) == ("domain", tld)
    assert (domain.billing_period, domain.timing) == ("yearly", "advance")
    assert domain.unit_net > 0


@needs_exempt
def test_the_shipped_catalog_is_read_once() -> None:
    assert shipped_catalog() is shipped_catalog()


def test_get_returns_the_product_by_id() -> None:
    catalog = catalog_of(product(), product(product_id="HOST-M", unit_net="9.99"))

    assert catalog.get("HOST-M").unit_net == Decimal("9.99")
    assert "HOST-S" in catalog
    assert len(catalog) == 2


def test_an_unknown_product_is_an_error_naming_it() -> None:
    catalog = catalog_of(product())

    with pytest.raises(UnknownProductError, match="'HOST-XL'") as raised:
        catalog.get("HOST-XL")

    assert raised.value.product_id == "HOST-XL"
    assert isinstance(raised.value, LookupError)


def test_domain_accepts_a_leading_dot_and_any_case() -> None:
    catalog = catalog_of(
        product(product_id="DOM-DE", kind="domain", tld="de", billing_period="yearly")
    )

    assert catalog.domain(".DE").product_id == "DOM-DE"
    with pytest.raises(UnknownProductError, match=r"\.shop"):
        catalog.domain("shop")


def test_a_product_id_may_appear_only_once() -> None:
    with pytest.raises(ValueError, match="'HOST-S' appears twice"):
        catalog_of(product(), product(name="Webhosting S neu"))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"unit_net": "-1.00"}, "unit_net must not be negative"),
        ({"unit_net": "1.00001"}, "decimal places"),
        ({"kind": "domain"}, "tld is required"),
        ({"tld": "de"}, "tld is required"),
        ({"kind": "domain", "tld": "DE!"}, "pattern"),
        ({"kind": "credit", "unit_net": "-5.00"}, "credit must be 'once'"),
        ({"kind": "credit", "billing_period": "once"}, "credit must be negative"),
        ({"billing_period": "weekly"}, "billing_period"),
        ({"timing": "sometimes"}, "timing"),
        ({"tax_category": "luxury"}, "tax_category"),
        ({"max_quantity": 0}, "max_quantity"),
        ({"product_id": "host s"}, "product_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_product_is_refused_with_the_reason(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        catalog_of(product(**fields))


def test_position_for_copies_the_price_and_cycle_valid_when_ordered() -> None:
    domain = Product.model_validate(
        product(
            product_id="DOM-DE",
            name="Domain .de (1 Jahr)",
            kind="domain",
            tld="de",
            unit_net="9.90",
            billing_period="yearly",
        )
    )

    position = position_for(
        domain,
        position_id="K0000001-03",
        customer_id="C0000001",
        contract_id="K0000001",
        start=date(2026, 3, 15),
        billing_anchor="start",
        description="Domain beispiel.de",
    )

    assert (position.product_id, position.kind, position.unit_net) == (
        "DOM-DE",
        "domain",
        Decimal("9.90"),
    )
    assert (position.billing_period, position.timing, position.billing_anchor) == (
        "yearly",
        "advance",
        "start",
    )
    assert (position.description, position.quantity, position.start) == (
        "Domain beispiel.de",
        1,
        date(2026, 3, 15),
    )


def test_position_for_keeps_the_quantity_within_the_products_maximum() -> None:
    mailbox = Product.model_validate(product(product_id="MAIL-5", kind="addon", max_quantity=10))
    order: dict[str, Any] = {"position_id": "K1-02", "customer_id": "C1", "contract_id": "K1"}

    assert position_for(mailbox, start=date(2026, 1, 1), quantity=10, **order).quantity == 10
    with pytest.raises(ValueError, match="quantity 11 exceeds max_quantity 10 of product 'MAIL-5'"):
        position_for(mailbox, start=date(2026, 1, 1), quantity=11, **order)
