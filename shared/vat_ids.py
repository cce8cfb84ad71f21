"""VAT ids of EU member states, checked offline in format and check digit (python-stdnum).

A valid format is not a registration: whether the id is in use is for VIES to confirm
(qualified confirmation, § 18e UStG), at order time and apart from billing.
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError

VatIdProblem = Literal["format", "checksum", "country"]

_PREFIXES = {"GR": "EL"}
_SEPARATORS = re.compile(r"[\s.\-/]")


class InvalidVatIdError(ValueError):
    """A VAT id that cannot be used for the buyer's country; `problem` says why."""

    def __init__(self, problem: VatIdProblem, message: str) -> None:
        super().__init__(message)
        self.problem: VatIdProblem = problem


def vat_id_prefix(country: str) -> str:
    """The prefix of a member state's VAT ids: its ISO code, but EL for Greece (GR)."""
    return _PREFIXES.get(country, country)


def validate_vat_id(vat_id: str, country: str) -> str:
    """The compact form of a VAT id of the buyer's country, e.g. 'FR40303265045'."""
    compact = _SEPARATORS.sub("", vat_id).upper()
    _check_country(compact, country)

    try:
        return str(eu_vat.validate(compact))
    except InvalidChecksum as error:
        raise InvalidVatIdError("checksum", f"VAT id {compact!r} fails its check digit") from error
    except ValidationError as error:
        message = f"VAT id {compact!r} is not in the format of {country}: {error}"
        raise InvalidVatIdError("format", message) from error


def _check_country(compact: str, country: str) -> None:
    if country.lower() not in eu_vat.MEMBER_STATES:
        message = f"{country!r} is not an EU member state; only EU VAT ids are checked"
        raise InvalidVatIdError("country", message)

    expected = vat_id_prefix(country)
    if not compact[:2].isalpha():
        message = f"VAT id {compact!r} lacks its country prefix {expected}"
        raise InvalidVatIdError("format", message)
    if compact[:2] != expected:
        message = f"VAT id {compact!r} is not from {country}: its prefix must be {expected}"
        raise InvalidVatIdError("country", message)
