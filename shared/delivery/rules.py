"""When an attempt may deliver an invoice, and the records each step leaves behind.

Every change replaces the record it read, on the condition that nobody replaced it meanwhile,
so two copies of one queue message cannot both claim the invoice, and a final status is kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.delivery.model import FINAL_STATUSES, DeliveryRecord, DeliveryRequest

# An attempt that holds an invoice longer than this has died (the function times out first).
CLAIM_LEASE = timedelta(minutes=5)


def may_claim(record: DeliveryRecord | None, now: datetime) -> bool:
    """True when no delivery is final and no live attempt holds the invoice."""
    if record is None or record.status == "failed":
        return True
    if record.status in FINAL_STATUSES:
        return False
    return now - record.updated_at > CLAIM_LEASE


def claimed(
    request: DeliveryRequest, previous: DeliveryRecord | None, now: datetime
) -> DeliveryRecord:
    attempts = previous.attempts if previous else 0
    return DeliveryRecord(
        run_id=request.run_id,
        number=request.number,
        customer_id=request.customer_id,
        channel=request.channel,
        status="sending",
        updated_at=now,
        attempts=attempts + 1,
    )


def sent(
    claim: DeliveryRecord, *, recipient: str, message_id: str, attached: bool, now: datetime
) -> DeliveryRecord:
    return claim.model_copy(
        update={
            "status": "sent",
            "updated_at": now,
            "recipient": recipient,
            "message_id": message_id,
            "attached_pdf": attached,
            "reason": None,
        }
    )


def failed(claim: DeliveryRecord, *, reason: str, now: datetime) -> DeliveryRecord:
    return claim.model_copy(update={"status": "failed", "updated_at": now, "reason": reason[:500]})


def printed(
    *, run_id: str, number: str, customer_id: str, batch_key: str, now: datetime
) -> DeliveryRecord:
    return DeliveryRecord(
        run_id=run_id,
        number=number,
        customer_id=customer_id,
        channel="post",
        status="printed",
        updated_at=now,
        attempts=1,
        print_batch=batch_key,
    )
