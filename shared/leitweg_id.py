"""Leitweg-IDs: the routing id a German public buyer gives for its XRechnung (BT-10).

The format of KoSIT's Leitweg-ID specification, checked offline: a coarse address of 2 to 12
digits (federation, state, district, municipality), an optional fine address of up to 30
letters and digits chosen by the authority, and two check digits, joined by hyphens, 46
characters at most. The check digits are ISO/IEC 7064 MOD 97-10 over both addresses, letters
counting as in an IBAN (A=10 .. Z=35). Whether the id is in use is for the buyer to confirm.
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_97_10

_LEITWEG_ID = re.compile(r"(?P<coarse>\d{2,12})(?:-(?P<fine>[A-Za-z0-9]{1,30}))?-(?P<check>\d{2})")


class InvalidLeitwegIdError(ValueError):
    pass


def validate_leitweg_id(text: str) -> str:
    """The Leitweg-ID without surrounding blanks, if its format and check digits are right."""
    leitweg_id = text.strip()
    match = _LEITWEG_ID.fullmatch(leitweg_id)
    if match is None:
        raise InvalidLeitwegIdError(
            f"{text!r} is not a Leitweg-ID: 2 to 12 digits, optionally a hyphen and up to 30 "
            "letters or digits, then a hyphen and two check digits"
        )

    addresses = match["coarse"] + (match["fine"] or "")
    expected = mod_97_10.calc_check_digits(addresses.upper())
    if match["check"] != expected:
        raise InvalidLeitwegIdError(f"Leitweg-ID {leitweg_id!r} fails its check digits")
    return leitweg_id
