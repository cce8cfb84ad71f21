"""DynamoDB's conditional writes are atomic; moto's are not, so the embedded AWS makes them so.

moto checks a condition and then writes, in Python, with no lock: two threads that put the same
new key under ``attribute_not_exists`` can both succeed (seen here: 2 of 20 rounds of 16 threads),
and a guarded counter overshoots its limit. The order intake's race handling rests on exactly
this guarantee, so every write of moto's DynamoDB backend runs under one process-wide lock,
as the item-level atomicity of DynamoDB promises. Reads are left alone.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")

_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def _serialized(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(*args, **kwargs)

    return write


def install() -> None:
    """Serialize moto's DynamoDB writes; calling it again changes nothing."""
    if _originals:
        return
    for name in WRITES:
        original = getattr(DynamoDBBackend, name)
        _originals[name] = original
        setattr(DynamoDBBackend, name, _serialized(original))


def uninstall() -> None:
    for name, original in _originals.items():
        setattr(DynamoDBBackend, name, original)
    _originals.clear()


def is_installed() -> bool:
    return bool(_originals)
