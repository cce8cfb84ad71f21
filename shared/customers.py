from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

CustomerKind = Literal["consumer", "business"]


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
    email: EmailStr
    address: Address
    kind: CustomerKind = "consumer"
    vat_id: str | None = None
    shard: int = Field(ge=0)
    delivery: Literal["email", "post"] = "email"
    attach_pdf: bool = False


def shard_of(customer_id: str, shard_count: int) -> int:
    """The shard a new customer lives in for life: a stable hash, spread evenly."""
    digest = hashlib.sha256(customer_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % shard_count
