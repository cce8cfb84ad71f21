"""VAT of a German seller of electronically supplied services, per invoice line and per rate.

Which VAT a line carries follows from where the buyer is, whether the buyer is a business with a
VAT id, and the product's tax category (`vat_treatment`):

- Buyer outside the EU (CH, NO, US, GB and Northern Ireland, whose XI ids count for goods only):
  the place of supply is the buyer's country (§ 3a Abs. 2 and 5 UStG), so no German VAT; EN 16931
  category O. Not G, which is the tax-free export of goods. EN 16931 allows no other VAT group
  beside O (BR-O-11), so an exempt fee of such a buyer is O as well.
- Exempt category, buyer in the EU: E with the reason and VATEX code of an `Exemption`; the
  default is the registry fee passed through in the customer's name (durchlaufender Posten).
- Buyer in Germany: the German rate, consumer or business alike.
- Business in another member state whose VAT id is valid in format for that state: reverse
  charge, AE, rate 0; its compact id goes on the invoice (§ 14a Abs. 1 UStG).
- Anyone else in another member state: that state's rate on the supply date, declared through
  the one-stop shop (§ 3a Abs. 5 UStG; the EU-wide 10,000 EUR threshold is taken as passed).
  A business without a valid id counts as a consumer: without the id the seller cannot show that
  the buyer is a business, so neither the business place of supply nor reverse charge applies
  (Art. 18 Abs. 2 Implementing Regulation (EU) 282/2011).

Rates come from the dated table in shared/data/vat_rates.json (`rate`). Tax is computed once per
rate and category on the sum of its lines, half-up to the cent (`group_taxes`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shared.customers import CustomerKind
from shared.money import to_cents
from shared.vat_ids import InvalidVatIdError, validate_vat_id

SELLER_COUNTRY = "DE"
ZERO_RATE = Decimal(0)
REVERSE_CHARGE_NOTE = (
    "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge), "
    "Art. 196 MwStSystRL / § 13b UStG"
)
NOT_SUBJECT_NOTE = "Nicht im Inland steuerbare Leistung (Leistungsort im Drittland, § 3a UStG)"


class TaxCategory(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    EXEMPT = "exempt"


class VatCategoryCode(StrEnum):
    """The EN 16931 VAT category codes (UNTDID 5305) this module assigns."""

    STANDARD = "S"
    REVERSE_CHARGE = "AE"
    EXEMPT = "E"
    NOT_SUBJECT = "O"


GERMAN_RATES: Mapping[TaxCategory, Decimal] = {
    TaxCategory.STANDARD: Decimal("19"),
    TaxCategory.REDUCED: Decimal("7"),
    TaxCategory.EXEMPT: ZERO_RATE,
}


def rate_for(category: TaxCategory) -> Decimal:
    """The German rate in force since 2021; dated and foreign rates come from `rate`."""
    return GERMAN_RATES[category]


def tax_on(net: Decimal, rate_percent: Decimal) -> Decimal:
    return to_cents(net * rate_percent / Decimal(100))


class VatRateError(LookupError):
    """No rate in the table: a country outside it, or a date before its first entry."""


def _rate_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError(f"rates are decimal strings such as '25.5', not {value!r}")
    return value


RateText = Annotated[Decimal, BeforeValidator(_rate_text), Field(ge=0, lt=100)]


class _RatePeriod(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    valid_from: date
    standard: RateText
    reduced: RateText
    reduced_basis: Literal["periodicals", "main_reduced", "no_reduced_rate"]
    note: str | None = None


class _CountryRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    periods: tuple[_RatePeriod, ...] = Field(min_length=1)

    @field_validator("periods")
    @classmethod
    def _strictly_ascending(cls, periods: tuple[_RatePeriod, ...]) -> tuple[_RatePeriod, ...]:
        starts = [period.valid_from for period in periods]
        if starts != sorted(set(starts)):
            raise ValueError("periods must be ordered by valid_from, each date once")
        return periods


class _RateTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    as_of: date
    scope: str
    reduced_rate_rule: str
    countries: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], _CountryRates]


@cache
def _table() -> _RateTable:
    data = resources.files("shared.data").joinpath("vat_rates.json")
    return _RateTable.model_validate_json(data.read_text(encoding="utf-8"))


@cache
def eu_member_states() -> frozenset[str]:
    """ISO codes of the member states in the rate table (Greece is GR)."""
    return frozenset(_table().countries)


def rate(country: str, category: TaxCategory, on: date) -> Decimal:
    """The VAT rate in percent of a member state for a tax category on a supply date."""
    period = _period_in_force(country, on)
    if category is TaxCategory.EXEMPT:
        return ZERO_RATE
    return period.standard if category is TaxCategory.STANDARD else period.reduced


def _period_in_force(country: str, on: date) -> _RatePeriod:
    rates = _table().countries.get(country)
    if rates is None:
        raise VatRateError(f"no VAT rates for {country!r}: not a member state in the rate table")

    index = bisect_right(rates.periods, on, key=lambda period: period.valid_from)
    if index == 0:
        first = rates.periods[0].valid_from
        raise VatRateError(f"no VAT rate for {country} on {on}: its table starts {first}")
    return rates.periods[index - 1]


@dataclass(frozen=True, slots=True)
class Exemption:
    """Why a line of the exempt category carries no VAT: invoice text and VATEX code."""

    reason: str
    code: str


PASS_THROUGH = Exemption(
    reason=(
        "Durchlaufender Posten, im Namen und für Rechnung des Kunden verauslagt "
        "(§ 10 Abs. 1 UStG), nicht steuerbar"
    ),
    code="VATEX-EU-79-C",
)


@dataclass(frozen=True, slots=True)
class VatTreatment:
    """The VAT of one invoice line; `oss` lines go into the one-stop-shop return."""

    rate: Decimal
    category_code: VatCategoryCode
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None
    reverse_charge: bool = False
    oss: bool = False
    buyer_vat_id: str | None = None


_NOT_SUBJECT = VatTreatment(
    rate=ZERO_RATE,
    category_code=VatCategoryCode.NOT_SUBJECT,
    exemption_reason=NOT_SUBJECT_NOTE,
    exemption_reason_code="VATEX-EU-O",
)


def vat_treatment(
    *,
    seller_country: str,
    buyer_country: str,
    buyer_kind: CustomerKind,
    buyer_vat_id: str | None,
    category: TaxCategory,
    supply_date: date,
    exemption: Exemption = PASS_THROUGH,
) -> VatTreatment:
    """The VAT of a line sold by a German seller; the module docstring gives the rules."""
    _require_german_seller(seller_country)
    _require_country_code(buyer_country)

    if buyer_country not in eu_member_states():
        return _NOT_SUBJECT
    if category is TaxCategory.EXEMPT:
        return _exempt(exemption)
    if buyer_country == seller_country:
        return _taxed(buyer_country, category, supply_date, oss=False)

    reverse_charge_id = _reverse_charge_id(buyer_kind, buyer_vat_id, buyer_country)
    if reverse_charge_id is not None:
        return _reverse_charge(reverse_charge_id)
    return _taxed(buyer_country, category, supply_date, oss=True)


def _require_german_seller(seller_country: str) -> None:
    if seller_country != SELLER_COUNTRY:
        raise ValueError(f"VAT rules are for a seller in DE, not in {seller_country!r}")


def _require_country_code(country: str) -> None:
    if country == "EL":
        raise ValueError("Greece is GR in an address; EL is the prefix of its VAT ids only")
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"not an ISO country code: {country!r}")


def _exempt(exemption: Exemption) -> VatTreatment:
    return VatTreatment(
        rate=ZERO_RATE,
        category_code=VatCategoryCode.EXEMPT,
        exemption_reason=exemption.reason,
        exemption_reason_code=exemption.code,
    )


def _taxed(country: str, category: TaxCategory, supply_date: date, *, oss: bool) -> VatTreatment:
    return VatTreatment(
        rate=rate(country, category, supply_date),
        category_code=VatCategoryCode.STANDARD,
        oss=oss,
    )


def _reverse_charge_id(kind: CustomerKind, vat_id: str | None, country: str) -> str | None:
    if kind != "business" or not vat_id:
        return None
    try:
        return validate_vat_id(vat_id, country)
    except InvalidVatIdError:
        return None


def _reverse_charge(buyer_vat_id: str) -> VatTreatment:
    return VatTreatment(
        rate=ZERO_RATE,
        category_code=VatCategoryCode.REVERSE_CHARGE,
        exemption_reason=REVERSE_CHARGE_NOTE,
        exemption_reason_code="VATEX-EU-AE",
        reverse_charge=True,
        buyer_vat_id=buyer_vat_id,
    )


@dataclass(frozen=True, slots=True)
class TaxGroup:
    """One VAT breakdown of an invoice: the lines of a rate and category, taxed on their sum."""

    rate: Decimal
    category_code: VatCategoryCode
    exemption_reason: str | None
    exemption_reason_code: str | None
    net: Decimal
    tax: Decimal


_GroupKey = tuple[Decimal, VatCategoryCode, str | None, str | None]


def group_taxes(items: Iterable[tuple[VatTreatment, Decimal]]) -> list[TaxGroup]:
    """The groups of one invoice's lines (treatment, net in cents), highest rate first.

    Group nets add up to the line nets exactly; each group's tax is half-up to the cent of its
    net times its rate (a negative amount rounds half away from zero, the mirror image).
    """
    nets: dict[_GroupKey, Decimal] = defaultdict(Decimal)
    for treatment, net in items:
        nets[_group_key(treatment)] += _whole_cents(net)

    groups = [
        TaxGroup(*key, net=to_cents(net), tax=tax_on(net, key[0])) for key, net in nets.items()
    ]
    return sorted(groups, key=lambda g: (-g.rate, g.category_code, g.exemption_reason or ""))


def _group_key(treatment: VatTreatment) -> _GroupKey:
    return (
        treatment.rate,
        treatment.category_code,
        treatment.exemption_reason,
        treatment.exemption_reason_code,
    )


def _whole_cents(net: Decimal) -> Decimal:
    if net != to_cents(net):
        raise ValueError(f"a line net must be in whole cents to reconcile, not {net}")
    return net
