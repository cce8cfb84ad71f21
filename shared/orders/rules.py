"""What may be ordered, with what, and how much of it exists: declared as data in
``shared/data/order_rules.json`` beside the catalog.

- ``shop_products`` may be ordered as items through the API; ``feed_products`` (credits, usage
  and pass-through fees) only come from the bulk feeds of other systems.
- ``options`` lists the add-ons each package may carry; ``setup_fees`` adds a one-time fee.
- ``capacity`` is the stock of products that exist a limited number of times (dedicated
  servers); orders reserve it and cancellations give it back.
- ``ladders`` order packages from small to large: an upgrade climbs, a downgrade descends.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class OrderRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_items: int = Field(ge=1)
    max_domains_per_order: int = Field(ge=1)
    shop_products: frozenset[str]
    feed_products: frozenset[str]
    options: dict[str, frozenset[str]]
    setup_fees: dict[str, str]
    capacity: dict[str, int]
    ladders: tuple[tuple[str, ...], ...]

    def ladder_step(self, product_id: str) -> tuple[int, int] | None:
        """(ladder, rung) of a package that has a ladder."""
        for number, ladder in enumerate(self.ladders):
            if product_id in ladder:
                return number, ladder.index(product_id)
        return None


@cache
def shipped_rules() -> OrderRules:
    text = (resources.files("shared") / "data" / "order_rules.json").read_text(encoding="utf-8")
    return OrderRules.model_validate_json(text)
