"""Orders per second: through validation and storage in process, and through the HTTP front end.

In process, the use case runs with its DynamoDB adapters on the embedded AWS; every botocore call
is timed, so the figure for our code leaves the emulator's own time out and the bench reports
that time beside it. Through the HTTP front end each order is a real request with a shop token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from bench.probes import ApiCall, around_api_calls
from shared.orders.requests import OrderRequest
from shared.orders.service import PlaceCommand
from tests.unit.order_fakes import sample_order

ORDERS_TARGET_PER_SECOND = 1000.0


@dataclass
class ApiTimer:
    seconds: float = 0.0
    calls: int = 0


@contextmanager
def timed_api() -> Iterator[ApiTimer]:
    timer = ApiTimer()

    def call(make_call: ApiCall, client: Any, operation: str, params: Any) -> Any:
        started = time.perf_counter()
        try:
            return make_call(client, operation, params)
        finally:
            timer.seconds += time.perf_counter() - started
            timer.calls += 1

    with around_api_calls(call):
        yield timer


def bench_order(index: int) -> dict[str, Any]:
    """A typical shop order: a new customer, SEPA, a package with an option and a domain."""
    return sample_order(
        items=[
            {"product": "HOST-M", "options": [{"product": "STORAGE-50", "quantity": 2}]},
            {"product": "DOM-DE", "domains": [f"bench-{index:06d}.de"]},
        ]
    )


def orders_in_process(count: int) -> list[Any]:
    from bench.__main__ import Figure
    from localaws import embedded
    from shared.settings import Settings
    from shared.wiring import order_service

    with embedded.in_process({"BILLING_SHARD_COUNT": "16"}):
        service = order_service(Settings(), embedded.client_factory()("dynamodb"))
        bodies = [bench_order(index) for index in range(count)]
        with timed_api() as api:
            started = time.perf_counter()
            for index, body in enumerate(bodies):
                order = OrderRequest.model_validate(body)
                service.place(
                    PlaceCommand(order, f"OBENCH{index:015d}", "bench", request_hash=str(index))
                )
            wall = time.perf_counter() - started
    ours = wall - api.seconds
    return [
        Figure(
            "orders in process (our code)",
            round(count / ours, 1),
            "orders/s",
            ORDERS_TARGET_PER_SECOND,
        ),
        Figure("orders in process (wall, with emulator)", round(count / wall, 1), "orders/s"),
        Figure("orders: our code per order", round(ours / count * 1000, 3), "ms"),
        Figure("orders: emulator per order", round(api.seconds / count * 1000, 3), "ms"),
        Figure("orders: aws calls per order", round(api.calls / count, 2), "calls"),
    ]


def orders_over_http(count: int) -> list[Any]:
    from bench.__main__ import Figure
    from localaws import embedded
    from localaws.http_api import LocalIssuer, serve

    with embedded.in_process({"BILLING_SHARD_COUNT": "16"}):
        issuer = LocalIssuer.generate()
        server = serve(0, lambda: embedded.client_factory()("lambda"), issuer)
        headers = {"Authorization": "Bearer " + issuer.shop_token()}
        try:
            with requests.Session() as session:
                started = time.perf_counter()
                for index in range(count):
                    answer = session.post(
                        f"{server.url}/orders",
                        json=bench_order(10**5 + index),
                        headers=headers | {"Idempotency-Key": f"bench-http-{index:06d}"},
                        timeout=30,
                    )
                    if answer.status_code != 201:
                        raise SystemExit(f"order {index} answered {answer.status_code}")
                wall = time.perf_counter() - started
        finally:
            server.shutdown()
    return [
        Figure("orders through the local HTTP front end", round(count / wall, 1), "orders/s"),
        Figure("orders over HTTP per order", round(wall / count * 1000, 2), "ms"),
    ]
