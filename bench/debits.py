"""The debit export and the DATEV export after a real invoice run on the embedded AWS.

Figures: items collected per second and milliseconds per item of the first export of a date
(shard reads, account reads, claims, the file), the same date again (reads only, writes
nothing), AWS calls per collected item, and DATEV bookings per second for the month.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from cli.seed import synthetic_hoster
from shared.payments.debit_export import DebitExportRequest

COLLECTION = date(2026, 12, 15)
EXPORTED_AT = datetime(2026, 12, 11, 8, 0, tzinfo=UTC)


def debit_figures(customers: int, shards: int) -> list[Any]:
    from bench.__main__ import PERIOD, Figure, execute, seed
    from localaws import embedded

    with embedded.in_process({"BILLING_SHARD_COUNT": str(shards)}) as stack:
        make = embedded.client_factory()
        hoster = synthetic_hoster(customers, shard_count=shards, period_start=PERIOD.start)
        seed(make, stack, hoster)
        execute(make("stepfunctions"), stack.invoice_run_arn, f"bench-{PERIOD}-debits")
        calls: Counter[str] = Counter()
        dynamodb, s3 = make("dynamodb"), make("s3")
        for client in (dynamodb, s3):
            client.meta.events.register(
                "before-call.*.*", lambda model, **_: calls.update([model.name])
            )
        first, again, datev = _exports(dynamodb, s3, calls)

    items = first["items"]
    per_item = {name: count / items for name, count in first["calls"].items()} if items else {}
    figures = [
        Figure("debit export customers", customers, "customers"),
        Figure("debit export items collected", items, "items"),
        Figure("debit export", round(items / first["seconds"], 1), "items/s"),
        Figure("debit export per item", round(first["seconds"] / items * 1000, 2), "ms"),
        Figure("debit export same date again", round(again["seconds"], 2), "s"),
        Figure("debit export same date again writes", again["writes"], "writes"),
        Figure("datev export", round(datev["bookings"] / datev["seconds"], 1), "bookings/s"),
        Figure("datev export bookings", datev["bookings"], "bookings"),
    ]
    figures += [
        Figure(f"debit export aws {name} calls", round(count, 3), "/item")
        for name, count in sorted(per_item.items())
    ]
    return figures


def _exports(dynamodb: Any, s3: Any, calls: Counter[str]) -> tuple[dict[str, Any], ...]:
    from shared.settings import Settings
    from shared.wiring import datev_export, debit_export_service, ledger

    settings = Settings()
    books = ledger(settings, dynamodb)
    service = debit_export_service(settings, books, dynamodb=dynamodb, s3=s3)
    service = replace(service, clock=lambda: EXPORTED_AT)
    request = DebitExportRequest(COLLECTION)

    figures = []
    for _ in range(2):
        calls.clear()
        started = time.perf_counter()
        result = service.export(request)
        seconds = time.perf_counter() - started
        written = result.new_file.items if result.new_file else 0
        writes = sum(n for name, n in calls.items() if name in _WRITES)
        figures.append(
            {"items": written, "seconds": seconds, "calls": dict(calls), "writes": writes}
        )
    if figures[0]["items"] == 0 or figures[1]["items"] != 0:
        raise SystemExit("the debit bench did not collect once and then nothing")

    started = time.perf_counter()
    datev = datev_export(settings, books, dynamodb=dynamodb).export(
        date(2026, 12, 1), date(2026, 12, 31)
    )
    if not datev.reconciliation.ok:
        raise SystemExit("the DATEV export of the bench run does not reconcile")
    datev_figures = {"bookings": len(datev.bookings), "seconds": time.perf_counter() - started}
    return figures[0], figures[1], datev_figures


_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "PutObject"}
