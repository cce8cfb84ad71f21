"""Exit 0 when a LocalStack answers at AWS_ENDPOINT_URL, 75 (skip) with a message when none does."""

from __future__ import annotations

import os
import sys

import requests

SKIP = 75
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"


def endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def localstack_answers(url: str) -> bool:
    try:
        response = requests.get(f"{url}/_localstack/health", timeout=3)
        return response.ok and "services" in response.json()
    except (requests.RequestException, ValueError):
        return False


def main() -> int:
    url = endpoint()
    if localstack_answers(url):
        print(f"LocalStack answers at {url}; running the integration suite against it")  # noqa: T201
        return 0

    print(  # noqa: T201
        f"no LocalStack answers at {url} (GET /_localstack/health); skipping the LocalStack "
        "suite. Start one (see README, 'LocalStack') or set AWS_ENDPOINT_URL to where it runs."
    )
    return SKIP


if __name__ == "__main__":
    sys.exit(main())
