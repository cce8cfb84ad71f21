"""A synthetic web hoster: a product catalog and customers with contracts, reproducible by seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.contracts import Position
from shared.customers import Address, Customer, shard_of
from shared.tax import TaxCategory


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    unit_net: Decimal
    tax_category: TaxCategory = TaxCategory.STANDARD


CATALOG = (
    Product("HOST-S", "Webhosting S (10 GB, 1 Domain inkl.)", Decimal("4.99")),
    Product("HOST-M", "Webhosting M (50 GB, 3 Domains inkl.)", Decimal("9.99")),
    Product("HOST-L", "Webhosting L (200 GB, 10 Domains inkl.)", Decimal("19.99")),
    Product("VPS-2", "Virtueller Server 2 vCPU / 4 GB", Decimal("12.50")),
    Product("DED-1", "Dedizierter Server Ryzen 7", Decimal("89.00")),
    Product("DOM-DE", "Domain .de", Decimal("0.99")),
    Product("DOM-COM", "Domain .com", Decimal("1.29")),
    Product("SSL-PRO", "SSL-Zertifikat Pro", Decimal("3.33")),
    Product("MAIL-5", "E-Mail-Postfach 5 GB", Decimal("1.49")),
    Product("MAG-WEB", "Fachmagazin Webpraxis (Abo)", Decimal("6.50"), TaxCategory.REDUCED),
)
_PACKAGES = CATALOG[:5]
_ADDONS = CATALOG[5:]

_FIRST = (
    "Anna",
    "Jonas",
    "Lea",
    "Lukas",
    "Marie",
    "Felix",
    "Sophie",
    "Paul",
    "Jürgen",
    "Özlem",
    "Björn",
    "Grete",
    "Emil",
    "Hannah",
    "Mehmet",
    "Zoë",
    "Ines",
    "Tobias",
)
_LAST = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
)
_CITIES = (
    ("10115", "Berlin"),
    ("20095", "Hamburg"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt am Main"),
    ("70173", "Stuttgart"),
    ("04109", "Leipzig"),
    ("01067", "Dresden"),
    ("28195", "Bremen"),
    ("90402", "Nürnberg"),
)
_STREETS = ("Hauptstraße", "Schulstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee", "Am Markt")
_FIRMS = ("Bäckerei", "Kanzlei", "Agentur", "Praxis", "Werkstatt", "Verlag")


@dataclass
class Hoster:
    customers: list[Customer]
    positions: list[Position]

    @property
    def shards(self) -> dict[str, int]:
        return {customer.customer_id: customer.shard for customer in self.customers}


def synthetic_hoster(
    count: int, *, shard_count: int, period_start: date, seed: int = 2026
) -> Hoster:
    """``count`` customers, each with a hosting package and some add-ons, all due in the period."""
    rng = random.Random(seed)
    customers = [_customer(rng, number, shard_count) for number in range(1, count + 1)]
    positions = [p for customer in customers for p in _positions(rng, customer, period_start)]
    return Hoster(customers, positions)


def _customer(rng: random.Random, number: int, shard_count: int) -> Customer:
    customer_id = f"C{number:07d}"
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    business = rng.random() < 0.2
    postal_code, city = rng.choice(_CITIES)
    name = f"{rng.choice(_FIRMS)} {last} GmbH" if business else f"{first} {last}"
    return Customer(
        customer_id=customer_id,
        name=name,
        email=f"kunde{number}@example.org",
        address=Address(
            street=f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
            postal_code=postal_code,
            city=city,
            country="DE",
        ),
        kind="business" if business else "consumer",
        vat_id=None,
        shard=shard_of(customer_id, shard_count),
    )


def _positions(rng: random.Random, customer: Customer, period_start: date) -> Iterator[Position]:
    start = period_start - timedelta(days=rng.randint(30, 1500))
    contract_id = f"K{customer.customer_id[1:]}"
    chosen = [rng.choice(_PACKAGES), *rng.sample(_ADDONS, k=rng.randint(0, 3))]
    for index, product in enumerate(chosen, start=1):
        yield Position(
            position_id=f"{contract_id}-{index:02d}",
            customer_id=customer.customer_id,
            contract_id=contract_id,
            product_id=product.product_id,
            description=product.name,
            quantity=rng.choice((1, 1, 1, 2, 3)) if product in _ADDONS else 1,
            unit_net=product.unit_net,
            tax_category=product.tax_category,
            start=start,
        )
