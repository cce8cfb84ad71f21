"""The DynamoDB side of the import on the embedded AWS: lock, mandates, owners, the list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.customers import shard_of
from shared.orders.model import Mandate
from shared.payments.matching import unmatched
from shared.payments.statement import BankTransaction
from shared.storage.debits import DynamoDebitMandates
from shared.storage.dynamodb import batch_put
from shared.storage.orders import DynamoOrderContracts, mandate_item
from shared.storage.payments import (
    DynamoDecisions,
    DynamoImportLock,
    DynamoInvoiceOwners,
    DynamoMandates,
)
from tests.integration.conftest import SHARDS, Aws

NOW = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


def test_the_import_lock_is_held_until_released_or_expired(aws: Aws) -> None:
    lock = DynamoImportLock(aws.dynamodb, aws.stack.table_names["Control"])

    first = lock.acquire("import-a", now=NOW, seconds=900)
    refused = lock.acquire("import-b", now=NOW + timedelta(seconds=899), seconds=900)
    lock.release("import-b")
    still = lock.acquire("import-b", now=NOW + timedelta(seconds=10), seconds=900)
    taken_over = lock.acquire("import-b", now=NOW + timedelta(seconds=901), seconds=900)
    lock.release("import-a")
    held = lock.acquire("import-c", now=NOW + timedelta(seconds=902), seconds=900)
    lock.release("import-b")
    free = lock.acquire("import-c", now=NOW + timedelta(seconds=903), seconds=900)

    assert (first, refused, still, taken_over) == (None, "import-a", "import-a", None)
    assert (held, free) == ("import-b", None)


def _mandate(customer_id: str) -> Mandate:
    return Mandate(
        reference=f"M-{customer_id}",
        customer_id=customer_id,
        signed_on=date(2026, 1, 1),
        iban="DE89370400440532013000",
        account_holder="Kunde",
        creditor_id="DE98ZZZ09999999999",
    )


def test_a_mandate_keeps_its_first_revocation_and_no_mandate_is_made_up(aws: Aws) -> None:
    table = aws.stack.table_names["Contracts"]
    batch_put(
        aws.dynamodb, table, [mandate_item(shard_of("C0000001", SHARDS), _mandate("C0000001"))]
    )
    mandates = DynamoMandates(aws.dynamodb, table, SHARDS)

    mandates.revoke("C0000001", "M-C0000001", reason="AC04", on=date(2026, 12, 5))
    mandates.revoke("C0000001", "M-C0000001", reason="MD07", on=date(2026, 12, 9))
    mandates.revoke("C0000002", "M-C0000002", reason="AC04", on=date(2026, 12, 5))

    items = aws.scan("Contracts")
    (mandate,) = [i for i in items if "MANDATE" in str(i["sk"])]
    assert (mandate["revoked_reason"], mandate["revoked_on"]) == ("AC04", "2026-12-05")
    assert mandate["data"] == _mandate("C0000001").model_dump_json()


def test_an_order_naming_a_revoked_mandate_again_leaves_it_revoked(aws: Aws) -> None:
    table = aws.stack.table_names["Contracts"]
    shard = shard_of("C0000001", SHARDS)
    contracts = DynamoOrderContracts(aws.dynamodb, table, SHARDS)
    contracts.write(customer=None, shard=shard, positions=(), mandate=_mandate("C0000001"))
    DynamoDebitMandates(aws.dynamodb, table).note_first_collection(
        shard, "C0000001", "M-C0000001", on=date(2026, 11, 15)
    )
    DynamoMandates(aws.dynamodb, table, SHARDS).revoke(
        "C0000001", "M-C0000001", reason="AC04", on=date(2026, 12, 5)
    )
    amended = _mandate("C0000001").model_copy(update={"account_holder": "Kundin"})

    contracts.write(customer=None, shard=shard, positions=(), mandate=amended)

    (stored,) = DynamoDebitMandates(aws.dynamodb, table).load_mandates(shard)["C0000001"]
    assert stored.mandate == amended
    assert (stored.revoked_reason, stored.revoked_on) == ("AC04", date(2026, 12, 5))
    assert stored.first_collected_on == date(2026, 11, 15)


def test_invoice_owners_come_from_the_runs_number_blocks(aws: Aws) -> None:
    aws.seed(6)
    aws.run("run-2026-11-owners")
    issued = {i["number"]: i["customer_id"] for i in aws.invoices()}
    owners = DynamoInvoiceOwners(aws.dynamodb, aws.stack.table_names["Control"])

    found = owners.owners([*issued, "RE-2026-00000999", "RE-2025-00000001", "XX"])

    assert found == issued


def _transaction(transaction_id: str, day: int) -> BankTransaction:
    return BankTransaction(
        transaction_id=transaction_id,
        amount=Decimal("9.99"),
        currency="EUR",
        booking_date=date(2026, 12, day),
    )


def test_the_clarification_list_is_read_oldest_first_and_replaced_once(aws: Aws) -> None:
    decisions = DynamoDecisions(aws.dynamodb, aws.stack.table_names["Control"])
    aside = [
        unmatched(_transaction(f"TX-LIST-{index:04d}", 1 + (index * 7) % 28), "no reference")
        for index in range(40)
    ]
    decisions.record(aside)
    decisions.set_aside(aside)
    assigned = aside[0].model_copy(update={"rule": "manual", "decided_by": "manual:erika"})

    listed = decisions.unmatched()
    first = decisions.replace(assigned, was_unmatched=True)
    second = decisions.replace(assigned, was_unmatched=True)
    decisions.settled(assigned)

    days = [d.transaction.booking_date for d in listed]
    assert (len(listed), days) == (40, sorted(days))
    assert (first, second) == (True, False)
    assert len(decisions.unmatched()) == 39
    stored = decisions.decided([aside[0].transaction.transaction_id])
    assert stored[aside[0].transaction.transaction_id].decided_by == "manual:erika"
