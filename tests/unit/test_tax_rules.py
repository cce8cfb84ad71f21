import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from math import floor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.eu import vat as eu_vat

from shared.customers import CustomerKind
from shared.tax import (
    GERMAN_RATES,
    NOT_SUBJECT_NOTE,
    PASS_THROUGH,
    REVERSE_CHARGE_NOTE,
    Exemption,
    TaxCategory,
    VatCategoryCode,
    VatRateError,
    VatTreatment,
    eu_member_states,
    group_taxes,
    rate,
    rate_for,
    vat_treatment,
)
from shared.vat_ids import InvalidVatIdError, validate_vat_id

STANDARD, REDUCED, EXEMPT = TaxCategory.STANDARD, TaxCategory.REDUCED, TaxCategory.EXEMPT
SUPPLY = date(2026, 11, 30)
VALID_IDS = {
    "AT": "ATU13585627",
    "BE": "BE0403019261",
    "DE": "DE136695976",
    "EE": "EE100931558",
    "ES": "ESX2482300W",
    "FI": "FI20774740",
    "FR": "FR40303265045",
    "GR": "EL094259216",
    "IT": "IT00743110157",
    "NL": "NL004495445B01",
    "PL": "PL8567346215",
    "RO": "RO18547290",
    "SE": "SE123456789701",
    "SK": "SK2022749619",
}
NON_EU = ["CH", "GB", "NO", "US"]
KINDS: list[CustomerKind] = ["consumer", "business"]
repeatable = settings(derandomize=True, database=None, max_examples=300)


def treat(
    country: str,
    kind: CustomerKind = "consumer",
    vat_id: str | None = None,
    category: TaxCategory = STANDARD,
    on: date = SUPPLY,
) -> VatTreatment:
    return vat_treatment(
        seller_country="DE",
        buyer_country=country,
        buyer_kind=kind,
        buyer_vat_id=vat_id,
        category=category,
        supply_date=on,
    )


def taxed(percent: str, *, oss: bool) -> VatTreatment:
    return VatTreatment(rate=Decimal(percent), category_code=VatCategoryCode.STANDARD, oss=oss)


def raw_table() -> Any:
    text = resources.files("shared.data").joinpath("vat_rates.json").read_text(encoding="utf-8")
    return json.loads(text)


# The rate table


def test_the_table_covers_the_27_member_states_from_2024() -> None:
    members = {code.upper() for code in eu_vat.MEMBER_STATES} - {"XI"}

    assert eu_member_states() == members
    assert len(members) == 27
    for code in members:
        assert rate(code, STANDARD, date(2024, 1, 1)) > rate(code, EXEMPT, date(2024, 1, 1))


def test_the_table_names_its_source_and_date_and_writes_rates_as_strings() -> None:
    table = raw_table()

    assert table["source"].startswith("European Commission")
    assert date.fromisoformat(table["as_of"]) >= date(2026, 1, 1)
    periods = [p for country in table["countries"].values() for p in country["periods"]]
    assert all(isinstance(p[key], str) for p in periods for key in ("standard", "reduced"))
    bases = {"periodicals", "main_reduced", "no_reduced_rate"}
    assert {p["reduced_basis"] for p in periods} <= bases


@pytest.mark.parametrize(
    ("country", "category", "on", "expected"),
    [
        ("DE", STANDARD, SUPPLY, "19"),
        ("DE", REDUCED, SUPPLY, "7"),
        ("AT", STANDARD, SUPPLY, "20"),
        ("AT", REDUCED, SUPPLY, "10"),
        ("FR", STANDARD, SUPPLY, "20"),
        ("FR", REDUCED, SUPPLY, "2.1"),
        ("NL", REDUCED, SUPPLY, "9"),
        ("ES", REDUCED, SUPPLY, "4"),
        ("IT", STANDARD, SUPPLY, "22"),
        ("PL", REDUCED, SUPPLY, "8"),
        ("DK", REDUCED, SUPPLY, "25"),
        ("HU", STANDARD, SUPPLY, "27"),
        ("LU", STANDARD, SUPPLY, "17"),
        ("FI", STANDARD, date(2024, 8, 31), "24"),
        ("FI", STANDARD, date(2024, 9, 1), "25.5"),
        ("FI", REDUCED, date(2024, 9, 1), "10"),
        ("EE", STANDARD, date(2024, 1, 1), "22"),
        ("EE", STANDARD, date(2025, 6, 30), "22"),
        ("EE", STANDARD, date(2025, 7, 1), "24"),
        ("EE", REDUCED, date(2024, 12, 31), "5"),
        ("EE", REDUCED, date(2025, 1, 1), "9"),
        ("RO", STANDARD, date(2025, 7, 31), "19"),
        ("RO", STANDARD, date(2025, 8, 1), "21"),
        ("RO", REDUCED, date(2025, 7, 31), "5"),
        ("RO", REDUCED, date(2025, 8, 1), "11"),
        ("SK", STANDARD, date(2024, 12, 31), "20"),
        ("SK", STANDARD, date(2025, 1, 1), "23"),
        ("SK", REDUCED, date(2025, 1, 1), "5"),
        ("SE", EXEMPT, SUPPLY, "0"),
    ],
)
def test_rate_in_force_on_the_supply_date(
    country: str, category: TaxCategory, on: date, expected: str
) -> None:
    found = rate(country, category, on)

    assert type(found) is Decimal
    assert found == Decimal(expected)


