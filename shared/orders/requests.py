"""The order API's requests as they arrive: shape and types only; plausibility comes later.

Parsing is strict (no "2" for 2, no "true" for true) and every string has a ceiling, so that a
malformed request fails here with every bad field listed, and nothing unbounded reaches the rules.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.orders.errors import (
    MalformedRequestError,
    Problem,
    RequestTooLargeError,
    field_path,
)

MAX_BODY_BYTES = 32 * 1024
# Shape limits, above the plausibility limits so that those can name the rule that was broken.
MAX_ITEMS = 50
MAX_OPTIONS = 20
MAX_DOMAINS = 50

Text = Annotated[str, Field(max_length=200)]
ShortText = Annotated[str, Field(max_length=40)]
DomainText = Annotated[str, Field(max_length=300)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AddressIn(_Request):
    street: Text
    postal_code: ShortText
    city: Text
    country: ShortText


class CustomerIn(_Request):
    """An existing customer by ``id``, or a new one with all the other fields."""

    id: ShortText | None = None
    name: Text | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    type: Literal["consumer", "business"] | None = None
    vat_id: ShortText | None = None
    billing_address: AddressIn | None = None
    delivery: Literal["email", "post"] = "email"


class SepaDebitIn(_Request):
    method: Literal["sepa_direct_debit"]
    iban: ShortText
    bic: ShortText | None = None
    account_holder: Text
    mandate_consent: bool


class InvoiceIn(_Request):
    method: Literal["invoice"]


Payment = Annotated[SepaDebitIn | InvoiceIn, Field(discriminator="method")]


class OptionIn(_Request):
    product: ShortText
    quantity: int = 1


class ItemIn(_Request):
    product: ShortText
    quantity: int | None = None
    options: Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)] = []
    domains: Annotated[list[DomainText], Field(max_length=MAX_DOMAINS)] = []


class OrderRequest(_Request):
    customer: CustomerIn
    payment: Payment | None = None
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    shop_reference: ShortText | None = None


class ChangeRequest(_Request):
    type: Literal["upgrade", "downgrade", "cancellation"]
    product: ShortText | None = None
    effective: date | None = None


class CancelRequest(_Request):
    reason: Text | None = None


class FeedRecord(_Request):
    """One record of a bulk feed: its own id within its source system, and what it asks for."""

    source: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    record_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
    type: Literal["order", "cancel_order", "change"]
    ordered_on: date | None = None
    order: OrderRequest | None = None
    order_id: ShortText | None = None
    contract_id: ShortText | None = None
    change: ChangeRequest | None = None


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: str | bytes | None) -> M:
    """The request from a JSON body, or MalformedRequestError listing every bad field."""
    text = body or b""
    if len(text.encode() if isinstance(text, str) else text) > MAX_BODY_BYTES:
        raise RequestTooLargeError(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return model.model_validate_json(text or "null")
    except ValidationError as error:
        raise MalformedRequestError("the request is malformed", problems_of(error)) from None


def problems_of(error: ValidationError) -> list[Problem]:
    """Each shape error as a problem; the caller's values are never echoed back."""
    problems = []
    for detail in error.errors(include_url=False, include_input=False):
        location = [part for part in detail["loc"] if part not in _UNION_TAGS]
        message = detail["msg"]
        if detail["type"] == "union_tag_invalid":
            message = "must be one of " + str(detail.get("ctx", {}).get("expected_tags"))
        problems.append(Problem(field_path(location), detail["type"], message))
    return problems


_UNION_TAGS = {"sepa_direct_debit", "invoice"}
