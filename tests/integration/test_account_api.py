"""GET /account through the local front end: the signed-in customer's balance and open items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from shared.accounts.model import Posting
from shared.settings import Settings
from shared.wiring import ledger
from tests.integration.test_archive_api import ALICE, BOB, Archive, served_archive

GROSS = Decimal("5.94")


@pytest.fixture(scope="module")
def api() -> Iterator[Archive]:
    yield from served_archive()


def test_a_customer_reads_balance_and_open_items_as_decimal_strings(api: Archive) -> None:
    answer = api.get("/account", api.as_customer(ALICE))

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"customer_id", "currency", "balance", "open_items"}
    assert (body["customer_id"], body["currency"], body["balance"]) == (ALICE, "EUR", "17.82")
    assert [item["item"] for item in body["open_items"]] == api.numbers[ALICE]
    first = body["open_items"][0]
    assert first == {
        "item": "RE-2026-00000001",
        "document_number": "RE-2026-00000001",
        "kind": "invoice",
        "opened_on": "2026-02-01",
        "due_on": "2026-02-15",
        "amount": "5.94",
        "open": "5.94",
        "status": "open",
        "return_reason": None,
    }


def test_a_cancelled_invoice_is_no_open_item_and_the_balance_reconciles(api: Archive) -> None:
    body = api.get("/account", api.as_customer(BOB)).json()

    assert [item["item"] for item in body["open_items"]] == ["RE-2026-00000002"]
    assert Decimal(body["balance"]) == sum(Decimal(i["open"]) for i in body["open_items"])


def test_a_partial_payment_shows_and_credit_lowers_the_balance(api: Archive) -> None:
    postings = [
        Posting(
            posting_id="pay:TX-API-0001:RE-2026-00000005",
            customer_id=ALICE,
            booked_on=date(2026, 4, 3),
            kind="payment",
            amount=Decimal("-2.00"),
            item="RE-2026-00000005",
            source="statement:TX-API-0001",
        ),
        Posting(
            posting_id="pay:TX-API-0001:credit",
            customer_id=ALICE,
            booked_on=date(2026, 4, 3),
            kind="payment",
            amount=Decimal("-1.00"),
            source="statement:TX-API-0001",
        ),
    ]
    ledger(Settings()).post(postings)

    body = api.get("/account", api.as_customer(ALICE)).json()

    last = body["open_items"][-1]
    assert (last["item"], last["open"], last["status"]) == (
        "RE-2026-00000005",
        "3.94",
        "partially_paid",
    )
    assert body["balance"] == str(3 * GROSS - Decimal("3.00"))
    open_sum = sum(Decimal(i["open"]) for i in body["open_items"])
    assert open_sum == Decimal(body["balance"]) + Decimal("1.00")


def test_staff_read_a_customers_account_by_the_customer_parameter(api: Archive) -> None:
    staff = api.issuer.token("erika.muster", staff=True)

    named = api.get("/account", staff, customer=BOB)
    unnamed = api.get("/account", staff)

    assert named.status_code == 200
    assert named.json()["customer_id"] == BOB
    assert unnamed.status_code == 400
    assert unnamed.json()["error"]["code"] == "invalid_parameter"


def test_the_account_needs_a_token(api: Archive) -> None:
    assert api.get("/account", None).status_code == 401