def test_german_rates_for_undated_callers_match_the_table() -> None:
    for category in TaxCategory:
        assert rate_for(category) == GERMAN_RATES[category] == rate("DE", category, SUPPLY)


@pytest.mark.parametrize("country", ["CH", "GB", "XI", "EL", "de"])
def test_a_country_outside_the_table_has_no_rate(country: str) -> None:
    with pytest.raises(VatRateError, match=f"'{country}'"):
        rate(country, STANDARD, SUPPLY)


def test_a_date_before_the_first_entry_has_no_rate() -> None:
    with pytest.raises(VatRateError, match=r"AT on 2023-12-31: its table starts 2024-01-01"):
        rate("AT", STANDARD, date(2023, 12, 31))


# Treatment of a line


def test_german_consumer_pays_german_vat() -> None:
    assert treat("DE") == taxed("19", oss=False)
    assert treat("DE", category=REDUCED) == taxed("7", oss=False)


def test_german_business_with_german_vat_id_pays_german_vat() -> None:
    assert treat("DE", "business", VALID_IDS["DE"]) == taxed("19", oss=False)


def test_consumer_in_another_member_state_pays_that_states_rate() -> None:
    assert treat("AT") == taxed("20", oss=True)
    assert treat("AT", category=REDUCED) == taxed("10", oss=True)
    assert treat("FR", "consumer", VALID_IDS["FR"]) == taxed("20", oss=True)


def test_business_with_valid_vat_id_in_another_member_state_gets_reverse_charge() -> None:
    treatment = treat("FR", "business", "fr 40 303 265 045", category=REDUCED)

    assert treatment == VatTreatment(
        rate=Decimal(0),
        category_code=VatCategoryCode.REVERSE_CHARGE,
        exemption_reason=REVERSE_CHARGE_NOTE,
        exemption_reason_code="VATEX-EU-AE",
        reverse_charge=True,
        buyer_vat_id="FR40303265045",
    )
    assert "Art. 196 MwStSystRL / § 13b UStG" in REVERSE_CHARGE_NOTE


def test_greek_business_gets_reverse_charge_with_an_el_id_only() -> None:
    assert treat("GR", "business", VALID_IDS["GR"]).reverse_charge
    assert treat("GR", "business", "GR094259216") == taxed("24", oss=True)


@pytest.mark.parametrize(
    "vat_id",
    [
        None,
        "",
        "FR4030326504",
        "FR40303265046",
        "40303265045",
        VALID_IDS["DE"],
        VALID_IDS["AT"],
    ],
    ids=["none", "empty", "too-short", "checksum", "no-prefix", "german-id", "austrian-id"],
)
def test_business_without_a_valid_id_of_its_state_pays_like_a_consumer(vat_id: str | None) -> None:
    assert treat("FR", "business", vat_id) == taxed("20", oss=True)


@pytest.mark.parametrize("country", NON_EU)
@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("category", list(TaxCategory))
def test_buyer_outside_the_eu_pays_no_german_vat(
    country: str, kind: CustomerKind, category: TaxCategory
) -> None:
    assert treat(country, kind, None, category) == VatTreatment(
        rate=Decimal(0),
        category_code=VatCategoryCode.NOT_SUBJECT,
        exemption_reason=NOT_SUBJECT_NOTE,
        exemption_reason_code="VATEX-EU-O",
    )


def test_northern_ireland_business_with_xi_id_counts_as_outside_the_eu() -> None:
    treatment = treat("GB", "business", "XI925901618")

    assert treatment.category_code is VatCategoryCode.NOT_SUBJECT
    assert treatment.exemption_reason == (
        "Nicht im Inland steuerbare Leistung (Leistungsort im Drittland, § 3a UStG)"
    )


