"""A synthetic web hoster, reproducible by seed: customers and contracts from the product catalog.

The mix exercises every rule of the invoice run: German consumers and businesses, consumers in
other EU states (their own VAT rate), EU businesses with a valid VAT id (reverse charge) and one
without, customers outside the EU, contracts that start or end inside the billed month, upgrades,
yearly domains on their anniversary, arrears traffic, a reduced-rate magazine, exempt pass-through
fees, goodwill credits, customers who want paper, and a few whose data cannot be billed. Most
customers pay by SEPA direct debit (a mandate each, some already collected before: RCUR, the
newer ones not yet: FRST); the rest, and everyone in the United States, pay by transfer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from stdnum import iban, luhn
from stdnum.at import uid
from stdnum.iso7064 import mod_11_10, mod_97_10

from shared.catalog import Catalog, Product, position_for, shipped_catalog
from shared.contracts import Position
from shared.customers import Address, Customer, CustomerKind, shard_of
from shared.invoicing.compose import compose_invoice
from shared.invoicing.model import Invoice, Seller
from shared.invoicing.run import run_id_for
from shared.orders.model import Mandate
from shared.periods import Period

PACKAGES = ("HOST-S", "HOST-S", "HOST-M", "HOST-M", "HOST-L", "VPS-2", "DED-1")
ADDONS = ("STORAGE-50", "SSL-PRO", "MAIL-5")
DOMAINS = ("DOM-DE", "DOM-DE", "DOM-COM", "DOM-NET", "DOM-ORG", "DOM-EU", "DOM-SHOP")
UNKNOWN_PRODUCT = "HOST-XXL"

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
_FIRMS = ("Bäckerei", "Kanzlei", "Agentur", "Praxis", "Werkstatt", "Verlag")
_DE_CITIES = (
    ("10115", "Berlin"),
    ("20095", "Hamburg"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt am Main"),
    ("70173", "Stuttgart"),
    ("04109", "Leipzig"),
)
_ABROAD = {
    "AT": ("1010", "Wien"),
    "FR": ("75001", "Paris"),
    "NL": ("1012 JS", "Amsterdam"),
    "IT": ("00184", "Roma"),
    "ES": ("28001", "Madrid"),
    "PL": ("00-001", "Warszawa"),
    "CH": ("8001", "Zürich"),
    "US": ("10001", "New York"),
    "GB": ("SW1A 1AA", "London"),
    "NO": ("0150", "Oslo"),
}
_STREETS = ("Hauptstraße", "Schulstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee", "Am Markt")

# (share of customers, kind, countries, VAT id): cumulative shares are drawn in this order
_AUTHORITIES = ("STADTWERKE", "BAUAMT", "SCHULAMT", "KLINIKUM", "ARCHIV")

_SEGMENTS: tuple[tuple[float, CustomerKind, tuple[str, ...], str], ...] = (
    (0.70, "consumer", ("DE",), "none"),
    (0.12, "business", ("DE",), "valid"),
    (0.06, "consumer", ("AT", "FR", "NL", "IT", "ES", "PL"), "none"),
    (0.05, "business", ("AT", "FR"), "valid"),
    (0.02, "business", ("AT", "FR"), "malformed"),
    (0.05, "consumer", ("CH", "US", "GB", "NO"), "none"),
)


# Share of customers who pay by direct debit, and of those whose mandate was used before.
DEBIT_SHARE = 0.75
RECURRING_SHARE = 0.6
# Banks (BLZ, BIC) the synthetic debtors keep their accounts at; None: IBAN only.
_BANKS = (
    ("37040044", "COBADEFFXXX"),
    ("10070000", "DEUTDEBBXXX"),
    ("20050550", "HASPDEHHXXX"),
    ("50010517", None),
    ("76026000", None),
)
# The creditor identifier of the demo's mandates: the default settings' (Bundesbank test id).
DEMO_CREDITOR_ID = "DE98ZZZ09999999999"


@dataclass
class Hoster:
    customers: list[Customer]
    positions: list[Position]
    mandates: list[Mandate] = field(default_factory=list)

    @property
    def shards(self) -> dict[str, int]:
        return {customer.customer_id: customer.shard for customer in self.customers}


def synthetic_hoster(
    count: int, *, shard_count: int, period_start: date, seed: int = 2026
) -> Hoster:
    """``count`` customers with contracts; the billed period is the month of ``period_start``."""
    rng = random.Random(seed)
    catalog = shipped_catalog()
    period = Period(period_start.year, period_start.month)
    customers = [_customer(rng, number, shard_count) for number in range(1, count + 1)]
    positions = [p for customer in customers for p in _contracts(rng, catalog, customer, period)]
    mandates = [m for customer in customers if (m := _mandate(customer, period)) is not None]
    return Hoster(customers, positions, mandates)


def _mandate(customer: Customer, period: Period) -> Mandate | None:
    """A mandate for most customers; a generator of its own leaves the other draws unchanged."""
    rng = random.Random(f"mandate-{customer.customer_id}")
    if customer.address.country == "US" or rng.random() >= DEBIT_SHARE:
        return None
    blz, bic = rng.choice(_BANKS)
    bban = blz + f"{rng.randint(1, 9_999_999_999):010d}"
    recurring = rng.random() < RECURRING_SHARE
    days_before = rng.randint(60, 1500) if recurring else rng.randint(1, 40)
    return Mandate(
        reference=f"M{customer.customer_id[1:]}-01",
        customer_id=customer.customer_id,
        signed_on=period.start - timedelta(days=days_before),
        iban=f"DE{iban.calc_check_digits('DEXX' + bban)}{bban}",
        bic=bic,
        account_holder=customer.name,
        creditor_id=DEMO_CREDITOR_ID,
        sequence="RCUR" if recurring else "FRST",
    )


def _customer(rng: random.Random, number: int, shard_count: int) -> Customer:
    customer_id = f"C{number:07d}"
    kind, country, vat_id = _segment(rng)
    last = rng.choice(_LAST)
    name = (
        f"{rng.choice(_FIRMS)} {last} GmbH"
        if kind == "business"
        else (f"{rng.choice(_FIRST)} {last}")
    )
    postal_code, city = rng.choice(_DE_CITIES) if country == "DE" else _ABROAD[country]
    return Customer(
        customer_id=customer_id,
        name=name,
        email=f"kunde{number}@example.org",
        address=Address(
            street=f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
            postal_code=postal_code,
            city=city,
            country=country,
        ),
        kind=kind,
        vat_id=_vat_id(rng, country, vat_id),
        shard=shard_of(customer_id, shard_count),
        delivery="post" if rng.random() < 0.03 else "email",
        attach_pdf=rng.random() < 0.1,
        **_einvoice_choice(number, kind, country),
    )


def _einvoice_choice(number: int, kind: CustomerKind, country: str) -> dict[str, str]:
    """A quarter of German businesses are public buyers (or asked for it) and get XRechnung,
    half of them as the XML alone. A generator of its own leaves the other draws unchanged."""
    rng = random.Random(f"einvoice-{number}")
    if kind != "business" or country != "DE" or rng.random() >= 0.25:
        return {}
    coarse = f"{rng.randint(1, 16):02d}{rng.randint(100, 999)}"
    fine = f"{rng.choice(_AUTHORITIES)}{rng.randint(1, 99)}"
    check = mod_97_10.calc_check_digits(coarse + fine)
    return {
        "einvoice": rng.choice(("xrechnung-embedded", "xrechnung-xml")),
        "buyer_reference": f"{coarse}-{fine}-{check}",
    }


def _segment(rng: random.Random) -> tuple[CustomerKind, str, str]:
    draw = rng.random()
    for share, kind, countries, vat_id in _SEGMENTS:
        if draw < share:
            return kind, rng.choice(countries), vat_id
        draw -= share
    return "consumer", "DE", "none"


def _vat_id(rng: random.Random, country: str, quality: str) -> str | None:
    """VAT ids whose check digits are right (python-stdnum's algorithms), or one that is not."""
    if quality == "none":
        return None
    digits = "".join(rng.choice("123456789") for _ in range(8))
    if quality == "malformed":
        return f"{country}{digits[:5]}"
    if country == "DE":
        return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"
    if country == "AT":
        # python-stdnum computes the check digit of "U" and the seven digits.
        return "ATU" + digits[:7] + uid.calc_check_digit("U" + digits[:7])
    siren = digits + luhn.calc_check_digit(digits)
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def _contracts(
    rng: random.Random, catalog: Catalog, customer: Customer, period: Period
) -> Iterator[Position]:
    contract = _Contract(rng, catalog, customer, period)
    yield from contract.package()
    yield from contract.addons()
    yield from contract.domains()
    yield from contract.extras()


class _Contract:
    """One customer's contract, built position by position."""

    def __init__(
        self, rng: random.Random, catalog: Catalog, customer: Customer, period: Period
    ) -> None:
        self.rng = rng
        self.catalog = catalog
        self.customer = customer
        self.period = period
        self.contract_id = f"K{customer.customer_id[1:]}"
        self.count = 0
        self.new = rng.random() < 0.08
        self.start = self._start_date()

    def package(self) -> Iterator[Position]:
        product = self.catalog.get(self.rng.choice(PACKAGES))
        draw = 1.0 if self.new else self.rng.random()
        if draw < 0.03:
            yield from self._upgrade(product)
            return
        end = self._day_in_period() if draw < 0.08 else None
        yield self._position(product, start=self.start, end=end)
        if self.new and product.product_id in {"VPS-2", "DED-1"}:
            yield self._position(self.catalog.get("SETUP-SRV"), start=self.start)
        if product.product_id == "VPS-2":
            yield self._position(
                self.catalog.get("TRAFFIC-TB"), start=self.start, quantity=self.rng.randint(1, 3)
            )

    def addons(self) -> Iterator[Position]:
        for product_id in self.rng.sample(ADDONS, k=self.rng.choice((0, 0, 1, 1, 2))):
            product = self.catalog.get(product_id)
            quantity = self.rng.randint(1, min(3, product.max_quantity))
            yield self._position(product, start=self.start, quantity=quantity)

    def domains(self) -> Iterator[Position]:
        for _ in range(self.rng.choice((0, 1, 1, 2, 3))):
            product = self.catalog.get(self.rng.choice(DOMAINS))
            start = self.period.start - timedelta(days=self.rng.randint(0, 1500))
            name = f"{self.customer.name.split()[-1].lower()}-{self.rng.randint(1, 999)}"
            description = f"Domain {name}.{product.tld}"
            yield self._position(product, start=start, anchor="start", description=description)

    def extras(self) -> Iterator[Position]:
        draw = self.rng.random()
        if draw < 0.05:
            yield self._position(self.catalog.get("MAG-WEB"), start=self.start)
        elif draw < 0.08:
            yield self._position(self.catalog.get("FEE-PASS"), start=self._day_in_period())
        elif draw < 0.10:
            yield self._position(self.catalog.get("CREDIT-GOODWILL"), start=self._day_in_period())
        elif draw < 0.102:
            yield self._unknown_product()

    def _upgrade(self, product: Product) -> Iterator[Position]:
        """The old package ends the day before the new one starts, inside the billed month."""
        switch = self.period.start + timedelta(days=self.rng.randint(5, 20))
        yield self._position(product, start=self.start, end=switch - timedelta(days=1))
        bigger = self.catalog.get("HOST-L" if product.product_id != "HOST-L" else "DED-1")
        yield self._position(bigger, start=switch)

    def _unknown_product(self) -> Position:
        position = self._position(self.catalog.get("HOST-M"), start=self.start)
        return position.model_copy(update={"product_id": UNKNOWN_PRODUCT})

    def _position(
        self,
        product: Product,
        *,
        start: date,
        end: date | None = None,
        quantity: int = 1,
        anchor: str = "fixed",
        description: str | None = None,
    ) -> Position:
        self.count += 1
        position = position_for(
            product,
            position_id=f"{self.contract_id}-{self.count:02d}",
            customer_id=self.customer.customer_id,
            contract_id=self.contract_id,
            start=start,
            quantity=quantity,
            description=description,
            billing_anchor="start" if anchor == "start" else "fixed",
        )
        if end is None:
            return position
        return Position.model_validate(position.model_dump() | {"end": end})

    def _start_date(self) -> date:
        if self.new:
            return self._day_in_period()
        return self.period.start - timedelta(days=self.rng.randint(30, 1500))

    def _day_in_period(self) -> date:
        return self.period.start + timedelta(days=self.rng.randint(0, self.period.end.day - 1))


_SHOP_PACKAGES = ("HOST-S", "HOST-M", "HOST-M", "HOST-L", "VPS-2", "DED-1")
_SHOP_CITIES = (("20095", "Hamburg", "DE"), ("80331", "München", "DE"), ("1010", "Wien", "AT"))


def shop_order(index: int) -> dict[str, object]:
    """A shop order as the website sends it, varied by ``index``; every 25th repeats a domain."""
    postal_code, city, country = _SHOP_CITIES[index % len(_SHOP_CITIES)]
    name = f"{_FIRST[index % len(_FIRST)]} {_LAST[index % len(_LAST)]}"
    domain = f"shop-kunde-{(index - 1 if index % 25 == 24 else index):05d}.de"
    package = _SHOP_PACKAGES[index % len(_SHOP_PACKAGES)]
    item: dict[str, object] = {"product": package}
    if package.startswith("HOST"):
        item["options"] = [{"product": "MAIL-5", "quantity": 1 + index % 5}]
    payment: dict[str, object] = {"method": "invoice"}
    if index % 2 == 0:
        payment = {
            "method": "sepa_direct_debit",
            "iban": "DE89370400440532013000",
            "account_holder": name,
            "mandate_consent": True,
        }
    return {
        "customer": {
            "name": name,
            "email": f"kunde{index:05d}@example.org",
            "type": "consumer",
            "billing_address": {
                "street": f"Musterweg {1 + index % 90}",
                "postal_code": postal_code,
                "city": city,
                "country": country,
            },
        },
        "payment": payment,
        "items": [item, {"product": "DOM-DE", "domains": [domain]}],
    }


def archive_customer(customer_id: str, name: str, *, shard_count: int = 64) -> Customer:
    """A consumer in Hamburg, for an archive seeded with a few documents of one package."""
    return Customer(
        customer_id=customer_id,
        name=name,
        email=f"{customer_id.lower()}@example.org",
        address=Address(street="Weg 1", postal_code="20095", city="Hamburg", country="DE"),
        shard=shard_of(customer_id, shard_count),
    )


def monthly_invoice(
    customer: Customer,
    number: str,
    period: Period,
    seller: Seller,
    *,
    package: tuple[str, str, Decimal] = ("HOST-S", "Webhosting S", Decimal("4.99")),
) -> Invoice:
    """The invoice a run issues, the day after ``period``, for one hosting package held since
    before it."""
    product_id, description, unit_net = package
    position = Position(
        position_id="P1",
        customer_id=customer.customer_id,
        contract_id="K1",
        product_id=product_id,
        description=description,
        quantity=1,
        unit_net=unit_net,
        start=date(period.year - 1, 1, 1),
    )
    draft = compose_invoice(customer, [position], period)
    if draft is None:
        raise ValueError(f"{product_id} bills nothing in {period}")
    issued = period.end + timedelta(days=1)
    return Invoice(
        number=number,
        run_id=run_id_for(period),
        issue_date=issued,
        due_date=issued + timedelta(days=14),
        seller=seller,
        draft=draft,
    )
