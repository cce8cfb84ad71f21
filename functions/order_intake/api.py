"""What the order API does with a request, apart from Lambda: ids, idempotency, the use cases.

An Idempotency-Key makes the order id (``order_id_for(client, key)``) and, through powertools
idempotency on DynamoDB, a retried request gets the stored first answer. Without a key the
order id is a hash of the request and the day, so a double submit of the same body on one day
still creates one order. Only successful answers are stored: a refused request creates nothing,
and sending it again is checked again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.orders.changes import ContractChanges
from shared.orders.errors import MalformedRequestError, Problem
from shared.orders.model import StoredOrder, order_id_for
from shared.orders.requests import CancelRequest, ChangeRequest, OrderRequest, parse
from shared.orders.service import OrderService, PlaceCommand

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")

Once = Callable[..., dict[str, Any]]


def _direct(*, command: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    return action()


@dataclass(frozen=True)
class Caller:
    """Who sends the request (the shop's client id) and the key it gave, if any."""

    client: str
    idempotency_key: str | None

    @classmethod
    def checked(cls, client: str, key: str | None) -> Caller:
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            problem = Problem(
                "idempotency-key", "idempotency_key", "must be 8 to 128 of A-Z a-z 0-9 . _ : -"
            )
            raise MalformedRequestError("the Idempotency-Key header is malformed", [problem])
        return cls(client=client, idempotency_key=key)


@dataclass
class OrderApi:
    service: OrderService
    changes: ContractChanges
    # The idempotent runner (powertools with a DynamoDB store), or a plain call.
    once: Once = _direct
    today: Callable[[], date] = date.today

    def place(self, caller: Caller, body: str | None) -> dict[str, Any]:
        order = parse(OrderRequest, body)
        request_hash = _hash(order.model_dump_json())
        if caller.idempotency_key:
            order_id = order_id_for(caller.client, "key", caller.idempotency_key)
        else:
            order_id = order_id_for(caller.client, "body", request_hash, self.today().isoformat())
        command = PlaceCommand(
            order=order,
            order_id=order_id,
            source=f"shop:{caller.client}",
            request_hash=request_hash,
        )
        return self._once(
            caller, "place", "", request_hash, lambda: self.service.place(command).receipt()
        )

    def withdraw(self, caller: Caller, order_id: str, body: str | None) -> dict[str, Any]:
        request = parse(CancelRequest, body or "{}")
        request_hash = _hash(request.model_dump_json())
        key = _change_key(caller, request_hash)
        return self._once(
            caller,
            "withdraw",
            order_id,
            request_hash,
            lambda: self.changes.withdraw(order_id, key=key).receipt(),
        )

    def change(self, caller: Caller, contract_id: str, body: str | None) -> dict[str, Any]:
        request = parse(ChangeRequest, body)
        request_hash = _hash(request.model_dump_json())
        key = _change_key(caller, request_hash)

        def action() -> dict[str, Any]:
            return _contract_answer(self.changes.change(contract_id, request, key=key), contract_id)

        return self._once(caller, "change", contract_id, request_hash, action)

    def _once(
        self,
        caller: Caller,
        route: str,
        target: str,
        request_hash: str,
        action: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        if not caller.idempotency_key:
            return action()
        key = "|".join((caller.client, route, target, caller.idempotency_key))
        return self.once(command={"key": key, "request": request_hash}, action=action)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _change_key(caller: Caller, request_hash: str) -> str:
    """A change is applied once per idempotency key; without one, once per identical request."""
    return f"{caller.client}:{caller.idempotency_key or request_hash}"


def _contract_answer(order: StoredOrder, contract_id: str) -> dict[str, Any]:
    receipt: dict[str, Any] = order.receipt()
    contracts = [c for c in receipt["contracts"] if c["contract_id"] == contract_id]
    return {"order_id": order.order_id, "status": order.status, "contract": contracts[0]}