@pytest.mark.parametrize(
    ("country", "kind", "vat_id"),
    [("DE", "consumer", None), ("AT", "consumer", None), ("FR", "business", VALID_IDS["FR"])],
)
def test_exempt_fee_in_the_eu_is_exempt_with_its_reason(
    country: str, kind: CustomerKind, vat_id: str | None
) -> None:
    treatment = treat(country, kind, vat_id, EXEMPT)

    assert treatment == VatTreatment(
        rate=Decimal(0),
        category_code=VatCategoryCode.EXEMPT,
        exemption_reason=PASS_THROUGH.reason,
        exemption_reason_code="VATEX-EU-79-C",
    )


def test_exemption_is_configurable() -> None:
    insurance = Exemption(reason="Steuerfrei nach § 4 Nr. 10 UStG", code="VATEX-EU-135-1")

    treatment = vat_treatment(
        seller_country="DE",
        buyer_country="DE",
        buyer_kind="consumer",
        buyer_vat_id=None,
        category=EXEMPT,
        supply_date=SUPPLY,
        exemption=insurance,
    )

    assert (treatment.exemption_reason, treatment.exemption_reason_code) == (
        "Steuerfrei nach § 4 Nr. 10 UStG",
        "VATEX-EU-135-1",
    )


@pytest.mark.parametrize(
    ("country", "before", "after", "changed_on"),
    [
        ("FI", "24", "25.5", date(2024, 9, 1)),
        ("EE", "22", "24", date(2025, 7, 1)),
        ("RO", "19", "21", date(2025, 8, 1)),
        ("SK", "20", "23", date(2025, 1, 1)),
    ],
)
def test_consumer_rate_follows_the_supply_date(
    country: str, before: str, after: str, changed_on: date
) -> None:
    assert treat(country, on=changed_on - timedelta(days=1)) == taxed(before, oss=True)
    assert treat(country, on=changed_on) == taxed(after, oss=True)


def test_consumer_supply_before_the_table_is_refused() -> None:
    with pytest.raises(VatRateError):
        treat("AT", on=date(2023, 6, 30))


