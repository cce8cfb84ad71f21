"""Where the time of a run on the embedded AWS goes: inside moto, inside our handlers, or around.

While installed, a probe times every Lambda invocation of the in-process runtime, the handler
call inside it, and every botocore API call made during an invocation (in process, an API call
is moto's work). Times are exclusive: an API call that invokes a function (an SQS event source)
does not count the handler's time as moto's, and a handler does not count its API calls as ours.
Invocations run one at a time behind the runtime's lock; the time spent waiting for that lock is
left out, so the parts add up to the time invocations held the process.

API calls of the Step Functions executor itself (outside any invocation) are not counted here;
they are part of the run's wall time minus the invocations.
"""

from __future__ import annotations

import contextlib
import cProfile
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

_SINGLE_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Probe:
    """Exclusive seconds and counts, summed over all threads since the probe was installed."""

    invocations: Counter[str] = field(default_factory=Counter)
    invoked_seconds: float = 0.0
    runtime_seconds: float = 0.0
    lock_wait_seconds: float = 0.0
    handler_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
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
    def emulator_seconds(self) -> float:
        return sum(self.api_seconds.values())

    @property
    def our_seconds(self) -> float:
        return sum(self.handler_seconds.values())

    @property
    def api_call_count(self) -> int:
        return sum(self.api_calls.values())

    def api_calls_of(self, function: str) -> int:
        return sum(n for name, n in self.api_calls.items() if name.startswith(f"{function} "))

    def _frames(self) -> list[list[float]]:
        frames: list[list[float]] | None = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    def _timed(self, call: Callable[[], Any], record: Callable[[float, float], None]) -> Any:
        """Run ``call`` in a frame; ``record(elapsed, exclusive)`` once it ended."""
        frames = self._frames()
        frame = [0.0]
        frames.append(frame)
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            frames.pop()
            if frames:
                frames[-1][0] += elapsed
            with self._lock:
                record(elapsed, elapsed - frame[0])

    def _api_call(
        self, original: Callable[..., Any], client: Any, operation: str, params: Any
    ) -> Any:
        if not self._frames():
            return original(client, operation, params)

        service = client.meta.service_model.service_name
        name = f"{getattr(self._local, 'function', '?')} {service} {operation}"

        def record(_: float, exclusive: float) -> None:
            self.api_seconds[name] += exclusive
            self.api_calls[name] += 1
            self._count_writes(service, operation, params)

        return self._timed(lambda: original(client, operation, params), record)

    def _count_writes(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if service == "dynamodb":
            self.dynamodb_writes += _dynamodb_writes(operation, params)
            item = params.get("Item", {})
            if operation == "PutItem" and item.get("document_type", {}).get("S") == "invoice":
                self.invoice_item_bytes.append(dynamodb_item_size(item))
        elif service == "s3" and operation == "PutObject":
            self.s3_puts += 1
            if params.get("ContentType") == "application/pdf":
                self.pdf_bytes.append(_body_size(params["Body"]))

    def _invoke(self, original: Callable[..., Any], function: Any, event: Any) -> Any:
        local = self._local
        outermost = not self._frames()
        caller, waited_before = getattr(local, "function", None), getattr(local, "waited", 0.0)
        local.function, local.waited = _short(function.function_name), 0.0

        def record(elapsed: float, exclusive: float) -> None:
            waited = local.waited
            self.invocations[local.function] += 1
            self.runtime_seconds += exclusive - waited
            self.lock_wait_seconds += waited
            if outermost:
                self.invoked_seconds += elapsed - waited

        try:
            return self._timed(lambda: original(function, event), record)
        finally:
            local.function, local.waited = caller, waited_before

    def _handler(self, original: Callable[..., Any], *args: Any) -> Any:
        function = getattr(self._local, "function", "?")

        def record(_: float, exclusive: float) -> None:
            self.handler_seconds[function] += exclusive

        def call() -> Any:
            if self.profile is None:
                return original(*args)
            self.profile.enable()
            try:
                return original(*args)
            finally:
                self.profile.disable()

        return self._timed(call, record)

    def waited(self, seconds: float) -> None:
        self._local.waited = getattr(self._local, "waited", 0.0) + seconds


class _TimedLock:
    """The runtime's invocation lock, telling the probe how long each acquisition waited."""

    def __init__(self, lock: Any, probe: Probe) -> None:
        self._inner = lock
        self._probe = probe

    def __enter__(self) -> bool:
        started = time.perf_counter()
        acquired: bool = self._inner.acquire()
        self._probe.waited(time.perf_counter() - started)
        return acquired

    def __exit__(self, *exc: object) -> None:
        self._inner.release()


def _short(function_name: str) -> str:
    return function_name.removeprefix("billing-invoice-").removeprefix("billing-")


def _dynamodb_writes(operation: str, params: dict[str, Any]) -> int:
    if operation == "TransactWriteItems":
        return len(params["TransactItems"])
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    return int(operation in _SINGLE_WRITES)


def _body_size(body: Any) -> int:
    """botocore turns a bytes body into a file-like object before the call is made."""
    if isinstance(body, bytes | bytearray):
        return len(body)
    return int(body.getbuffer().nbytes)


def dynamodb_item_size(item: dict[str, Any]) -> int:
    """Bytes as DynamoDB bills them: attribute names plus values (numbers roughly)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        digits = len(Decimal(inner).normalize().as_tuple().digits)
        return (digits + 1) // 2 + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "M":
        return 3 + dynamodb_item_size(inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    return 3 + sum(len(str(element)) for element in inner)


@contextlib.contextmanager
def replaced(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    """``owner.name`` is ``replacement`` while the block runs, and what it was again after."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


ApiCall = Callable[[Any, str, Any], Any]


@contextlib.contextmanager
def around_api_calls(around: Callable[[ApiCall, Any, str, Any], Any]) -> Iterator[None]:
    """Every botocore API call of the process runs as ``around(call, client, operation,
    params)``, where ``call`` makes the call."""
    make_api_call: ApiCall = BaseClient._make_api_call  # type: ignore[attr-defined]

    def api_call(client: Any, operation: str, params: Any) -> Any:
        return around(make_api_call, client, operation, params)

    with replaced(BaseClient, "_make_api_call", api_call):
        yield


@contextlib.contextmanager
def installed(*, profile: bool = False) -> Iterator[Probe]:
    """Install a probe around botocore, moto's Lambda invoke and the runtime's handler call.

    With ``profile``, cProfile records the handlers (invocations run one at a time).
    """
    probe = Probe(profile=cProfile.Profile() if profile else None)
    invoke = LambdaFunction._invoke_lambda
    call = lambda_runtime._call

    def invoke_lambda(function: Any, event: Any = None) -> Any:
        return probe._invoke(invoke, function, event)

    def handler_call(*args: Any) -> Any:
        return probe._handler(call, *args)

    with contextlib.ExitStack() as stack:
        stack.enter_context(around_api_calls(probe._api_call))
        stack.enter_context(replaced(LambdaFunction, "_invoke_lambda", invoke_lambda))
        stack.enter_context(replaced(lambda_runtime, "_call", handler_call))
        lock = _TimedLock(lambda_runtime._invocation_lock, probe)
        stack.enter_context(replaced(lambda_runtime, "_invocation_lock", lock))
        yield probe
