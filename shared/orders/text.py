"""Names, streets and cities: letters of any script, but no control, format or markup characters.

Invisible characters (zero-width joiners, bidirectional overrides), control characters and the
characters of markup, templates and shells have no place in a name on an invoice; refusing them
keeps them out of PDFs, e-mails, exports and spreadsheets downstream.
"""

from __future__ import annotations

import string
import unicodedata

# Besides letters, marks, digits and the plain space.
# Typographic apostrophe and German quotes included: U+2019, U+201E, U+201C, U+201D.
ALLOWED_PUNCTUATION = frozenset(".,'-&/()+:#\"\u2019\u201e\u201c\u201d")
# A leading one of these makes a spreadsheet cell a formula.
FORMULA_STARTS = frozenset("=+-@")
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# ASCII letters and digits, the space and the punctuation above: taken without a look-up.
_PLAIN_CHARACTERS = frozenset(string.ascii_letters + string.digits + " ") | ALLOWED_PUNCTUATION


def text_problem(value: str, *, max_length: int) -> str | None:
    """Why ``value`` is no plain text of at most ``max_length`` characters, or None."""
    if not value.strip():
        return "must not be empty"
    if value != value.strip() or "  " in value:
        return "has leading, trailing or doubled spaces"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    if not unicodedata.is_normalized("NFC", value):
        return "is not in Unicode normal form C"
    if value[0] in FORMULA_STARTS:
        return "must not start with = + - or @"
    return _first_character_problem(value)


def _first_character_problem(value: str) -> str | None:
    if _PLAIN_CHARACTERS.issuperset(value):
        return None
    for character in value:
        problem = None if character in _PLAIN_CHARACTERS else _character_problem(character)
        if problem:
            return problem
    return None


def _character_problem(character: str) -> str | None:
    category = unicodedata.category(character)
    if category in _REFUSED_CATEGORIES:
        return f"contains the invisible or control character U+{ord(character):04X}"
    if category[0] in "LMN" or character == " " or character in ALLOWED_PUNCTUATION:
        return None
    return f"contains the character {character!r}, which names and addresses do not use"