@pytest.mark.parametrize(
    ("seller", "buyer", "message"),
    [
        ("AT", "DE", "seller in DE"),
        ("DE", "EL", "Greece is GR"),
        ("DE", "fr", "not an ISO country code"),
    ],
)
def test_bad_parties_are_refused(seller: str, buyer: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vat_treatment(
            seller_country=seller,
            buyer_country=buyer,
            buyer_kind="consumer",
            buyer_vat_id=None,
            category=STANDARD,
            supply_date=SUPPLY,
        )


# VAT ids


@pytest.mark.parametrize(
    ("vat_id", "country", "compact"),
    [
        ("fr 40 303 265 045", "FR", "FR40303265045"),
        ("ATU 135 856 27", "AT", "ATU13585627"),
        ("DE-136.695.976", "DE", "DE136695976"),
        ("EL094259216", "GR", "EL094259216"),
    ],
)
def test_valid_vat_id_comes_back_compact(vat_id: str, country: str, compact: str) -> None:
    assert validate_vat_id(vat_id, country) == compact


@pytest.mark.parametrize(
    ("vat_id", "country", "problem", "message"),
    [
        ("FR40303265046", "FR", "checksum", "check digit"),
        ("FR4030326504", "FR", "format", "format of FR"),
        ("FRXX", "FR", "format", "format of FR"),
        ("40303265045", "FR", "format", "country prefix FR"),
        ("", "FR", "format", "country prefix FR"),
        ("DE136695976", "FR", "country", "prefix must be FR"),
        ("GR094259216", "GR", "country", "prefix must be EL"),
        ("CHE123456789", "CH", "country", "not an EU member state"),
    ],
)
def test_invalid_vat_id_names_its_problem(
    vat_id: str, country: str, problem: str, message: str
) -> None:
    with pytest.raises(InvalidVatIdError, match=message) as caught:
        validate_vat_id(vat_id, country)

    assert caught.value.problem == problem
    assert isinstance(caught.value, ValueError)


# Tax groups


def test_groups_tax_each_rate_on_its_sum_highest_rate_first() -> None:
    lines = [
        (treat("DE"), Decimal("9.99")),
        (treat("DE", category=REDUCED), Decimal("6.50")),
        (treat("DE", category=EXEMPT), Decimal("5.00")),
        (treat("DE"), Decimal("2.97")),
    ]

    groups = group_taxes(lines)

    assert [(g.rate, g.category_code, g.net, g.tax) for g in groups] == [
        (Decimal(19), VatCategoryCode.STANDARD, Decimal("12.96"), Decimal("2.46")),
        (Decimal(7), VatCategoryCode.STANDARD, Decimal("6.50"), Decimal("0.46")),
        (Decimal(0), VatCategoryCode.EXEMPT, Decimal("5.00"), Decimal("0.00")),
    ]
    assert groups[2].exemption_reason == PASS_THROUGH.reason


def test_tax_is_rounded_once_per_group_half_up() -> None:
    three_small = [(treat("DE"), Decimal("0.03"))] * 3

    assert group_taxes(three_small)[0].tax == Decimal("0.02")
    assert group_taxes([(treat("DE"), Decimal("1.50"))])[0].tax == Decimal("0.29")


def test_zero_rate_groups_are_kept_apart_by_category() -> None:
    reverse_charge = treat("FR", "business", VALID_IDS["FR"])
    exempt = treat("FR", "business", VALID_IDS["FR"], EXEMPT)

    groups = group_taxes([(exempt, Decimal("5.00")), (reverse_charge, Decimal("10.00"))])

    assert [(g.category_code, g.exemption_reason_code, g.net) for g in groups] == [
        (VatCategoryCode.REVERSE_CHARGE, "VATEX-EU-AE", Decimal("10.00")),
        (VatCategoryCode.EXEMPT, "VATEX-EU-79-C", Decimal("5.00")),
    ]


def test_line_net_must_be_in_whole_cents() -> None:
    with pytest.raises(ValueError, match="whole cents"):
        group_taxes([(treat("DE"), Decimal("0.125"))])


def test_no_lines_give_no_groups() -> None:
    assert group_taxes([]) == []


# Properties

countries = st.sampled_from(sorted(eu_member_states()) + NON_EU)
supply_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@st.composite
def treatments(draw: st.DrawFn) -> tuple[str, VatTreatment]:
    country = draw(countries)
    on = draw(supply_dates)
    vat_id = draw(st.sampled_from([None, VALID_IDS.get(country), "FR123", "DE136695976"]))
    kind = draw(st.sampled_from(KINDS))
    category = draw(st.sampled_from(list(TaxCategory)))
    return country, treat(country, kind, vat_id, category, on)


def half_up_cents(value: Fraction) -> int:
    """Cents of an amount, half a cent away from zero."""
    magnitude = floor(abs(value) * 100 + Fraction(1, 2))
    return -magnitude if value < 0 else magnitude


@repeatable
@given(treatments())
def test_every_treatment_is_consistent(drawn: tuple[str, VatTreatment]) -> None:
    country, treatment = drawn

    if treatment.category_code is VatCategoryCode.STANDARD:
        assert treatment.rate > 0
        assert treatment.exemption_reason is None
        assert treatment.oss == (country != "DE")
    else:
        assert treatment.rate == 0
        assert treatment.exemption_reason
        assert treatment.exemption_reason_code
    assert treatment.reverse_charge == (treatment.category_code is VatCategoryCode.REVERSE_CHARGE)
    assert (treatment.buyer_vat_id is not None) == treatment.reverse_charge
    assert (country in NON_EU) == (treatment.category_code is VatCategoryCode.NOT_SUBJECT)


line_nets = st.integers(min_value=-100_000, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
invoice_lines = st.lists(
    st.tuples(treatments().map(lambda drawn: drawn[1]), line_nets), min_size=0, max_size=15
)


@repeatable
@given(invoice_lines)
def test_groups_reconcile_with_their_lines(lines: list[tuple[VatTreatment, Decimal]]) -> None:
    groups = group_taxes(lines)

    assert sum(g.net for g in groups) == sum(net for _, net in lines)
    for group in groups:
        expected_cents = half_up_cents(Fraction(group.net) * Fraction(group.rate) / 100)
        assert group.tax == Decimal(expected_cents) / 100
        assert type(group.net) is type(group.tax) is Decimal
        assert group.net.as_tuple().exponent == group.tax.as_tuple().exponent == -2


@repeatable
@given(invoice_lines)
def test_each_group_holds_the_lines_of_its_rate_and_category(
    lines: list[tuple[VatTreatment, Decimal]],
) -> None:
    groups = group_taxes(lines)

    keys = [(g.rate, g.category_code, g.exemption_reason) for g in groups]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1], k[2] or ""))
    for group in groups:
        key = (group.rate, group.category_code, group.exemption_reason)
        nets = [net for t, net in lines if (t.rate, t.category_code, t.exemption_reason) == key]
        assert group.net == sum(nets)
