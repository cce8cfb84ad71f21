"""What order intake needs from the world, as small interfaces; DynamoDB and a local registry
adapter implement them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.contracts import Position
from shared.customers import Customer
from shared.orders.model import Mandate, StoredOrder


class DomainRegistry(Protocol):
    """The registry of a top-level domain: is a name still free out there?"""

    def is_free(self, domain: str) -> bool: ...


class Inventory(Protocol):
    """What we hold: domains by name, and the reserved units of products with a stock."""

    def claim_domain(self, domain: str, *, order_id: str, customer_id: str) -> bool:
        """True when the domain is now held by this order (again, on a retry)."""
        ...

    def release_domain(self, domain: str, *, order_id: str) -> None: ...

    def reserve(self, product_id: str, *, order_id: str, quantity: int, stock: int) -> bool:
        """True when the order holds ``quantity`` units (again, on a retry), never past stock."""
        ...

    def release(self, product_id: str, *, order_id: str) -> None: ...


class OrderBook(Protocol):
    def get(self, order_id: str) -> StoredOrder | None: ...

    def create(self, order: StoredOrder) -> bool:
        """False when an order with this id exists already."""
        ...

    def replace(self, order: StoredOrder, *, expected_version: int) -> bool:
        """False when the stored order is no longer at ``expected_version``."""
        ...


class CustomerContracts(Protocol):
    """Customers, positions and mandates where the invoice run reads them: in their shard."""

    def find_customer(self, customer_id: str) -> Customer | None: ...

    def write(
        self,
        *,
        customer: Customer | None,
        shard: int,
        positions: Sequence[Position],
        mandate: Mandate | None,
    ) -> None: ...
