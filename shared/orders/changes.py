"""Withdrawing an order, and upgrades, downgrades and cancellations of a contract.

A change never rewrites what was billed: it ends positions and starts new ones, on the day the
rules say (``shared.contracts``). The order record carries the contract's positions, so a change
reads one item by key instead of querying the customer's shard. Each change is applied once per
key: a change that comes again finds its key on the order and changes nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from shared.catalog import Catalog, Product, position_for
from shared.contracts import Position
from shared.orders.errors import (
    ChangeRefusedError,
    ConcurrentChangeError,
    ContractNotFoundError,
    OrderNotFoundError,
    Problem,
)
from shared.orders.model import OrderedContract, StoredOrder, order_id_of_contract
from shared.orders.ports import CustomerContracts, Inventory, OrderBook
from shared.orders.requests import ChangeRequest
from shared.orders.rules import OrderRules

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
APPLIED_KEPT = 50


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_end(position: Position, on: date) -> date:
    """The last day of the billing cycle of ``position`` that contains ``on`` (or its start)."""
    months = MONTHS.get(position.billing_period, 1)
    start = position.start
    if position.billing_anchor == "fixed":
        anchor = start.replace(day=position.billing_day)
        start = anchor if anchor <= start else add_months(anchor, -1)
    on = max(on, position.start)
    while add_months(start, months) <= on:
        start = add_months(start, months)
    return add_months(start, months) - timedelta(days=1)


def _refused(field: str, message: str) -> ChangeRefusedError:
    return ChangeRefusedError(message, [Problem(field, "change_refused", message)])


@dataclass
class ContractChanges:
    catalog: Catalog
    rules: OrderRules
    inventory: Inventory
    orders: OrderBook
    contracts: CustomerContracts
    withdrawal_days: int = 14
    today: Callable[[], date] = date.today

    def withdraw(self, order_id: str, *, key: str) -> StoredOrder:
        """The customer withdraws the order: nothing of it takes effect or is billed."""
        stored = self.orders.get(order_id)
        if stored is None:
            raise OrderNotFoundError("no order with this id")
        if stored.status == "cancelled" or key in stored.applied:
            return stored
        if (self.today() - stored.ordered_on).days > self.withdrawal_days:
            message = f"the {self.withdrawal_days} days to withdraw are over: cancel its contracts"
            raise _refused("order_id", message)

        contracts = tuple(
            contract.model_copy(update={"positions": tuple(map(_never, contract.positions))})
            for contract in stored.contracts
        )
        self._write(stored, contracts)
        for name in stored.domains:
            self.inventory.release_domain(name, order_id=order_id)
        for product_id in stored.capacity:
            self.inventory.release(product_id, order_id=order_id)
        return self._save(stored, contracts, key, status="cancelled")

    def change(self, contract_id: str, request: ChangeRequest, *, key: str) -> StoredOrder:
        stored, contract = self._find(contract_id)
        if key in stored.applied:
            return stored
        if stored.status == "cancelled":
            raise _refused("contract_id", "the order of this contract was withdrawn")
        if request.type == "cancellation":
            changed = self._cancel(contract, request)
        else:
            changed = self._switch(contract, request)
        contracts = tuple(changed if c.contract_id == contract_id else c for c in stored.contracts)
        self._write(stored, contracts)
        return self._save(stored, contracts, key)

    def _find(self, contract_id: str) -> tuple[StoredOrder, OrderedContract]:
        order_id = order_id_of_contract(contract_id)
        stored = self.orders.get(order_id) if order_id else None
        contract = stored.contract(contract_id) if stored else None
        if stored is None or contract is None:
            raise ContractNotFoundError("no contract with this id")
        return stored, contract

    def _cancel(self, contract: OrderedContract, request: ChangeRequest) -> OrderedContract:
        main = _main(contract)
        today = self.today()
        end = cycle_end(main, today)
        if request.effective is not None:
            if request.effective < today or cycle_end(main, request.effective) != request.effective:
                raise _refused("effective", "must be the end of a billing period, not in the past")
            end = request.effective
        open_positions = [p for p in contract.positions if p.end is None or p.end > end]
        if not open_positions:
            raise _refused("type", "the contract already ends by then")
        positions = tuple(_ending(p, end) for p in contract.positions)
        return contract.model_copy(update={"positions": positions})

    def _switch(self, contract: OrderedContract, request: ChangeRequest) -> OrderedContract:
        main = _main(contract)
        target = self._target(contract, request)
        effective = self._effective(main, request)
        new = position_for(
            target,
            position_id=f"{contract.contract_id}-{len(contract.positions) + 1:02d}",
            customer_id=main.customer_id,
            contract_id=contract.contract_id,
            start=effective,
            quantity=main.quantity,
        )
        positions = tuple(
            _ending(p, effective - timedelta(days=1)) if p == main else p
            for p in contract.positions
        )
        return contract.model_copy(
            update={"positions": (*positions, new), "product_id": target.product_id}
        )

    def _target(self, contract: OrderedContract, request: ChangeRequest) -> Product:
        if request.product is None or request.product not in self.catalog:
            raise _refused("product", "name the product to change to")
        here = self.rules.ladder_step(contract.product_id)
        there = self.rules.ladder_step(request.product)
        if here is None or there is None or here[0] != there[0] or here == there:
            raise _refused("product", f"{contract.product_id} cannot change to {request.product}")
        if (there[1] > here[1]) != (request.type == "upgrade"):
            raise _refused("product", f"that is no {request.type} of {contract.product_id}")
        return self.catalog.get(request.product)

    def _effective(self, main: Position, request: ChangeRequest) -> date:
        today = self.today()
        if request.type == "downgrade":
            earliest = cycle_end(main, today) + timedelta(days=1)
        else:
            earliest = max(today, main.start)
        effective = request.effective or earliest
        if effective < earliest:
            raise _refused("effective", f"is before the earliest day {earliest.isoformat()}")
        if request.type == "downgrade" and cycle_end(main, effective - timedelta(days=1)) != (
            effective - timedelta(days=1)
        ):
            raise _refused("effective", "a downgrade starts with a billing period")
        return effective

    def _write(self, stored: StoredOrder, contracts: tuple[OrderedContract, ...]) -> None:
        positions = [p for contract in contracts for p in contract.positions]
        self.contracts.write(customer=None, shard=stored.shard, positions=positions, mandate=None)

    def _save(
        self,
        stored: StoredOrder,
        contracts: tuple[OrderedContract, ...],
        key: str,
        *,
        status: str | None = None,
    ) -> StoredOrder:
        update: dict[str, object] = {
            "contracts": contracts,
            "applied": (*stored.applied, key)[-APPLIED_KEPT:],
            "version": stored.version + 1,
        }
        if status is not None:
            update["status"] = status
        changed = stored.model_copy(update=update)
        if not self.orders.replace(changed, expected_version=stored.version):
            raise ConcurrentChangeError("the order changed meanwhile; send the change again")
        return changed


def _main(contract: OrderedContract) -> Position:
    """The position of the contract's product that is still running, or the latest one."""
    mains = [p for p in contract.positions if p.product_id == contract.product_id]
    running = [p for p in mains if p.end is None]
    if not running:
        raise _refused("contract_id", "the contract has ended")
    return running[-1]


def _ending(position: Position, end: date) -> Position:
    """The position ending on ``end`` at the latest; a once-only charge stays as it is."""
    if position.billing_period == "once" or (position.end is not None and position.end <= end):
        return position
    latest = max(end, position.start - timedelta(days=1))
    return Position.model_validate(position.model_dump() | {"end": latest})


def _never(position: Position) -> Position:
    """The position as one that never took effect: it ends the day before it starts."""
    end = position.start - timedelta(days=1)
    return Position.model_validate(position.model_dump() | {"end": end})
