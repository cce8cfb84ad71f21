from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.networks import validate_email

from shared.leitweg_id import validate_leitweg_id

CustomerKind = Literal["consumer", "business"]
# Which e-invoice a customer gets: a PDF with embedded factur-x.xml (Factur-X/ZUGFeRD EN 16931),
# a PDF with embedded xrechnung.xml, or the XRechnung XML alone.
EInvoiceChoice = Literal["factur-x", "xrechnung-embedded", "xrechnung-xml"]
# Validation context: e-mail addresses the caller has just validated, each with its normal form.
CHECKED_EMAILS = "checked_emails"


def _normal_email(value: str, info: ValidationInfo) -> str:
    """What EmailStr makes of an address, unless the caller validated it a moment ago."""
    context = info.context if isinstance(info.context, dict) else {}
    normal: str | None = context.get(CHECKED_EMAILS, {}).get(value)
    return normal if normal is not None else validate_email(value)[1]


Email = Annotated[
    str, AfterValidator(_normal_email), WithJsonSchema({"type": "string", "format": "email"})
]


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    street: str = Field(min_length=1, max_length=120)
    postal_code: str = Field(min_length=1, max_length=16)
    city: str = Field(min_length=1, max_length=80)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str = Field(pattern=r"^C\d{7,12}$")
    name: str = Field(min_length=1, max_length=160)
    email: Email
    address: Address
    kind: CustomerKind = "consumer"
    vat_id: str | None = None
    shard: int = Field(ge=0)
    delivery: Literal["email", "post"] = "email"
    attach_pdf: bool = False
    einvoice: EInvoiceChoice = "factur-x"
    # BT-10; for XRechnung the buyer's Leitweg-ID, otherwise any reference the buyer wants quoted.
    buyer_reference: str | None = Field(
        default=None, min_length=1, max_length=100, validate_default=True
    )

    @field_validator("buyer_reference")
    @classmethod
    def _leitweg_id_for_xrechnung(cls, reference: str | None, info: ValidationInfo) -> str | None:
        if not wants_xrechnung(info.data.get("einvoice", "factur-x")):
            return reference
        if reference is None:
            raise ValueError(
                "buyer_reference (the buyer's Leitweg-ID, BT-10) is required for XRechnung"
            )
        return validate_leitweg_id(reference)


def wants_xrechnung(choice: EInvoiceChoice) -> bool:
    return choice != "factur-x"


def shard_of(customer_id: str, shard_count: int) -> int:
    """The shard a new customer lives in for life: a stable hash, spread evenly."""
    digest = hashlib.sha256(customer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shard_count
