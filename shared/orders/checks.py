"""Plausibility: a well-formed order whose every field could be true.

Each check returns the problems it finds instead of stopping at the first, so an answer lists
every implausible field. Nothing here reads or writes storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat as eu_vat

from shared.catalog import Catalog, UnknownProductError
from shared.orders.domains import InvalidDomainError, parse_domain
from shared.orders.errors import Problem
from shared.orders.places import SEPA_COUNTRIES, country_codes, postal_code_problem
from shared.orders.requests import AddressIn, CustomerIn, ItemIn, OrderRequest, SepaDebitIn
from shared.orders.rules import OrderRules
from shared.orders.text import text_problem
from shared.vat_ids import InvalidVatIdError, validate_vat_id

CUSTOMER_ID = re.compile(r"C[0-9]{7,12}")
NEW_CUSTOMER_FIELDS = ("name", "email", "type", "billing_address")


@dataclass(frozen=True)
class CheckContext:
    catalog: Catalog
    rules: OrderRules
    # Bulk feeds may order credits, usage and pass-through fees; the shop may not.
    feed: bool = False
    # Each valid e-mail address of the order with its normal form, so that it is validated once.
    checked_emails: dict[str, str] = field(default_factory=dict)


def check_order(order: OrderRequest, context: CheckContext) -> list[Problem]:
    problems = list(check_customer(order.customer, context))
    if order.payment is None and order.customer.id is None:
        problems.append(Problem("payment", "missing", "a new customer must choose how to pay"))
    if isinstance(order.payment, SepaDebitIn):
        problems += check_sepa(order.payment)
    problems += check_items(order.items, context)
    return problems


def check_customer(customer: CustomerIn, context: CheckContext) -> Iterator[Problem]:
    if customer.id is not None:
        if not CUSTOMER_ID.fullmatch(customer.id):
            yield Problem("customer.id", "customer_id", "is not a customer number like C0000001")
        given = [name for name in (*NEW_CUSTOMER_FIELDS, "vat_id") if getattr(customer, name)]
        for name in given:
            yield Problem(
                f"customer.{name}",
                "existing_customer",
                "is not taken for an existing customer: change customer data apart from an order",
            )
        return
    for name in NEW_CUSTOMER_FIELDS:
        if getattr(customer, name) is None:
            yield Problem(f"customer.{name}", "missing", "a new customer needs it")
    yield from _text("customer.name", customer.name, 160)
    if customer.email is not None:
        yield from check_email("customer.email", customer.email, context.checked_emails)
    if customer.billing_address is not None:
        yield from check_address("customer.billing_address", customer.billing_address)
        yield from check_vat_id(customer)


def _text(field: str, value: str | None, max_length: int) -> Iterator[Problem]:
    problem = None if value is None else text_problem(value, max_length=max_length)
    if problem:
        yield Problem(field, "text", problem)


def check_email(field: str, email: str, checked: dict[str, str]) -> Iterator[Problem]:
    """Refuses what we cannot write to; notes the normal form of what we can in ``checked``."""
    try:
        valid = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        yield Problem(field, "email", f"is not an e-mail address we can write to: {error}")
        return
    checked[email] = valid.normalized


def check_address(field: str, address: AddressIn) -> Iterator[Problem]:
    yield from _text(f"{field}.street", address.street, 120)
    yield from _text(f"{field}.city", address.city, 80)
    if address.country not in country_codes():
        yield Problem(f"{field}.country", "country", "is not an ISO 3166-1 alpha-2 code like DE")
        return
    problem = postal_code_problem(address.postal_code, address.country)
    if problem:
        yield Problem(f"{field}.postal_code", "postal_code", problem)


def check_vat_id(customer: CustomerIn) -> Iterator[Problem]:
    if customer.vat_id is None or customer.billing_address is None:
        return
    if customer.type != "business":
        yield Problem("customer.vat_id", "vat_id", "only a business customer has a VAT id")
        return
    country = customer.billing_address.country
    if country.lower() not in eu_vat.MEMBER_STATES:
        yield Problem("customer.vat_id", "vat_id", "only VAT ids of EU member states are taken")
        return
    try:
        validate_vat_id(customer.vat_id, country)
    except InvalidVatIdError as error:
        yield Problem("customer.vat_id", f"vat_id_{error.problem}", str(error))


def check_sepa(payment: SepaDebitIn) -> Iterator[Problem]:
    yield from _text("payment.account_holder", payment.account_holder, 70)
    if payment.mandate_consent is not True:
        yield Problem("payment.mandate_consent", "mandate", "the debtor must grant the mandate")
    try:
        iban = IBAN(payment.iban)
    except SchwiftyException as error:
        yield Problem("payment.iban", "iban", f"is not a valid IBAN: {error}")
        return
    if iban.country_code not in SEPA_COUNTRIES:
        yield Problem("payment.iban", "iban_sepa", "is not an account in the SEPA zone")
    if payment.bic is not None:
        yield from _check_bic(payment.bic, iban.country_code)


def _check_bic(raw: str, iban_country: str) -> Iterator[Problem]:
    try:
        bic = BIC(raw)
    except SchwiftyException as error:
        yield Problem("payment.bic", "bic", f"is not a valid BIC: {error}")
        return
    if bic.country_code != iban_country:
        yield Problem("payment.bic", "bic_country", "is not of the IBAN's country")


def check_items(items: list[ItemIn], context: CheckContext) -> Iterator[Problem]:
    if len(items) > context.rules.max_items:
        yield Problem("items", "items", f"an order has at most {context.rules.max_items} items")
    seen: set[str] = set()
    domains = 0
    for index, item in enumerate(items):
        yield from check_item(f"items[{index}]", item, context, seen)
        domains += len(item.domains)
    if domains > context.rules.max_domains_per_order:
        limit = context.rules.max_domains_per_order
        yield Problem("items", "domains", f"an order has at most {limit} domains")


def check_item(
    field: str, item: ItemIn, context: CheckContext, seen: set[str]
) -> Iterator[Problem]:
    try:
        product = context.catalog.get(item.product)
    except UnknownProductError:
        yield Problem(f"{field}.product", "product", "is not a product we sell")
        return
    if not _orderable(item.product, context):
        yield Problem(f"{field}.product", "product_not_orderable", "cannot be ordered on its own")
        return
    if product.kind == "domain":
        yield from _check_domains(field, item, product.tld or "", seen)
    else:
        yield from _check_quantity(f"{field}.quantity", _units(item), product.max_quantity)
        if item.domains:
            yield Problem(f"{field}.domains", "domains", "only a domain product takes domains")
    yield from _check_options(field, item, context)


def _orderable(product_id: str, context: CheckContext) -> bool:
    if product_id in context.rules.shop_products:
        return True
    return context.feed and product_id in context.rules.feed_products


def _check_quantity(field: str, quantity: int, maximum: int) -> Iterator[Problem]:
    if not 1 <= quantity <= maximum:
        yield Problem(field, "quantity", f"must be from 1 to {maximum}")


def _check_options(field: str, item: ItemIn, context: CheckContext) -> Iterator[Problem]:
    allowed = context.rules.options.get(item.product, frozenset())
    for index, option in enumerate(item.options):
        where = f"{field}.options[{index}]"
        if option.product not in allowed:
            yield Problem(f"{where}.product", "option", f"is not an option of {item.product}")
            continue
        maximum = context.catalog.get(option.product).max_quantity
        yield from _check_quantity(f"{where}.quantity", option.quantity, maximum)
    products = [option.product for option in item.options]
    if len(set(products)) != len(products):
        yield Problem(f"{field}.options", "option_twice", "names an option more than once")


def _check_domains(field: str, item: ItemIn, tld: str, seen: set[str]) -> Iterator[Problem]:
    if not item.domains:
        yield Problem(f"{field}.domains", "domains", "a domain product needs the domain names")
    if item.quantity is not None and item.quantity != len(item.domains):
        yield Problem(f"{field}.quantity", "quantity", "must be the number of domains, or absent")
    for index, raw in enumerate(item.domains):
        where = f"{field}.domains[{index}]"
        try:
            name = parse_domain(raw)
        except InvalidDomainError as error:
            yield Problem(where, error.code, str(error))
            continue
        if name.tld != tld:
            yield Problem(where, "domain_tld", f"is not a .{tld} name")
        elif name.ascii in seen:
            yield Problem(where, "domain_twice", "appears twice in this order")
        seen.add(name.ascii)


def _units(item: ItemIn) -> int:
    return 1 if item.quantity is None else item.quantity
