"""Runs the project's Lambda handlers in process, inside moto.

moto executes Lambda code only in Docker, which this project does not need or have. Every way a
function is invoked in moto (direct Invoke, Step Functions tasks, SQS, streams, S3 and SNS
triggers) ends in one private method, ``LambdaFunction._invoke_lambda``. This module, and only this
module, replaces that method with a call of the real handler named by the function's ``Handler``
setting, with the environment variables the function was created with.

Environment variables and stdout belong to the whole process, so invocations run one at a time.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TextIO

from moto.awslambda.models import LambdaFunction

from localaws.process_env import environment

SUPPORTED_MOTO = ((5, 2, 3), (5, 3, 0))

_invocation_lock = threading.RLock()
_installed: dict[str, Any] = {}
_environment_of_module: dict[str, dict[str, str]] = {}


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object that handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_capture = threading.local()


class _CapturingStdout(io.TextIOBase):
    """Stands in for sys.stdout: while a thread runs a handler, its writes go to that invocation.

    The capture state is one per thread for all instances, because a handler's logger keeps the
    stream it found at import time, which may be an instance made for an earlier stack.
    """

    def __init__(self, real: TextIO) -> None:
        self._real = real

    @staticmethod
    @contextlib.contextmanager
    def capture() -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        previous = getattr(_capture, "buffer", None)
        _capture.buffer = buffer
        try:
            yield buffer
        finally:
            _capture.buffer = previous

    def write(self, text: str) -> int:
        buffer = getattr(_capture, "buffer", None)
        return (buffer or self._real).write(text)

    def flush(self) -> None:
        self._real.flush()

    def isatty(self) -> bool:
        return self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._real.encoding


def moto_version() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(part) for part in version("moto").split(".")[:3])


def check_moto_version() -> None:
    low, high = SUPPORTED_MOTO
    found = moto_version()
    if not low <= found < high:
        raise RuntimeError(
            f"the in-process Lambda runtime replaces a private moto method and is tested with "
            f"moto {low} up to below {high}; found {found}"
        )


def install(*, endpoint_url: str | None = None) -> None:
    """Make moto run Lambda functions in process. ``endpoint_url`` is set for server mode."""
    check_moto_version()
    _installed["endpoint_url"] = endpoint_url
    if "original" in _installed:
        return

    if not isinstance(sys.stdout, _CapturingStdout):
        sys.stdout = _CapturingStdout(sys.stdout)
    _installed["stdout"] = sys.stdout
    _installed["original"] = LambdaFunction._invoke_lambda
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]


def uninstall() -> None:
    original = _installed.pop("original", None)
    if original is not None:
        LambdaFunction._invoke_lambda = original  # type: ignore[method-assign]


def is_installed() -> bool:
    return "original" in _installed


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    payload = _as_event(event)
    with _invocation_lock:
        function_environment = _function_environment(self)
        context = LocalLambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=int(self.memory_size),
            invoked_function_arn=self.function_arn,
            timeout_seconds=int(self.timeout),
            aws_request_id=str(uuid.uuid4()),
        )
        with environment(function_environment), _captured_stdout() as logs, _shared_loggers_lent():
            handler, module = _resolve_handler(str(self.handler))
            _cold_start_if_reconfigured(module, function_environment)
            _own_shared_loggers(module)
            result, errored = _call(handler, payload, context)

    output = logs.getvalue()
    if output:
        self.logs_backend.ensure_log_group(self.logs_group_name)
        self.save_logs(output)
    return result, errored, output


def _as_event(event: Any) -> Any:
    if isinstance(event, str | bytes):
        return json.loads(event) if event else {}
    return {} if event is None else event


def _resolve_handler(handler_path: str) -> tuple[Callable[..., Any], ModuleType]:
    module_name, _, attribute = handler_path.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attribute), module


def _function_environment(function: LambdaFunction) -> dict[str, str]:
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
    environment |= {key: str(value) for key, value in function.environment_vars.items()}
    endpoint_url = _installed.get("endpoint_url")
    if endpoint_url:
        environment["AWS_ENDPOINT_URL"] = endpoint_url
    return environment


@contextlib.contextmanager
def _captured_stdout() -> Iterator[io.StringIO]:
    """The invoking thread's output, whether written to sys.stdout now or to a stream kept since."""
    proxy = _installed.get("stdout")
    if proxy is None:
        proxy = _CapturingStdout(sys.stdout)
        _installed["stdout"] = proxy
    with proxy.capture() as buffer, contextlib.redirect_stdout(proxy):
        yield buffer


@contextlib.contextmanager
def _shared_loggers_lent() -> Iterator[None]:
    """The ``shared`` loggers belong to the invoked function while it runs, and are the calling
    process's again afterwards: otherwise the records of code the CLI or a test runs itself,
    between invocations, would go out through the last function's JSON handler onto stdout."""
    before = {name: _logger_setup(name) for name in _shared_logger_names()}
    try:
        yield
    finally:
        for name in _shared_logger_names():
            handlers, level, propagate = before.get(name, ([], logging.NOTSET, True))
            shared_logger = logging.getLogger(name)
            shared_logger.handlers = handlers
            shared_logger.setLevel(level)
            shared_logger.propagate = propagate


def _shared_logger_names() -> list[str]:
    registered = list(logging.Logger.manager.loggerDict)  # other threads may add loggers
    return ["shared", *(name for name in registered if name.startswith("shared."))]


def _logger_setup(name: str) -> tuple[list[logging.Handler], int, bool]:
    found = logging.getLogger(name)
    return list(found.handlers), found.level, found.propagate


def _own_shared_loggers(module: ModuleType) -> None:
    """Hand the ``shared`` loggers to the invoked function's logger.

    Each handler module points the ``shared`` loggers at its own powertools logger when it is
    imported. On Lambda every function has a process of its own; here the module imported last
    would label the shared modules' records of every function with its service name.
    """
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    source = getattr(module, "logger", None)
    if not isinstance(source, Logger) or logging.getLogger("shared").handlers == source.handlers:
        return
    copy_config_to_registered_loggers(source_logger=source, include={"shared"})


def _cold_start_if_reconfigured(module: ModuleType, environment: dict[str, str]) -> None:
    """A new configuration means a new container: drop what the module cached at cold start."""
    if _environment_of_module.get(module.__name__) == environment:
        return

    _environment_of_module[module.__name__] = dict(environment)
    for value in vars(module).values():
        if isinstance(value, functools._lru_cache_wrapper):
            value.cache_clear()


def _call(handler: Callable[..., Any], event: Any, context: LocalLambdaContext) -> tuple[str, bool]:
    try:
        result = handler(event, context)
    except Exception as error:  # a Lambda runtime reports every error to its caller
        failure = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "requestId": context.aws_request_id,
            "stackTrace": traceback.format_exception(error),
        }
        return json.dumps(failure), True

    return json.dumps(result, default=str), False
