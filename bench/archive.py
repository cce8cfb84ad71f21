"""The archive API under load: customers listing and fetching at once through the front end.

Each simulated customer has their own token and sends a bounded number of requests (list a
page, read one document's metadata, ask for its PDF link) over loopback to the local HTTP
front end, which invokes the real handler on the embedded AWS. The baseline is the bare
emulator query the list makes, timed without HTTP, Lambda or handler, by as many customers at
once and as often.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests

from cli.seed import archive_customer, monthly_invoice
from shared.invoicing.model import Seller, document_key
from shared.periods import Period
from shared.ports import DocumentArchive, DocumentStore

DOCUMENTS_PER_CUSTOMER = 12
PAGE_SIZE = "10"
RETAIN_UNTIL = datetime(2040, 1, 1, tzinfo=UTC)


def seed(
    store: DocumentStore, files: DocumentArchive, seller: Seller, customers: int
) -> dict[str, list[str]]:
    """Each customer gets a year of monthly invoices; their numbers, by customer."""
    numbers: dict[str, list[str]] = {}
    sequence = 0
    for index in range(customers):
        customer_id = f"C{index + 1:07d}"
        customer = archive_customer(customer_id, "Kunde " + customer_id, shard_count=16)
        numbers[customer.customer_id] = []
        for month in range(DOCUMENTS_PER_CUSTOMER):
            sequence += 1
            number = f"RE-2025-{sequence:08d}"
            invoice = monthly_invoice(customer, number, Period(2025, month + 1), seller)
            key = document_key(customer.customer_id, number)
            files.store_pdf(key, b"%PDF-1.7 bench " + number.encode(), retain_until=RETAIN_UNTIL)
            store.issue_invoice(invoice, shard=customer.shard, pdf_key=key)
            numbers[customer.customer_id].append(number)
    return numbers


def _customer_session(url: str, token: str, numbers: list[str], requests_each: int) -> list[float]:
    """One customer's requests in turn; the latency of each in seconds."""
    latencies: list[float] = []
    headers = {"Authorization": "Bearer " + token}
    with requests.Session() as session:
        # The in-process Lambda runtime swaps os.environ while it runs a handler; a session that
        # read proxy settings from the environment would race with it.
        session.trust_env = False
        for index in range(requests_each):
            number = numbers[index % len(numbers)]
            target = (
                url + "/documents?limit=" + PAGE_SIZE,
                url + "/documents/" + number,
                url + "/documents/" + number + "/pdf",
            )[index % 3]
            started = time.perf_counter()
            answer = session.get(target, headers=headers, allow_redirects=False, timeout=30)
            latencies.append(time.perf_counter() - started)
            if answer.status_code not in {200, 302}:
                raise SystemExit(f"{target} answered {answer.status_code}")
    return latencies


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def archive_load(customers: int, requests_each: int) -> list[Any]:
    from bench.__main__ import Figure
    from localaws import embedded
    from localaws.http_api import LocalIssuer, serve
    from shared.settings import Settings
    from shared.wiring import document_archive, documents_store

    with embedded.in_process({"BILLING_SHARD_COUNT": "16"}):
        settings = Settings()
        store = documents_store(settings)
        numbers = seed(store, document_archive(settings), settings.seller, customers)
        baseline, baseline_wall = _bare_queries(store, list(numbers), requests_each)

        issuer = LocalIssuer.generate()
        server = serve(0, lambda: embedded.client_factory()("lambda"), issuer)
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=customers) as pool:
                sessions = [
                    pool.submit(
                        _customer_session,
                        server.url,
                        issuer.token(customer_id),
                        own,
                        requests_each,
                    )
                    for customer_id, own in numbers.items()
                ]
                latencies = [latency for session in sessions for latency in session.result()]
            wall = time.perf_counter() - started
        finally:
            server.shutdown()

    return [
        Figure(
            "archive: requests/s, " + str(customers) + " customers",
            round(len(latencies) / wall, 1),
            "/s",
        ),
        Figure("archive: p50", round(_percentile(latencies, 0.50) * 1000, 2), "ms"),
        Figure("archive: p99", round(_percentile(latencies, 0.99) * 1000, 2), "ms"),
        Figure(
            "archive: bare emulator list queries/s, " + str(customers) + " customers",
            round(len(baseline) / baseline_wall, 1),
            "/s",
        ),
        Figure(
            "archive: bare emulator list query p50",
            round(_percentile(baseline, 0.50) * 1000, 2),
            "ms",
        ),
        Figure(
            "archive: bare emulator list query p99",
            round(_percentile(baseline, 0.99) * 1000, 2),
            "ms",
        ),
    ]


def _bare_queries(
    store: DocumentStore, customer_ids: list[str], requests_each: int
) -> tuple[list[float], float]:
    """The list's one DynamoDB query straight on the emulator, without HTTP, Lambda or handler,
    by as many customers at once and as often as the load: each query's seconds, and the wall."""

    def session(customer_id: str) -> list[float]:
        times = []
        for _ in range(requests_each):
            started = time.perf_counter()
            store.customer_documents(customer_id, limit=int(PAGE_SIZE), cursor=None)
            times.append(time.perf_counter() - started)
        return times

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(customer_ids)) as pool:
        times = [t for found in pool.map(session, customer_ids) for t in found]
    return times, time.perf_counter() - started
