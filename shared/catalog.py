"""The product catalog: what a hoster sells, at which net price, on which billing cycle.

The catalog ships with the code as ``shared/data/catalog.json``. A position copies the price of
its product when it is ordered, so a later price change touches only new orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts import (
    MAX_QUANTITY,
    Anchor,
    BillingPeriod,
    Kind,
    Position,
    Timing,
    check_credit_once,
    check_price_sign,
)
from shared.tax import TaxCategory

PRODUCT_ID = r"^[A-Z0-9][A-Z0-9-]{0,63}$"


class UnknownProductError(LookupError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"unknown product {product_id!r}: it is not in the catalog")
        self.product_id = product_id


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str = Field(pattern=PRODUCT_ID)
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    unit_net: Decimal = Field(max_digits=12, decimal_places=4)
    billing_period: BillingPeriod
    timing: Timing
    tax_category: TaxCategory
    tld: str | None = Field(default=None, pattern=r"^[a-z]{2,63}$")
    max_quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)

    @model_validator(mode="after")
    def _consistent(self) -> Product:
        check_price_sign(self.kind, self.unit_net)
        if (self.kind == "domain") != (self.tld is not None):
            raise ValueError(f"tld is required for a domain and only for one, got {self.tld!r}")
        check_credit_once(self.kind, self.billing_period)
        return self


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: tuple[Product, ...]


class Catalog:
    def __init__(self, products: Iterable[Product]) -> None:
        self._products: dict[str, Product] = {}
        for product in products:
            if product.product_id in self._products:
                raise ValueError(f"product_id {product.product_id!r} appears twice")
            self._products[product.product_id] = product

    @classmethod
    def from_json(cls, text: str | bytes) -> Catalog:
        return cls(_CatalogFile.model_validate_json(text).products)

    def get(self, product_id: str) -> Product:
        try:
            return self._products[product_id]
        except KeyError:
            raise UnknownProductError(product_id) from None

    def domain(self, tld: str) -> Product:
        """The domain product for a top-level domain such as ``de`` or ``.de``."""
        wanted = tld.lower().removeprefix(".")
        for product in self._products.values():
            if product.tld == wanted:
                return product
        raise UnknownProductError(f"domain .{wanted}")

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products.values())

    def __len__(self) -> int:
        return len(self._products)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._products


@cache
def shipped_catalog() -> Catalog:
    """The catalog in ``shared/data/catalog.json``, read and validated once per process."""
    text = (resources.files("shared") / "data" / "catalog.json").read_text(encoding="utf-8")
    return Catalog.from_json(text)


def position_for(
    product: Product,
    *,
    position_id: str,
    customer_id: str,
    contract_id: str,
    start: date,
    quantity: int = 1,
    description: str | None = None,
    billing_anchor: Anchor = "fixed",
    billing_day: int = 1,
) -> Position:
    """A new position for the product at its current price; quantity within max_quantity."""
    if quantity > product.max_quantity:
        raise ValueError(
            f"quantity {quantity} exceeds max_quantity {product.max_quantity} "
            f"of product {product.product_id!r}"
        )
    return Position(
        position_id=position_id,
        customer_id=customer_id,
        contract_id=contract_id,
        product_id=product.product_id,
        description=description or product.name,
        kind=product.kind,
        quantity=quantity,
        unit_net=product.unit_net,
        tax_category=product.tax_category,
        billing_period=product.billing_period,
        timing=product.timing,
        billing_anchor=billing_anchor,
        billing_day=billing_day,
        start=start,
    )
