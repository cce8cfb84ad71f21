"""`billing local up`: the embedded AWS as a server, the HTTP APIs in front of it, until stopped."""

from __future__ import annotations

import shlex
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from cli.console import console, quiet_libraries
from cli.seed import synthetic_hoster
from infra import spec
from localaws import embedded
from localaws.http_api import LocalIssuer, serve
from localaws.provision import REGION, LocalStack
from localaws.queue_poller import QueuePoller
from shared.periods import Period
from shared.storage.dynamodb import DynamoContracts

STATE_DIR = Path(".local")
DEFAULT_API_URL = "http://127.0.0.1:8000"
_RESOURCE_VARIABLES = {
    *(table.env_var for table in spec.TABLES),
    *(bucket.env_var for bucket in spec.BUCKETS),
    spec.STATE_MACHINE_ENV_VAR,
    # The debit export reads every shard: it must know how many there are.
    "BILLING_SHARD_COUNT",
}


def serve_forever(*, port: int, api_port: int, shards: int, seed_customers: int) -> None:
    quiet_libraries()
    settings = {"BILLING_SHARD_COUNT": str(shards)}
    with embedded.server(port=port, settings=settings) as (stack, endpoint):
        issuer = LocalIssuer.load_or_create(STATE_DIR)
        lambda_client = embedded.client_factory(endpoint)
        api = serve(api_port, lambda: lambda_client("lambda"), issuer)
        if seed_customers:
            _seed(stack, endpoint, seed_customers, shards)
        _announce(stack, endpoint, api.url, seed_customers)
        poller = QueuePoller(lambda_client, stack)
        try:
            with poller.in_background():
                _wait_for_stop()
        finally:
            api.shutdown()
    console.print("embedded AWS stopped")


def environment(stack: LocalStack, endpoint: str) -> dict[str, str]:
    """What another shell exports to use this stack with the CLI or boto3."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    } | {key: value for key, value in stack.exports().items() if key in _RESOURCE_VARIABLES}


def _seed(stack: LocalStack, endpoint: str, customers: int, shards: int) -> None:
    period = Period.previous(datetime.now(UTC).date())
    hoster = synthetic_hoster(customers, shard_count=shards, period_start=period.start)
    dynamodb = embedded.client_factory(endpoint)("dynamodb")
    contracts = DynamoContracts(dynamodb, stack.table_names["Contracts"])
    contracts.save_customers(hoster.customers)
    contracts.save_positions(hoster.shards, hoster.positions)
    contracts.save_mandates(hoster.shards, hoster.mandates)
    console.print(f"seeded {customers:,} synthetic customers (C0000001 ..)")


def _announce(stack: LocalStack, endpoint: str, api_url: str, seeded: int) -> None:
    console.rule("[bold]embedded AWS is up")
    console.print(f"AWS endpoint  {endpoint}\nHTTP APIs     {api_url}")
    console.print(f"portal        {portal_url(api_url)}\n", highlight=False)
    console.print("export this in another shell:")
    for key, value in environment(stack, endpoint).items():
        console.print(f"export {key}={shlex.quote(value)}", highlight=False, soft_wrap=True)
    console.print("\nthen for example:")
    if seeded:
        console.print("  billing run start --wait")
    console.print("  billing local token C0000001")
    console.print(f'  curl -H "Authorization: Bearer $TOKEN" {api_url}/documents')
    console.print("\nstop with Ctrl-C")


def portal_url(api_url: str) -> str:
    return api_url.rstrip("/") + spec.PORTAL.local_path


def portal_steps(customer_id: str, *, customers: int) -> list[str]:
    """How to read a synthetic customer's documents in the portal of `billing local up`."""
    return [
        f"  billing local up --seed-customers {customers}",
        "  billing run start --wait                # in a second shell, after its export lines",
        f"  billing local token {customer_id}         # sign in with it at "
        + portal_url(DEFAULT_API_URL),
    ]


def _wait_for_stop() -> None:
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    stopped.wait()
