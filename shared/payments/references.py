"""What a payer writes to name what they pay: invoice numbers, customer numbers, references.

Payers type invoice numbers as they like: ``re 2026 123``, ``RE2026/00000123``,
``RE-2O26-00000123``. A mention keeps the digits as typed (the letter O read as 0); its
``number`` is the invoice number they stand for with the leading zeros filled in. Whether a
mention with a dropped or swapped digit means one of a payer's invoices is decided by
``slip_fits`` against that payer's open items, never against all invoices.

Invoice numbers are ``<prefix>-<year>-<8 digits>`` (shared/invoicing/numbering.py). Structured
creditor references are ISO 11649 (``RF`` + two check digits + the invoice number without its
separators).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

SEQUENCE_DIGITS = 8
_SEPARATORS = r"[\s\-_/.:#]*"
_DIGIT = "[0-9O]"


@dataclass(frozen=True)
class NumberMention:
    prefix: str
    year: str
    # The sequence digits as typed, leading zeros included.
    digits: str

    @cached_property
    def number(self) -> str | None:
        """The invoice number with leading zeros filled in; None when too many digits."""
        if len(self.digits) > SEQUENCE_DIGITS:
            return None
        return f"{self.prefix}-{self.year}-{int(self.digits):0{SEQUENCE_DIGITS}d}"


_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")


def compact(value: str) -> str:
    """Letters and digits alone, upper case: ``RE-2026-00000001`` is ``RE202600000001``."""
    plain = value.replace("-", "").upper()
    if plain.isascii() and plain.isalnum():
        return plain
    return _NOT_ALPHANUMERIC.sub("", plain)


@lru_cache(maxsize=16)
def _mention_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(p) for p in prefixes), key=len, reverse=True))
    return re.compile(
        rf"(?<![A-Z0-9])({names}){_SEPARATORS}(2{_DIGIT}{{3}}){_SEPARATORS}({_DIGIT}+)"
        rf"(?:\s({_DIGIT}+)(?![.,]\d))?"
    )


@lru_cache(maxsize=8192)
def invoice_mentions(text: str, prefixes: tuple[str, ...]) -> tuple[NumberMention, ...]:
    """Every invoice number the text names, in the order named, each once.

    Cached: the import reads each remittance text twice (what to load, then to match).
    """
    pattern = _mention_pattern(prefixes)
    found: dict[tuple[str, str, str], NumberMention] = {}
    for match in pattern.finditer(text.upper()):
        prefix, year, first, second = match.groups()
        digits = first
        # "0000 1234": a number typed in groups, taken whole only when the groups make 8 digits.
        if second and len(first) + len(second) == SEQUENCE_DIGITS:
            digits = first + second
        mention = NumberMention(prefix, year.replace("O", "0"), digits.replace("O", "0"))
        found.setdefault((mention.prefix, mention.year, mention.digits), mention)
    return tuple(found.values())


_CUSTOMER = re.compile(
    r"(?:(?<![A-Z0-9])C[\s\-_.]?|KD[\s.\-]*NR[\s.:\-]*C?|KUNDEN[\s-]*(?:NR|NUMMER)[\s.:\-]*C?)"
    r"([0-9O]{7,12})(?![0-9])"
)


@lru_cache(maxsize=8192)
def customer_mentions(text: str) -> tuple[str, ...]:
    """Customer ids the text names (``C0000123``, ``Kd-Nr. 0000123``), each once."""
    found: dict[str, None] = {}
    for match in _CUSTOMER.finditer(text.upper()):
        digits = match.group(1).replace("O", "0")
        if sum(char.isdigit() for char in match.group(1)) >= 3:
            found.setdefault("C" + digits)
    return tuple(found)


def slip_fits(mention: NumberMention, number: str) -> bool:
    """Whether the mention is ``number`` typed with one digit dropped or two neighbours swapped."""
    parts = number.split("-")
    if len(parts) != 3 or (parts[0], parts[1]) != (mention.prefix, mention.year):
        return False
    actual, typed = parts[2], mention.digits
    if not typed.isdigit() or not actual.isdigit():
        return False
    return any(int(variant) == int(typed) for variant in _slips(actual) if variant != actual)


def _slips(actual: str) -> Iterable[str]:
    for index in range(len(actual)):
        dropped = actual[:index] + actual[index + 1 :]
        if dropped:
            yield dropped
    for index in range(len(actual) - 1):
        yield actual[:index] + actual[index + 1] + actual[index] + actual[index + 2 :]


def creditor_reference(number: str) -> str:
    """The ISO 11649 structured creditor reference for an invoice number."""
    body = compact(number)
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def reference_body(reference: str | None) -> str | None:
    """What a valid RF reference stands for; None for anything else or wrong check digits."""
    value = compact(reference or "")
    if not re.fullmatch(r"RF[0-9]{2}[A-Z0-9]{1,21}", value):
        return None
    if _mod97(value[4:] + value[:4]) != 1:
        return None
    return value[4:]


def _mod97(text: str) -> int:
    digits = "".join(str(int(char, 36)) for char in text)
    return int(digits) % 97
