"""The embedded AWS: moto in this process (demo, tests) or as a server on a port (`local up`)."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from typing import Any

import boto3
import requests

from localaws import atomic_writes, lambda_runtime, moto_speedups
from localaws.process_env import environment
from localaws.provision import ACCOUNT, REGION, LocalStack, local_stack, provision

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": True},
}
YOUNG_COLLECTION = 50_000
# More processes than this find the worker busy storing: one renders faster than it stores.
RENDER_PROCESSES_MAX = 2
_BASE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ACCOUNT_ID": ACCOUNT,
}


def client_factory(endpoint_url: str | None = None) -> Any:
    def make(service: str) -> Any:
        client: Any = boto3.client  # the stubs know no client for a service named at run time
        return client(service, region_name=REGION, endpoint_url=endpoint_url)

    return make


@contextlib.contextmanager
def in_process(settings: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """Every boto3 call in this process goes to moto; handlers run in process."""
    from moto import mock_aws

    clean = {key: "" for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE") if key in os.environ}
    mocked: Any = mock_aws(config=MOTO_CONFIG)  # type: ignore[call-overload]
    with environment(_BASE_ENVIRONMENT), _without(clean), mocked, _collections_for_a_region():
        lambda_runtime.install()
        moto_speedups.install()
        atomic_writes.install()
        stack = local_stack(embedded_settings(settings))
        stack = provision(client_factory(), stack, poll_queues=False)
        _start_render_processes(stack)
        with environment(stack.exports()):
            yield stack


def embedded_settings(settings: dict[str, str] | None = None) -> dict[str, str]:
    """The settings of the functions here, where every Lambda invocation runs on this one
    interpreter, one at a time (see lambda_runtime.py). On AWS each shard's worker has a CPU of
    its own; here the invoice worker renders on the machine's other cores instead, while it
    stores what it rendered before (shared/invoicing/rendering.py). Given settings win."""
    spare_cores = max((os.cpu_count() or 1) - 1, 0)
    return {"BILLING_RENDER_PROCESSES": str(min(spare_cores, RENDER_PROCESSES_MAX))} | (
        settings or {}
    )


def _start_render_processes(stack: LocalStack) -> None:
    """Start the invoice worker's rendering processes with the stack, as AWS keeps provisioned
    Lambda environments warm: a fresh interpreter takes about a second to import the renderer,
    which the first shard of a run otherwise waits for."""
    from shared.invoicing.rendering import renderer_for

    renderer_for(int(stack.function_environment.get("BILLING_RENDER_PROCESSES", "0")))


@contextlib.contextmanager
def _collections_for_a_region() -> Iterator[None]:
    """Python's cycle collector tuned for a heap that holds the state of every emulated service.

    On AWS each function has a process of its own; here one heap holds the items of every table,
    the objects of every bucket and the handlers' own work, and a full collection walks it all.
    With the default thresholds the collector took a tenth of the invoice bench's time (2.4 s of
    a 2,000-invoice run; see the notes on issue 3). The youngest generation now collects after
    ``YOUNG_COLLECTION`` new objects, and older ones only after many more young collections.
    """
    saved = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, 100, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@contextlib.contextmanager
def _without(names: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.pop(name) for name in names}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextlib.contextmanager
def server(
    *, port: int = 4566, host: str = "127.0.0.1", settings: dict[str, str] | None = None
) -> Iterator[tuple[LocalStack, str]]:
    """A moto server on ``host:port`` with every resource created; handlers run in this process."""
    from moto.server import ThreadedMotoServer

    endpoint = f"http://{host}:{port}"
    with environment(_BASE_ENVIRONMENT | {"MOTO_PORT": str(port)}), _collections_for_a_region():
        moto_server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        moto_server.start()
        try:
            requests.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10)
            lambda_runtime.install(endpoint_url=endpoint)
            moto_speedups.install()
            atomic_writes.install()
            stack = local_stack(embedded_settings(settings))
            stack = provision(client_factory(endpoint), stack, poll_queues=False)
            _start_render_processes(stack)
            yield stack, endpoint
        finally:
            moto_server.stop()


def sent_emails() -> list[Any]:
    """What SES accepted in this process's moto (v1 and v2 alike), oldest first."""
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)
