"""An accepted order as stored: its contracts with their positions, and what it holds."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import Position

OrderStatus = Literal["accepted", "cancelled"]


class Mandate(BaseModel):
    """A SEPA core mandate, as the debit run needs it (pain.008)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(pattern=r"^[A-Z0-9-]{1,35}$")
    customer_id: str
    signed_on: date
    iban: str
    bic: str | None = None
    account_holder: str
    creditor_id: str
    sequence: Literal["FRST", "RCUR"] = "FRST"


class OrderedContract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    contract_id: str
    product_id: str
    domain: str | None = None
    positions: tuple[Position, ...]


class StoredOrder(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    source: str
    request_hash: str
    customer_id: str
    shard: int
    new_customer: bool
    ordered_on: date
    status: OrderStatus = "accepted"
    contracts: tuple[OrderedContract, ...]
    domains: tuple[str, ...] = ()
    capacity: dict[str, int] = Field(default_factory=dict)
    mandate_reference: str | None = None
    shop_reference: str | None = None
    # Keys of the changes applied since, so that a change that comes again is not applied twice.
    applied: tuple[str, ...] = ()
    version: int = 1

    def contract(self, contract_id: str) -> OrderedContract | None:
        return next((c for c in self.contracts if c.contract_id == contract_id), None)

    def receipt(self) -> dict[str, object]:
        """The answer to the order, the same every time it is asked for."""
        return {
            "order_id": self.order_id,
            "status": self.status,
            "customer_id": self.customer_id,
            "ordered_on": self.ordered_on.isoformat(),
            "mandate_reference": self.mandate_reference,
            "contracts": [_contract_view(contract) for contract in self.contracts],
        }


def _contract_view(contract: OrderedContract) -> dict[str, object]:
    return {
        "contract_id": contract.contract_id,
        "product": contract.product_id,
        "domain": contract.domain,
        "positions": [
            {
                "position_id": position.position_id,
                "product": position.product_id,
                "description": position.description,
                "quantity": position.quantity,
                "unit_net": str(position.unit_net),
                "billing_period": position.billing_period,
                "start": position.start.isoformat(),
                "end": position.end.isoformat() if position.end else None,
            }
            for position in contract.positions
        ],
    }


def digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def order_id_for(*parts: str) -> str:
    """A deterministic order id: ``O`` and 20 base32 characters of a hash of ``parts``."""
    return "O" + base64.b32encode(digest("order", *parts)).decode()[:20]


def customer_id_for(order_id: str, attempt: int = 0) -> str:
    """A new customer's number, derived from its first order: C and 12 digits."""
    number = int.from_bytes(digest("customer", order_id, str(attempt))[:8], "big") % 10**12
    return f"C{number:012d}"


def contract_id_for(order_id: str, index: int) -> str:
    """``K<order>-<nn>``: the order a contract came from is part of its id."""
    return f"K{order_id[1:]}-{index:02d}"


def order_id_of_contract(contract_id: str) -> str | None:
    head, _, tail = contract_id.partition("-")
    if not head.startswith("K") or len(head) != 21 or not tail.isdigit():
        return None
    return "O" + head[1:]
