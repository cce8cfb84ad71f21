"""Where the time of a run on the embedded AWS goes: inside moto, inside our handlers, or around.

While installed, a probe times every botocore API call (in process, that is moto's work) and
every Lambda handler call of the in-process runtime. A thread-local flag tells the calls our
handlers make from the calls of the Step Functions executor and the benchmark itself; nested
calls (moto's executor invoking a Lambda that calls DynamoDB) are counted once, at the outside.
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.client import BaseClient
from moto.awslambda.models import LambdaFunction

from localaws import lambda_runtime

_WRITES_PER_OPERATION = {"PutItem": 1, "UpdateItem": 1, "DeleteItem": 1}


@dataclass
class Probe:
    """Seconds and counts, summed over all threads since the probe was installed."""

    handler_seconds: float = 0.0
    invoke_seconds: float = 0.0
    invocations: int = 0
    api_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    api_calls: Counter[str] = field(default_factory=Counter)
    dynamodb_writes: int = 0
    s3_puts: int = 0
    pdf_bytes: list[int] = field(default_factory=list)
    invoice_item_bytes: list[int] = field(default_factory=list)
    profile: cProfile.Profile | None = None
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_seconds_in_handlers(self) -> float:
        return sum(self.api_seconds.values())

    @property
    def api_calls_in_handlers(self) -> int:
        return sum(self.api_calls.values())

    def _api_call(
        self, original: Callable[..., Any], client: Any, operation: str, params: Any
    ) -> Any:
        local = self._local
        if getattr(local, "depth", 0):
            return original(client, operation, params)

        local.depth = 1
        started = time.perf_counter()
        try:
            return original(client, operation, params)
        finally:
            seconds = time.perf_counter() - started
            local.depth = 0
            self._count(client, operation, params, seconds, getattr(local, "handler", False))

    def _count(
        self, client: Any, operation: str, params: Any, seconds: float, in_handler: bool
    ) -> None:
        service = client.meta.service_model.service_name
        with self._lock:
            if not in_handler:
                return
            name = f"{service} {operation}"
            self.api_seconds[name] += seconds
            self.api_calls[name] += 1
            self._count_writes(service, operation, params)

    def _count_writes(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if service == "dynamodb":
            self.dynamodb_writes += _dynamodb_writes(operation, params)
            item = params.get("Item", {})
            if operation == "PutItem" and item.get("document_type", {}).get("S") == "invoice":
                self.invoice_item_bytes.append(dynamodb_item_size(item))
        elif service == "s3" and operation == "PutObject":
            self.s3_puts += 1
            if params.get("ContentType") == "application/pdf":
                self.pdf_bytes.append(len(params["Body"]))

    def _invoke(self, original: Callable[..., Any], function: Any, event: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(function, event)
        finally:
            with self._lock:
                self.invoke_seconds += time.perf_counter() - started
                self.invocations += 1

    def _handler(self, original: Callable[..., Any], *args: Any) -> Any:
        local = self._local
        local.handler, depth, local.depth = True, getattr(local, "depth", 0), 0
        started = time.perf_counter()
        if self.profile is not None:
            self.profile.enable()
        try:
            return original(*args)
        finally:
            if self.profile is not None:
                self.profile.disable()
            seconds = time.perf_counter() - started
            local.handler, local.depth = False, depth
            with self._lock:
                self.handler_seconds += seconds


def _dynamodb_writes(operation: str, params: dict[str, Any]) -> int:
    if operation == "TransactWriteItems":
        return len(params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    return _WRITES_PER_OPERATION.get(operation, 0)


def dynamodb_item_size(item: dict[str, Any]) -> int:
    """Bytes as DynamoDB bills them: attribute names plus values (strings UTF-8, numbers ~)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind in {"S", "B"}:
        return len(inner.encode() if isinstance(inner, str) else inner)
    if kind == "N":
        digits = len(Decimal(inner).normalize().as_tuple().digits)
        return (digits + 1) // 2 + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    return len(json.dumps(inner)) + 3


@contextlib.contextmanager
def installed(*, profile: bool = False) -> Iterator[Probe]:
    """Install a probe around botocore, moto's Lambda invoke and the handler call of the runtime.

    With ``profile``, cProfile records the handlers (invocations run one at a time).
    """
    probe = Probe(profile=cProfile.Profile() if profile else None)
    make_api_call = BaseClient._make_api_call
    invoke = LambdaFunction._invoke_lambda
    call = lambda_runtime._call

    def api_call(client: Any, operation: str, params: Any) -> Any:
        return probe._api_call(make_api_call, client, operation, params)

    def invoke_lambda(function: Any, event: Any = None) -> Any:
        return probe._invoke(invoke, function, event)

    def handler_call(*args: Any) -> Any:
        return probe._handler(call, *args)

    BaseClient._make_api_call = api_call  # type: ignore[method-assign]
    LambdaFunction._invoke_lambda = invoke_lambda  # type: ignore[method-assign]
    lambda_runtime._call = handler_call
    try:
        yield probe
    finally:
        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]
        lambda_runtime._call = call
