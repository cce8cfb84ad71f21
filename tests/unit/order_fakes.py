"""In-memory order intake: the ports with DynamoDB's conditional semantics, and sample orders."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from functions.order_intake.api import OrderApi
from shared.catalog import shipped_catalog
from shared.contracts import Position
from shared.customers import Address, Customer, shard_of
from shared.orders.changes import ContractChanges
from shared.orders.model import Mandate, StoredOrder
from shared.orders.registry import LocalRegistry
from shared.orders.rules import shipped_rules
from shared.orders.service import OrderPolicy, OrderService

SHARDS = 8
TODAY = date(2026, 11, 10)
EXISTING = "C0000042"


@dataclass
class FakeInventory:
    domains: dict[str, str] = field(default_factory=dict)
    stock: dict[str, dict[str, int]] = field(default_factory=dict)

    def claim_domain(self, domain: str, *, order_id: str, customer_id: str) -> bool:
        return self.domains.setdefault(domain, order_id) == order_id

    def release_domain(self, domain: str, *, order_id: str) -> None:
        if self.domains.get(domain) == order_id:
            del self.domains[domain]

    def reserve(self, product_id: str, *, order_id: str, quantity: int, stock: int) -> bool:
        holders = self.stock.setdefault(product_id, {})
        if order_id in holders:
            return True
        if sum(holders.values()) + quantity > stock:
            return False
        holders[order_id] = quantity
        return True

    def release(self, product_id: str, *, order_id: str) -> None:
        self.stock.get(product_id, {}).pop(order_id, None)


@dataclass
class FakeOrderBook:
    orders: dict[str, str] = field(default_factory=dict)

    def get(self, order_id: str) -> StoredOrder | None:
        text = self.orders.get(order_id)
        return StoredOrder.model_validate_json(text) if text else None

    def create(self, order: StoredOrder) -> bool:
        if order.order_id in self.orders:
            return False
        self.orders[order.order_id] = order.model_dump_json()
        return True

    def replace(self, order: StoredOrder, *, expected_version: int) -> bool:
        current = self.get(order.order_id)
        if current is None or current.version != expected_version:
            return False
        self.orders[order.order_id] = order.model_dump_json()
        return True


@dataclass
class FakeCustomerContracts:
    customers: dict[str, Customer] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    mandates: dict[str, Mandate] = field(default_factory=dict)
    writes: int = 0

    def find_customer(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def write(
        self,
        *,
        customer: Customer | None,
        shard: int,
        positions: Sequence[Position],
        mandate: Mandate | None,
    ) -> None:
        self.writes += 1
        if customer is not None:
            self.customers[customer.customer_id] = customer
        for position in positions:
            self.positions[position.position_id] = position
        if mandate is not None:
            self.mandates[mandate.reference] = mandate


@dataclass
class Intake:
    inventory: FakeInventory
    orders: FakeOrderBook
    contracts: FakeCustomerContracts
    service: OrderService
    changes: ContractChanges
    api: OrderApi

    def snapshot(self) -> str:
        """Everything stored, to compare before and after a refused request."""
        return json.dumps(
            [
                copy.deepcopy(self.inventory.domains),
                copy.deepcopy(self.inventory.stock),
                self.orders.orders,
                sorted(self.contracts.customers),
                sorted(self.contracts.positions),
                sorted(self.contracts.mandates),
            ],
            sort_keys=True,
        )


def existing_customer() -> Customer:
    return Customer(
        customer_id=EXISTING,
        name="Grete Becker",
        email="grete@example.org",
        address=Address(street="Weg 1", postal_code="20095", city="Hamburg", country="DE"),
        shard=shard_of(EXISTING, SHARDS),
    )


def intake(today: date = TODAY) -> Intake:
    inventory, orders, contracts = FakeInventory(), FakeOrderBook(), FakeCustomerContracts()
    contracts.customers[EXISTING] = existing_customer()
    service = OrderService(
        catalog=shipped_catalog(),
        rules=shipped_rules(),
        registry=LocalRegistry(),
        inventory=inventory,
        orders=orders,
        contracts=contracts,
        policy=OrderPolicy(shard_count=SHARDS, creditor_id="DE98ZZZ09999999999"),
        today=lambda: today,
    )
    changes = ContractChanges(
        catalog=shipped_catalog(),
        rules=shipped_rules(),
        inventory=inventory,
        orders=orders,
        contracts=contracts,
        today=lambda: today,
    )
    api = OrderApi(service=service, changes=changes, today=lambda: today)
    return Intake(inventory, orders, contracts, service, changes, api)


def sample_order(**changes: Any) -> dict[str, Any]:
    """A plausible order of a new business customer: a package with options and a domain."""
    order: dict[str, Any] = {
        "customer": {
            "name": "Bäckerei Müller GmbH",
            "email": "info@mueller-baeckerei.example",
            "type": "business",
            "vat_id": "DE123456788",
            "billing_address": {
                "street": "Hafenstraße 12",
                "postal_code": "20457",
                "city": "Hamburg",
                "country": "DE",
            },
        },
        "payment": {
            "method": "sepa_direct_debit",
            "iban": "DE89 3704 0044 0532 0130 00",
            "bic": "COBADEFFXXX",
            "account_holder": "Bäckerei Müller GmbH",
            "mandate_consent": True,
        },
        "items": [
            {"product": "HOST-M", "options": [{"product": "STORAGE-50", "quantity": 2}]},
            {"product": "DOM-DE", "domains": ["müller-bäckerei.de"]},
        ],
    }
    return order | changes


def event(
    path: str,
    body: str | None,
    *,
    key: str | None = None,
    client: str | None = "billing-shop",
    base64: bool = False,
) -> dict[str, Any]:
    """A payload 2.0 event as API Gateway sends it after the JWT authorizer."""
    route = path
    parameters: dict[str, str] = {}
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "orders":
        route, parameters = "/orders/{order_id}/cancel", {"order_id": parts[1]}
    elif len(parts) == 3 and parts[0] == "contracts":
        route, parameters = "/contracts/{contract_id}/changes", {"contract_id": parts[1]}
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["idempotency-key"] = key
    claims = {"client_id": client, "scope": "orders/write"} if client else {}
    document: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"POST {route}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "domainName": "localhost",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r1",
            "routeKey": f"POST {route}",
            "stage": "$default",
            "time": "10/Nov/2026:10:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": base64,
    }
    if parameters:
        document["pathParameters"] = parameters
    if body is not None:
        document["body"] = body
    return document
