"""A run's delivery at a glance: invoices per status, e-mails with a PDF, and what failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from shared.delivery.model import DeliveryRecord


class FailedDelivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: str
    customer_id: str
    attempts: int
    reason: str


class DeliverySummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    by_status: dict[str, int]
    emails_sent: int
    with_attachment: int
    printed: int
    print_batches: tuple[str, ...]
    failed: tuple[FailedDelivery, ...]


def summarize(run_id: str, records: Iterable[DeliveryRecord]) -> DeliverySummary:
    statuses: Counter[str] = Counter()
    attached = 0
    batches: set[str] = set()
    failed: list[FailedDelivery] = []
    for record in records:
        statuses[record.status] += 1
        attached += int(record.status == "sent" and record.attached_pdf)
        if record.print_batch:
            batches.add(record.print_batch)
        if record.status == "failed":
            failed.append(
                FailedDelivery(
                    number=record.number,
                    customer_id=record.customer_id,
                    attempts=record.attempts,
                    reason=record.reason or "",
                )
            )
    return DeliverySummary(
        run_id=run_id,
        by_status=dict(sorted(statuses.items())),
        emails_sent=statuses["sent"],
        with_attachment=attached,
        printed=statuses["printed"],
        print_batches=tuple(sorted(batches)),
        failed=tuple(sorted(failed, key=lambda failure: failure.number)),
    )
