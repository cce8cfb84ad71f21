"""The order use cases: place an order, withdraw it, change or cancel one of its contracts.

Every step can run again without effect. Ids are derived from the order id, each write is
conditional or writes the same content again, and the order record is written last: an order
whose record exists is complete, and a retry of one that is not finishes it with the same ids.
Domains and stock are claimed before anything else is written, with conditional writes, so
two orders for the last unit or the same name cannot both win; a refused order gives back what
it had claimed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from shared.catalog import Catalog
from shared.customers import Customer
from shared.orders.checks import CheckContext, check_order
from shared.orders.errors import (
    ImplausibleOrderError,
    OrderNotFoundError,
    Problem,
    RequestReusedError,
    UnavailableError,
)
from shared.orders.model import StoredOrder, customer_id_for
from shared.orders.plan import OrderPlan, Planner, mandate_for, new_customer
from shared.orders.ports import CustomerContracts, DomainRegistry, Inventory, OrderBook
from shared.orders.requests import OrderRequest
from shared.orders.rules import OrderRules

logger = logging.getLogger(__name__)

CUSTOMER_ID_ATTEMPTS = 5


@dataclass(frozen=True)
class OrderPolicy:
    shard_count: int
    creditor_id: str
    withdrawal_days: int = 14


@dataclass(frozen=True)
class PlaceCommand:
    """An order with the id it was given and where it came from."""

    order: OrderRequest
    order_id: str
    source: str
    request_hash: str
    feed: bool = False
    ordered_on: date | None = None


@dataclass
class OrderService:
    catalog: Catalog
    rules: OrderRules
    registry: DomainRegistry
    inventory: Inventory
    orders: OrderBook
    contracts: CustomerContracts
    policy: OrderPolicy
    today: Callable[[], date] = date.today

    def place(self, command: PlaceCommand) -> StoredOrder:
        stored = self.orders.get(command.order_id)
        if stored is not None:
            return same_request(stored, command.request_hash)

        checks = CheckContext(self.catalog, self.rules, command.feed)
        problems = check_order(command.order, checks)
        customer, is_new = self._customer(command, problems, checks.checked_emails)
        if problems or customer is None:
            raise ImplausibleOrderError("the order is not plausible", problems)

        ordered_on = command.ordered_on or self.today()
        planner = Planner(
            self.catalog, self.rules, command.order_id, customer.customer_id, ordered_on
        )
        plan = planner.plan(command.order)
        self._secure(plan, command.order_id, customer.customer_id)
        return self._record(command, customer, is_new, plan, ordered_on)

    def _customer(
        self, command: PlaceCommand, problems: list[Problem], checked_emails: dict[str, str]
    ) -> tuple[Customer | None, bool]:
        data = command.order.customer
        if data.id is not None:
            found = None if problems else self.contracts.find_customer(data.id)
            if found is None and not problems:
                problems.append(
                    Problem("customer.id", "customer_unknown", "is no customer of ours")
                )
            return found, False
        if problems:
            return None, True
        return self._new_customer(command, checked_emails), True

    def _new_customer(self, command: PlaceCommand, checked_emails: dict[str, str]) -> Customer:
        """A number derived from the order; a retry finds the customer it created before."""
        for attempt in range(CUSTOMER_ID_ATTEMPTS):
            candidate = new_customer(
                command.order.customer,
                customer_id_for(command.order_id, attempt),
                self.policy.shard_count,
                checked_emails,
            )
            stored = self.contracts.find_customer(candidate.customer_id)
            if stored is None or stored == candidate:
                return candidate
        raise RuntimeError("no free customer number for order " + command.order_id)

    def _secure(self, plan: OrderPlan, order_id: str, customer_id: str) -> None:
        taken = [
            Problem(where, "domain_taken", "is registered at the registry")
            for name, where in plan.domains
            if not self.registry.is_free(name)
        ]
        if taken:
            raise UnavailableError("a domain of the order is taken", taken)

        claims = Claims(self.inventory, order_id)
        problems = claims.domains(plan, customer_id)
        if not problems:
            problems = claims.stock(plan, self.rules.capacity)
        if problems:
            claims.give_back()
            raise UnavailableError("a domain or product of the order is not available", problems)

    def _record(
        self,
        command: PlaceCommand,
        customer: Customer,
        is_new: bool,
        plan: OrderPlan,
        ordered_on: date,
    ) -> StoredOrder:
        mandate = mandate_for(
            command.order,
            customer_id=customer.customer_id,
            order_id=command.order_id,
            signed_on=ordered_on,
            creditor_id=self.policy.creditor_id,
        )
        self.contracts.write(
            customer=customer if is_new else None,
            shard=customer.shard,
            positions=plan.positions,
            mandate=mandate,
        )
        stored = StoredOrder(
            order_id=command.order_id,
            source=command.source,
            request_hash=command.request_hash,
            customer_id=customer.customer_id,
            shard=customer.shard,
            new_customer=is_new,
            ordered_on=ordered_on,
            contracts=tuple(plan.contracts),
            domains=tuple(name for name, _ in plan.domains),
            capacity={product: units for product, (units, _) in plan.capacity.items()},
            mandate_reference=mandate.reference if mandate else None,
            shop_reference=command.order.shop_reference,
        )
        if not self.orders.create(stored):
            existing = self.orders.get(command.order_id)
            if existing is None:
                raise OrderNotFoundError("the order vanished while it was recorded")
            return same_request(existing, command.request_hash)
        logger.info(
            "order accepted",
            extra={
                "order_id": stored.order_id,
                "customer_id": stored.customer_id,
                "contracts": len(stored.contracts),
                "source": stored.source,
            },
        )
        return stored


def same_request(stored: StoredOrder, request_hash: str) -> StoredOrder:
    if stored.request_hash != request_hash:
        raise RequestReusedError(
            "this order id was used before for another request",
            [Problem("idempotency-key", "reused", "came before with another request")],
        )
    return stored


@dataclass
class Claims:
    """What one attempt of an order claimed, so that a refusal can give it back."""

    inventory: Inventory
    order_id: str

    def __post_init__(self) -> None:
        self._domains: list[str] = []
        self._products: list[str] = []

    def domains(self, plan: OrderPlan, customer_id: str) -> list[Problem]:
        problems = []
        for name, where in plan.domains:
            if self.inventory.claim_domain(name, order_id=self.order_id, customer_id=customer_id):
                self._domains.append(name)
            else:
                problems.append(Problem(where, "domain_taken", "is held by another order"))
        return problems

    def stock(self, plan: OrderPlan, stock: dict[str, int]) -> list[Problem]:
        problems = []
        for product_id, (units, where) in plan.capacity.items():
            if self.inventory.reserve(
                product_id, order_id=self.order_id, quantity=units, stock=stock[product_id]
            ):
                self._products.append(product_id)
            else:
                problems.append(Problem(where, "capacity_exhausted", "is sold out"))
        return problems

    def give_back(self) -> None:
        for name in self._domains:
            self.inventory.release_domain(name, order_id=self.order_id)
        for product_id in self._products:
            self.inventory.release(product_id, order_id=self.order_id)
