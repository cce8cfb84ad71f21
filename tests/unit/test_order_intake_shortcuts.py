"""The shortcuts of order intake give exactly what the longer way gives."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import idna
import pytest
from boto3.dynamodb.types import TypeSerializer
from pydantic import BaseModel, EmailStr, ValidationError

from shared.customers import CHECKED_EMAILS, Customer
from shared.orders.checks import check_email
from shared.orders.domains import parse_domain
from shared.orders.places import POSTAL_CODES, postal_code_problem
from shared.orders.text import FORMULA_STARTS, _character_problem, text_problem
from shared.storage.dynamodb import to_item

ADDRESSES = [
    "info@mueller-baeckerei.example",
    "INFO@Example.COM",
    "anna.schmidt+rechnung@bücher.de",
    "a@xn--bcher-kva.de",
    "kontakt@sub.domain.example.org",
]


class _EmailStrModel(BaseModel):
    email: EmailStr


def _customer(email: str, context: dict[str, Any] | None = None) -> Customer:
    values = {
        "customer_id": "C0000001",
        "name": "Anna Schmidt",
        "email": email,
        "address": {"street": "Weg 1", "postal_code": "20457", "city": "Hamburg", "country": "DE"},
        "shard": 0,
    }
    return Customer.model_validate(values, context=context)


@pytest.mark.parametrize("email", ADDRESSES)
def test_a_checked_email_is_stored_as_email_str_would_store_it(email: str) -> None:
    checked: dict[str, str] = {}

    assert list(check_email("customer.email", email, checked)) == []
    assert checked[email] == _EmailStrModel(email=email).email
    assert _customer(email, {CHECKED_EMAILS: checked}).email == _customer(email).email


def test_a_refused_email_is_not_noted_as_checked() -> None:
    checked: dict[str, str] = {}

    assert [p.code for p in check_email("customer.email", "not-an-address", checked)] == ["email"]
    assert checked == {}


@pytest.mark.parametrize("email", ["not-an-address", "a@b", "Anna <anna@example.com>x"])
def test_a_customer_without_context_still_validates_its_email(email: str) -> None:
    with pytest.raises(ValidationError) as ours:
        _customer(email)
    with pytest.raises(ValidationError) as pydantics:
        _EmailStrModel(email=email)

    assert ours.value.errors()[0]["msg"] == pydantics.value.errors()[0]["msg"]


VALUES: list[Any] = [
    "text",
    "",
    0,
    -7,
    10**38 - 1,
    -(10**38) + 1,
    True,
    False,
    Decimal("1.50"),
    {"nested": {"n": 3}},
    [1, "a"],
    b"bytes",
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_to_item_writes_what_the_boto3_serializer_writes(value: Any) -> None:
    assert to_item({"value": value}) == {"value": TypeSerializer().serialize(value)}


@pytest.mark.parametrize("value", [10**38, -(10**38), 10**40 + 1])
def test_to_item_refuses_an_integer_dynamodb_cannot_hold(value: int) -> None:
    with pytest.raises(ArithmeticError):
        to_item({"value": value})


@pytest.mark.parametrize(
    "raw", ["bench-000001.de", "BEISPIEL.de", "müller-bäckerei.de", "xn--mller-kva.de", "a-b.com"]
)
def test_a_parsed_domain_has_the_unicode_form_idna_decodes(raw: str) -> None:
    parse_domain.cache_clear()

    name = parse_domain(raw)

    assert name.unicode == idna.decode(name.ascii)


@pytest.mark.parametrize("country", [*POSTAL_CODES, "ZZ"])
def test_postal_codes_are_checked_by_the_pattern_of_their_country(country: str) -> None:
    assert postal_code_problem("!", country) is not None


def _text_problem_char_by_char(value: str, max_length: int) -> str | None:
    """text_problem as it was first written: every character looked up."""
    if not value.strip():
        return "must not be empty"
    if value != value.strip() or "  " in value:
        return "has leading, trailing or doubled spaces"
    if len(value) > max_length:
        return f"is longer than {max_length} characters"
    if unicodedata.normalize("NFC", value) != value:
        return "is not in Unicode normal form C"
    if value[0] in FORMULA_STARTS:
        return "must not start with = + - or @"
    return next(filter(None, map(_character_problem, value)), None)


TEXTS = [
    "Bäckerei Müller GmbH",
    "Hafenstraße 12",
    "O'Brien & Söhne (Nord) #2",
    "\uff21\uff4e\uff4e\uff41",
    "e\u0301cole",
    "Anna\u200bSchmidt",
    "Anna <b>",
    "=SUM(A1)",
    "Straße\u00a0 1",
    "Иван Петров",
    "a" * 81,
    " lead",
    "tab\there",
]


@pytest.mark.parametrize("value", TEXTS + [chr(code) + "x" for code in range(32, 0x3000, 7)])
def test_text_problems_are_those_of_a_look_up_per_character(value: str) -> None:
    assert text_problem(value, max_length=80) == _text_problem_char_by_char(value, 80)
