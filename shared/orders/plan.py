"""From a plausible order to its contracts and positions: pure, deterministic, no storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.catalog import Catalog, Product, position_for
from shared.contracts import Position
from shared.customers import CHECKED_EMAILS, Customer, shard_of
from shared.orders.domains import parse_domain
from shared.orders.model import Mandate, OrderedContract, contract_id_for
from shared.orders.requests import CustomerIn, ItemIn, OrderRequest, SepaDebitIn
from shared.orders.rules import OrderRules

DESCRIPTION_LENGTH = 200


@dataclass
class OrderPlan:
    contracts: list[OrderedContract] = field(default_factory=list)
    # (ASCII name, field) of every domain, and (units, field) of every product with a stock.
    domains: list[tuple[str, str]] = field(default_factory=list)
    capacity: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def positions(self) -> list[Position]:
        return [position for contract in self.contracts for position in contract.positions]


def new_customer(
    data: CustomerIn,
    customer_id: str,
    shard_count: int,
    checked_emails: dict[str, str] | None = None,
) -> Customer:
    """The customer of an order; ``checked_emails`` spares validating its e-mail a second time."""
    address = data.billing_address
    if address is None or not (data.name and data.email and data.type):
        raise ValueError("a new customer needs a name, an e-mail, a type and an address")
    values = {
        "customer_id": customer_id,
        "name": data.name,
        "email": data.email,
        "address": {
            "street": address.street,
            "postal_code": address.postal_code,
            "city": address.city,
            "country": address.country,
        },
        "kind": data.type,
        "vat_id": data.vat_id,
        "shard": shard_of(customer_id, shard_count),
        "delivery": data.delivery,
    }
    return Customer.model_validate(values, context={CHECKED_EMAILS: checked_emails or {}})


def mandate_for(
    order: OrderRequest, *, customer_id: str, order_id: str, signed_on: date, creditor_id: str
) -> Mandate | None:
    payment = order.payment
    if not isinstance(payment, SepaDebitIn):
        return None
    return Mandate(
        reference=f"M{customer_id[1:]}-{order_id[1:9]}",
        customer_id=customer_id,
        signed_on=signed_on,
        iban=payment.iban.replace(" ", "").upper(),
        bic=payment.bic.upper() if payment.bic else None,
        account_holder=payment.account_holder,
        creditor_id=creditor_id,
    )


@dataclass(frozen=True)
class Planner:
    catalog: Catalog
    rules: OrderRules
    order_id: str
    customer_id: str
    start: date

    def plan(self, order: OrderRequest) -> OrderPlan:
        plan = OrderPlan()
        for index, item in enumerate(order.items):
            product = self.catalog.get(item.product)
            if product.kind == "domain":
                self._domains(plan, index, item, product)
            else:
                self._package(plan, index, item, product)
        return plan

    def _domains(self, plan: OrderPlan, index: int, item: ItemIn, product: Product) -> None:
        for number, raw in enumerate(item.domains):
            name = parse_domain(raw)
            contract_id = contract_id_for(self.order_id, len(plan.contracts) + 1)
            description = f"{product.name}: {name.unicode}"[:DESCRIPTION_LENGTH]
            position = self._position(product, contract_id, 1, 1, description, anchor="start")
            plan.contracts.append(
                OrderedContract(
                    contract_id=contract_id,
                    product_id=product.product_id,
                    domain=name.ascii,
                    positions=(position,),
                )
            )
            plan.domains.append((name.ascii, f"items[{index}].domains[{number}]"))

    def _package(self, plan: OrderPlan, index: int, item: ItemIn, product: Product) -> None:
        contract_id = contract_id_for(self.order_id, len(plan.contracts) + 1)
        quantity = 1 if item.quantity is None else item.quantity
        positions = [self._position(product, contract_id, 1, quantity)]
        for option in item.options:
            extra = self.catalog.get(option.product)
            positions.append(
                self._position(extra, contract_id, len(positions) + 1, option.quantity)
            )
        fee = self.rules.setup_fees.get(product.product_id)
        if fee:
            positions.append(
                self._position(self.catalog.get(fee), contract_id, len(positions) + 1, 1)
            )
        plan.contracts.append(
            OrderedContract(
                contract_id=contract_id, product_id=product.product_id, positions=tuple(positions)
            )
        )
        if product.product_id in self.rules.capacity:
            held, _ = plan.capacity.get(product.product_id, (0, ""))
            plan.capacity[product.product_id] = (held + quantity, f"items[{index}].product")

    def _position(
        self,
        product: Product,
        contract_id: str,
        number: int,
        quantity: int,
        description: str | None = None,
        *,
        anchor: str = "fixed",
    ) -> Position:
        return position_for(
            product,
            position_id=f"{contract_id}-{number:02d}",
            customer_id=self.customer_id,
            contract_id=contract_id,
            start=self.start,
            quantity=quantity,
            description=description,
            billing_anchor="start" if anchor == "start" else "fixed",
        )
