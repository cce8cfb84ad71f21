"""A corpus of bad orders through the real handler: the right status, the field named, no write.

Every case starts from a plausible order and breaks one thing. The handler runs with in-memory
ports, so the test sees every write; a refused request must leave storage exactly as it was.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from functions.order_intake import handler
from localaws.lambda_runtime import LocalLambdaContext
from tests.unit.order_fakes import Intake, event, intake, sample_order

Order = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Order], Order]:
    """A mutation that puts ``value`` at a dotted path (list indexes as numbers)."""

    def mutate(order: Order) -> Order:
        target: Any = order
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return order

    return mutate


_DELETE = object()
BIG = "x" * 40_000


def _customer(**fields: Any) -> Callable[[Order], Order]:
    def mutate(order: Order) -> Order:
        order["customer"] = fields
        return order

    return mutate


def _items(*items: Any) -> Callable[[Order], Order]:
    return _set("items", list(items))


def _address(**fields: Any) -> Callable[[Order], Order]:
    def mutate(order: Order) -> Order:
        order["customer"]["billing_address"].update(fields)
        return order

    return mutate


def _domain(name: str, product: str = "DOM-DE") -> Callable[[Order], Order]:
    return _items({"product": product, "domains": [name]})


# (case id, mutation or raw body, status, field named in the answer)
CASES: list[tuple[str, Callable[[Order], Order] | str | bytes | None, int, str]] = [
    # bodies that are no order at all
    ("empty body", None, 400, "body"),
    ("not json", "{customer:", 400, "body"),
    ("json array", "[]", 400, "body"),
    ("json string", '"order"', 400, "body"),
    ("oversized body", json.dumps(sample_order(shop_reference=BIG)), 413, ""),
    ("invalid utf-8 (base64)", b"\xff\xfe{", 400, "body"),
    ("unknown top-level field", _set("discount", 100), 400, "discount"),
    ("items missing", _set("items", _DELETE), 400, "items"),
    ("items empty", _set("items", []), 400, "items"),
    ("items not a list", _set("items", {"product": "HOST-S"}), 400, "items"),
    ("too many items for the shape", _set("items", [{"product": "HOST-S"}] * 51), 400, "items"),
    ("customer missing", _set("customer", _DELETE), 400, "customer"),
    ("customer a string", _set("customer", "C0000042"), 400, "customer"),
    # wrong types
    (
        "quantity as string",
        _items({"product": "MAIL-5", "quantity": "2"}),
        400,
        "items[0].quantity",
    ),
    ("quantity as float", _items({"product": "MAIL-5", "quantity": 2.5}), 400, "items[0].quantity"),
    ("quantity as bool", _items({"product": "MAIL-5", "quantity": True}), 400, "items[0].quantity"),
    ("product as number", _items({"product": 17}), 400, "items[0].product"),
    ("domains a string", _items({"product": "DOM-DE", "domains": "a.de"}), 400, "items[0].domains"),
    ("consent as string", _set("payment.mandate_consent", "yes"), 400, "payment.mandate_consent"),
    ("email as list", _set("customer.email", ["a@b.de"]), 400, "customer.email"),
    (
        "postal code as number",
        _address(postal_code=20457),
        400,
        "customer.billing_address.postal_code",
    ),
    ("unknown customer type", _set("customer.type", "reseller"), 400, "customer.type"),
    ("unknown payment method", _set("payment", {"method": "cash"}), 400, "payment"),
    ("sepa without iban", _set("payment.iban", _DELETE), 400, "payment.iban"),
    ("unknown address field", _address(state="HH"), 400, "customer.billing_address.state"),
    ("name too long for the shape", _set("customer.name", "A" * 201), 400, "customer.name"),
    ("domain too long for the shape", _domain("a" * 301 + ".de"), 400, "items[0].domains[0]"),
    # customer
    ("new customer without name", _set("customer.name", _DELETE), 422, "customer.name"),
    (
        "new customer without address",
        _set("customer.billing_address", _DELETE),
        422,
        "customer.billing_address",
    ),
    ("malformed customer id", _customer(id="C12"), 422, "customer.id"),
    ("customer id with injection", _customer(id="C1' OR '1'='1"), 422, "customer.id"),
    ("unknown customer id", _customer(id="C0000099"), 422, "customer.id"),
    ("existing customer with new data", _customer(id="C0000042", name="Neu"), 422, "customer.name"),
    (
        "name with sql injection",
        _set("customer.name", "x'; DROP TABLE customers; --"),
        422,
        "customer.name",
    ),
    ("name with markup", _set("customer.name", "<script>alert(1)</script>"), 422, "customer.name"),
    (
        "name with template injection",
        _set("customer.name", "${jndi:ldap://x/a}"),
        422,
        "customer.name",
    ),
    ("name as spreadsheet formula", _set("customer.name", '=HYPERLINK("x")'), 422, "customer.name"),
    (
        "name with right-to-left override",
        _set("customer.name", "Anna \u202eMüller"),
        422,
        "customer.name",
    ),
    ("name with zero-width space", _set("customer.name", "An\u200bna"), 422, "customer.name"),
    ("name with control character", _set("customer.name", "Anna\x00Müller"), 422, "customer.name"),
    ("name not NFC", _set("customer.name", "Mu\u0308ller"), 422, "customer.name"),
    ("name blank", _set("customer.name", "   "), 422, "customer.name"),
    ("city with newline", _address(city="Hamburg\nBcc: x"), 422, "customer.billing_address.city"),
    ("street empty", _address(street=""), 422, "customer.billing_address.street"),
    # e-mail
    ("email without at", _set("customer.email", "info.example.org"), 422, "customer.email"),
    (
        "email with header injection",
        _set("customer.email", "a@b.de\r\nBcc: c@d.de"),
        422,
        "customer.email",
    ),
    (
        "email with unicode local part",
        _set("customer.email", "jürgen@example.org"),
        422,
        "customer.email",
    ),
    ("email with two ats", _set("customer.email", "a@b@example.org"), 422, "customer.email"),
    ("email with space", _set("customer.email", "anna müller@example.org"), 422, "customer.email"),
    # country and postal code
    ("country lower case", _address(country="de"), 422, "customer.billing_address.country"),
    ("country alpha-3", _address(country="DEU"), 422, "customer.billing_address.country"),
    (
        "country that does not exist",
        _address(country="XX"),
        422,
        "customer.billing_address.country",
    ),
    (
        "german postal code with 4 digits",
        _address(postal_code="2045"),
        422,
        "customer.billing_address.postal_code",
    ),
    (
        "german postal code with letters",
        _address(postal_code="2O457"),
        422,
        "customer.billing_address.postal_code",
    ),
    (
        "austrian postal code with 5 digits",
        _address(country="AT", postal_code="10100"),
        422,
        "customer.billing_address.postal_code",
    ),
    (
        "dutch postal code without letters",
        _address(country="NL", postal_code="1012"),
        422,
        "customer.billing_address.postal_code",
    ),
    (
        "postal code with markup",
        _address(postal_code="<b>1</b>"),
        422,
        "customer.billing_address.postal_code",
    ),
    # VAT id
    (
        "vat id with a bad check digit",
        _set("customer.vat_id", "DE123456789"),
        422,
        "customer.vat_id",
    ),
    ("vat id of another country", _set("customer.vat_id", "ATU13585627"), 422, "customer.vat_id"),
    ("vat id too short", _set("customer.vat_id", "DE12345"), 422, "customer.vat_id"),
    ("vat id for a consumer", _set("customer.type", "consumer"), 422, "customer.vat_id"),
    ("vat id outside the EU", _address(country="US", postal_code="10001"), 422, "customer.vat_id"),
    # payment
    (
        "iban with bad check digits",
        _set("payment.iban", "DE89370400440532013001"),
        422,
        "payment.iban",
    ),
    ("iban too short", _set("payment.iban", "DE8937040044"), 422, "payment.iban"),
    (
        "iban of an unknown country",
        _set("payment.iban", "XX89370400440532013000"),
        422,
        "payment.iban",
    ),
    (
        "iban outside SEPA",
        _set("payment.iban", "BR1800360305000010009795493C1"),
        422,
        "payment.iban",
    ),
    ("bic malformed", _set("payment.bic", "COBADE"), 422, "payment.bic"),
    ("bic of another country", _set("payment.bic", "BKAUATWWXXX"), 422, "payment.bic"),
    ("mandate not granted", _set("payment.mandate_consent", False), 422, "payment.mandate_consent"),
    ("account holder empty", _set("payment.account_holder", ""), 422, "payment.account_holder"),
    ("new customer without payment", _set("payment", _DELETE), 422, "payment"),
    # products, combinations and quantities
    ("unknown product", _items({"product": "HOST-XXL"}), 422, "items[0].product"),
    ("product with injection", _items({"product": "HOST-S' OR 1=1"}), 422, "items[0].product"),
    ("credit from the shop", _items({"product": "CREDIT-GOODWILL"}), 422, "items[0].product"),
    ("option ordered alone", _items({"product": "STORAGE-50"}), 422, "items[0].product"),
    (
        "option the package lacks",
        _items({"product": "VPS-2", "options": [{"product": "MAIL-5"}]}),
        422,
        "items[0].options[0].product",
    ),
    (
        "option on a domain",
        _items({"product": "DOM-DE", "domains": ["a-b.de"], "options": [{"product": "SSL-PRO"}]}),
        422,
        "items[0].options[0].product",
    ),
    (
        "option twice",
        _items({"product": "HOST-S", "options": [{"product": "SSL-PRO"}, {"product": "SSL-PRO"}]}),
        422,
        "items[0].options",
    ),
    ("quantity zero", _items({"product": "HOST-S", "quantity": 0}), 422, "items[0].quantity"),
    ("quantity negative", _items({"product": "HOST-S", "quantity": -1}), 422, "items[0].quantity"),
    (
        "quantity above the product's limit",
        _items({"product": "HOST-S", "quantity": 2}),
        422,
        "items[0].quantity",
    ),
    ("quantity huge", _items({"product": "HOST-S", "quantity": 10**30}), 422, "items[0].quantity"),
    (
        "option quantity above its limit",
        _items({"product": "HOST-S", "options": [{"product": "STORAGE-50", "quantity": 41}]}),
        422,
        "items[0].options[0].quantity",
    ),
    (
        "more items than an order may have",
        _set("items", [{"product": "MAG-WEB"}] * 21),
        422,
        "items",
    ),
    # domains
    ("domain product without domains", _items({"product": "DOM-DE"}), 422, "items[0].domains"),
    (
        "domains on a package",
        _items({"product": "HOST-S", "domains": ["a.de"]}),
        422,
        "items[0].domains",
    ),
    (
        "domain quantity not matching",
        _items({"product": "DOM-DE", "quantity": 2, "domains": ["a-b.de"]}),
        422,
        "items[0].quantity",
    ),
    ("domain of another tld", _domain("beispiel-shop.com"), 422, "items[0].domains[0]"),
    ("domain of a tld we do not sell", _domain("beispiel.xyz"), 422, "items[0].domains[0]"),
    ("subdomain", _domain("www.beispiel-shop.de"), 422, "items[0].domains[0]"),
    ("domain without tld", _domain("beispiel"), 422, "items[0].domains[0]"),
    ("domain label too long", _domain("a" * 64 + ".de"), 422, "items[0].domains[0]"),
    ("domain with leading hyphen", _domain("-beispiel.de"), 422, "items[0].domains[0]"),
    ("domain with double hyphen", _domain("ab--cd.de"), 422, "items[0].domains[0]"),
    ("domain with underscore", _domain("bei_spiel.de"), 422, "items[0].domains[0]"),
    ("domain with space", _domain("bei spiel.de"), 422, "items[0].domains[0]"),
    ("domain with shell injection", _domain("a.de;rm -rf /"), 422, "items[0].domains[0]"),
    ("domain with zero-width joiner", _domain("bei\u200dspiel.de"), 422, "items[0].domains[0]"),
    ("domain with bidi override", _domain("\u202ebeispiel.de"), 422, "items[0].domains[0]"),
    (
        "domain mixing latin and cyrillic",
        _domain("p\u0430ypal.com", "DOM-COM"),
        422,
        "items[0].domains[0]",
    ),
    ("domain empty", _domain(""), 422, "items[0].domains[0]"),
    ("domain with trailing dot", _domain("beispiel-shop.de."), 422, "items[0].domains[0]"),
    (
        "domain twice in one order",
        _items({"product": "DOM-DE", "domains": ["a-b.de", "A-B.de"]}),
        422,
        "items[0].domains[1]",
    ),
    # available in form, but not to be had
    ("domain registered elsewhere", _domain("google.de"), 409, "items[0].domains[0]"),
]


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Intake:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    fakes = intake()
    monkeypatch.setattr(handler, "order_api", lambda: fakes.api)
    return fakes


def context() -> LocalLambdaContext:
    return LocalLambdaContext(
        function_name="billing-order-intake",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:eu-central-1:123456789012:function:x",
        timeout_seconds=15,
        aws_request_id="test",
    )


def call(body: str | bytes | None, *, path: str = "/orders", key: str | None = None) -> Any:
    if isinstance(body, bytes):
        payload = event(path, base64.b64encode(body).decode(), key=key, base64=True)
    else:
        payload = event(path, body, key=key)
    return handler.handle(payload, context())


def body_of(case: Callable[[Order], Order] | str | bytes | None) -> str | bytes | None:
    if case is None or isinstance(case, str | bytes):
        return case
    return json.dumps(case(copy.deepcopy(sample_order())))


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "mutation", "status", "field"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_order_gets_its_status_names_its_field_and_writes_nothing(
    shop: Intake, case: str, mutation: Any, status: int, field: str
) -> None:
    before = shop.snapshot()

    answer = call(body_of(mutation))

    assert answer["statusCode"] == status, answer["body"]
    error = json.loads(answer["body"])["error"]
    assert error["message"]
    if field:
        assert field in [problem["field"] for problem in error["fields"]], error
    assert shop.snapshot() == before
    assert shop.contracts.writes == 0


def test_every_bad_field_of_one_order_is_listed(shop: Intake) -> None:
    order = sample_order()
    order["customer"]["email"] = "nope"
    order["customer"]["billing_address"]["postal_code"] = "1"
    order["payment"]["iban"] = "DE00"
    order["items"][1]["domains"] = ["-x.de"]

    answer = call(json.dumps(order))

    assert answer["statusCode"] == 422
    fields = {problem["field"] for problem in json.loads(answer["body"])["error"]["fields"]}
    assert fields == {
        "customer.email",
        "customer.billing_address.postal_code",
        "payment.iban",
        "items[1].domains[0]",
    }


def test_a_plausible_order_is_created_with_its_contracts_and_positions(shop: Intake) -> None:
    answer = call(json.dumps(sample_order()))

    assert answer["statusCode"] == 201, answer["body"]
    receipt = json.loads(answer["body"])
    assert receipt["order_id"].startswith("O")
    assert [c["product"] for c in receipt["contracts"]] == ["HOST-M", "DOM-DE"]
    assert receipt["contracts"][1]["domain"] == "xn--mller-bckerei-hfb76a.de"
    assert [p["product"] for p in receipt["contracts"][0]["positions"]] == ["HOST-M", "STORAGE-50"]
    assert len(shop.contracts.positions) == 3
    assert next(iter(shop.contracts.mandates.values())).creditor_id == "DE98ZZZ09999999999"


def test_a_malformed_idempotency_key_is_refused(shop: Intake) -> None:
    answer = call(json.dumps(sample_order()), key="a b")

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["fields"][0]["field"] == "idempotency-key"
    assert shop.snapshot() == intake().snapshot()
