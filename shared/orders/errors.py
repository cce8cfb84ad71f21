"""What an order can fail on. Every refusal names the fields it is about; HTTP is not known here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field: ``field`` is a path like ``items[0].domains[1]``."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class OrderError(Exception):
    """A request the order intake refuses; the message is safe to show to the caller."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class RequestTooLargeError(OrderError):
    """The body is larger than any order needs."""


class MalformedRequestError(OrderError):
    """Not an order at all: not JSON, wrong types, missing or unknown fields."""


class ImplausibleOrderError(OrderError):
    """A well-formed order that cannot be right: a postal code, an IBAN, a product that fails."""


class UnavailableError(OrderError):
    """A domain someone holds, or a product whose capacity is used up."""


class OrderNotFoundError(OrderError):
    """No order with this id."""


class ContractNotFoundError(OrderError):
    """No contract with this id that the order intake knows."""


class ChangeRefusedError(OrderError):
    """A change or cancellation that the contract's state or the rules do not allow."""


class RequestReusedError(OrderError):
    """An idempotency key or record id that came before with another request."""


def field_path(location: Sequence[str | int]) -> str:
    """``("items", 0, "quantity")`` as ``items[0].quantity``; the body itself is ``body``."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "body"


class ConcurrentChangeError(OrderError):
    """Another change of the same order came first; sending this one again is safe."""
