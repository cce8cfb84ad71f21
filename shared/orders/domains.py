"""Domain names as we register them: one label under a top-level domain we sell.

Names arrive in Unicode or as A-labels; IDNA 2008 with the UTS 46 mapping (the ``idna`` package)
decides what is a valid label, including its contextual and bidirectional rules. On top of it: a
label may not mix Latin with Cyrillic or Greek letters (the classic look-alike trick), and the
ASCII form must keep within the lengths of the DNS.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import idna

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
_ALABEL_PREFIX = "xn--"
_LOOKALIKE_SCRIPTS = ({"LATIN", "CYRILLIC"}, {"LATIN", "GREEK"}, {"CYRILLIC", "GREEK"})


@dataclass(frozen=True)
class DomainName:
    ascii: str
    unicode: str

    @property
    def tld(self) -> str:
        return self.ascii.rsplit(".", 1)[-1]


class InvalidDomainError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=4096)
def parse_domain(raw: str) -> DomainName:
    """The registrable name ``label.tld``, or InvalidDomainError saying what is wrong.

    Cached: the checks and the planner of one order both ask for the same names.
    """
    if raw != raw.strip() or not raw:
        raise InvalidDomainError("domain_syntax", "must not be empty or carry spaces")
    if len(raw) > MAX_NAME_LENGTH:
        raise InvalidDomainError("domain_length", f"is longer than {MAX_NAME_LENGTH} characters")
    try:
        ascii_name = idna.encode(raw, uts46=True, std3_rules=True, transitional=False).decode()
    except idna.IDNAError as error:
        raise InvalidDomainError("domain_syntax", f"is not a valid domain name ({error})") from None
    except UnicodeError:
        raise InvalidDomainError("domain_syntax", "is not a valid domain name") from None
    return _checked(ascii_name)


def _checked(ascii_name: str) -> DomainName:
    labels = ascii_name.split(".")
    if len(labels) != 2:
        message = "must be exactly one name under a top-level domain, like beispiel.de"
        raise InvalidDomainError("domain_labels", message)
    if len(ascii_name) > MAX_NAME_LENGTH or any(len(label) > MAX_LABEL_LENGTH for label in labels):
        message = f"has a label longer than {MAX_LABEL_LENGTH} characters in its ASCII form"
        raise InvalidDomainError("domain_length", message)
    unicode_name = _unicode_form(ascii_name)
    if _mixes_lookalike_scripts(unicode_name.split(".")[0]):
        message = "mixes Latin, Cyrillic or Greek letters in one label"
        raise InvalidDomainError("domain_mixed_scripts", message)
    return DomainName(ascii=ascii_name, unicode=unicode_name)


def _unicode_form(ascii_name: str) -> str:
    """The name in U-labels; a name without A-labels is its own, and encode checked it already."""
    if _ALABEL_PREFIX not in ascii_name.lower():
        return ascii_name
    return idna.decode(ascii_name)


def _mixes_lookalike_scripts(label: str) -> bool:
    scripts = {unicodedata.name(char, "?").split(" ")[0] for char in label if char.isalpha()}
    return any(pair <= scripts for pair in _LOOKALIKE_SCRIPTS)
