"""Dates, amounts and labels as a German or an English notice writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.dunning.levels import Language
from shared.money import format_eur, to_cents

MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
KIND_LABELS: dict[str, tuple[str, str]] = {
    "invoice": ("Rechnung", "Invoice"),
    "dunning_fee": ("Mahngebühr", "Dunning fee"),
    "flat_fee": ("Verzugspauschale § 288 Abs. 5 BGB", "Flat default charge § 288 (5) BGB"),
    "interest": ("Verzugszinsen", "Default interest"),
    "return_fee": ("Rücklastschriftgebühr", "Returned debit fee"),
    "collection_fee": ("Inkassokosten", "Collection costs"),
}


def money(amount: Decimal, language: Language) -> str:
    if language == "de":
        return format_eur(amount)
    rounded = to_cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}EUR {abs(rounded):,.2f}"


def precise(amount: Decimal, language: Language) -> str:
    """An amount to four decimals, for the parts of a sum that is rounded once at the end."""
    text = f"{amount.quantize(Decimal('0.0001')):,.4f}"
    if language == "de":
        return text.replace(",", " ").replace(".", ",").replace(" ", ".") + " €"
    return f"EUR {text}"


def day(value: date, language: Language) -> str:
    if language == "de":
        return f"{value:%d.%m.%Y}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def percent(value: Decimal, language: Language) -> str:
    text = f"{value.normalize():f}"
    return f"{text.replace('.', ',')} %" if language == "de" else f"{text} %"


def kind_label(kind: str, language: Language) -> str:
    german, english = KIND_LABELS.get(kind, (kind, kind))
    return german if language == "de" else english


def fill(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled; the levels file was checked for unknown ones."""
    return template.format_map(values)
