"""Countries (ISO 3166-1 alpha-2, from pycountry), their postal code formats, and the SEPA zone."""

from __future__ import annotations

import re
from functools import cache

import pycountry

# Formats of the countries our customers live in; other countries get a general check.
POSTAL_CODES = {
    "DE": r"[0-9]{5}",
    "AT": r"[1-9][0-9]{3}",
    "CH": r"[1-9][0-9]{3}",
    "LI": r"94[89][0-9]",
    "FR": r"[0-9]{5}",
    "IT": r"[0-9]{5}",
    "ES": r"(0[1-9]|[1-4][0-9]|5[0-2])[0-9]{3}",
    "PT": r"[1-9][0-9]{3}-[0-9]{3}",
    "NL": r"[1-9][0-9]{3} ?[A-Z]{2}",
    "BE": r"[1-9][0-9]{3}",
    "LU": r"(L-)?[0-9]{4}",
    "DK": r"[0-9]{4}",
    "SE": r"[1-9][0-9]{2} ?[0-9]{2}",
    "FI": r"[0-9]{5}",
    "NO": r"[0-9]{4}",
    "PL": r"[0-9]{2}-[0-9]{3}",
    "CZ": r"[1-7][0-9]{2} ?[0-9]{2}",
    "SK": r"[089][0-9]{2} ?[0-9]{2}",
    "HU": r"[1-9][0-9]{3}",
    "IE": r"[AC-FHKNPRTV-Y][0-9]{2}[0-9W] ?[0-9AC-FHKNPRTV-Y]{4}",
    "GB": r"[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}",
    "US": r"[0-9]{5}(-[0-9]{4})?",
    "CA": r"[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]",
    "GR": r"[1-8][0-9]{2} ?[0-9]{2}",
    "RO": r"[0-9]{6}",
    "BG": r"[1-9][0-9]{3}",
    "HR": r"[1-5][0-9]{4}",
    "SI": r"[1-9][0-9]{3}",
    "EE": r"[0-9]{5}",
    "LV": r"LV-[0-9]{4}",
    "LT": r"(LT-)?[0-9]{5}",
    "MT": r"[A-Z]{3} ?[0-9]{4}",
    "CY": r"[1-9][0-9]{3}",
}
_GENERAL_POSTAL_CODE = r"[A-Z0-9][A-Z0-9 -]{1,9}"

# Countries and territories of the SEPA scheme (EPC list), by the IBAN's country code.
SEPA_COUNTRIES = frozenset(
    [
        "AD",
        "AT",
        "BE",
        "BG",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GB",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IS",
        "IT",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MT",
        "NL",
        "NO",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "SM",
        "VA",
        "AX",
        "GF",
        "GP",
        "MQ",
        "YT",
        "RE",
        "BL",
        "MF",
        "PM",
        "PF",
        "NC",
        "WF",
        "JE",
        "GG",
        "IM",
    ]
)


@cache
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


_COMPILED_POSTAL_CODES = {country: re.compile(pattern) for country, pattern in POSTAL_CODES.items()}
_COMPILED_GENERAL_POSTAL_CODE = re.compile(_GENERAL_POSTAL_CODE)


def postal_code_problem(postal_code: str, country: str) -> str | None:
    pattern = _COMPILED_POSTAL_CODES.get(country, _COMPILED_GENERAL_POSTAL_CODE)
    if pattern.fullmatch(postal_code):
        return None
    if country in POSTAL_CODES:
        return f"is not a postal code of {country}"
    return "is not a postal code"
