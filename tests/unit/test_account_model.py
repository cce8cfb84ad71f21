from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.accounts.model import Posting, account_of
from shared.money import total
from tests.unit.ledger_fakes import MemoryLedger

CUSTOMER = "C0000001"


def _posting(posting_id: str, kind: str, amount: str, item: str | None, **extra: object) -> Posting:
    values: dict[str, object] = {
        "posting_id": posting_id,
        "customer_id": CUSTOMER,
        "booked_on": date(2026, 11, 1),
        "kind": kind,
        "amount": Decimal(amount),
        "item": item,
        "source": f"test:{posting_id}",
    }
    return Posting.model_validate(values | extra)


def _invoice(number: str, amount: str) -> Posting:
    return _posting(f"invoice:{number}", "invoice", amount, number, due_on=date(2026, 11, 15))


def test_an_invoice_partly_paid_is_partially_paid_with_the_rest_open() -> None:
    account = account_of(
        CUSTOMER, [_invoice("RE1", "119.00"), _posting("pay1", "payment", "-100.00", "RE1")]
    )

    item = account.item("RE1")

    assert item is not None
    assert (item.status, item.open, item.credited) == (
        "partially_paid",
        Decimal("19.00"),
        Decimal("100.00"),
    )
    assert account.balance == Decimal("19.00")


def test_a_returned_debit_reopens_the_item_with_its_reason_until_paid_again() -> None:
    postings = [
        _invoice("RE1", "50.00"),
        _posting("pay1", "payment", "-50.00", "RE1"),
        _posting(
            "ret1", "debit_return", "50.00", "RE1", reason="AC04", booked_on=date(2026, 11, 3)
        ),
    ]

    returned = account_of(CUSTOMER, postings).item("RE1")
    paid_again = account_of(
        CUSTOMER,
        [*postings, _posting("pay2", "payment", "-50.00", "RE1", booked_on=date(2026, 11, 9))],
    ).item("RE1")

    assert returned is not None
    assert paid_again is not None
    assert (returned.status, returned.return_reason, returned.open) == (
        "returned",
        "AC04",
        Decimal("50.00"),
    )
    assert (paid_again.status, paid_again.return_reason) == ("paid", None)


def test_overpayment_is_credit_on_the_account_and_a_negative_balance() -> None:
    account = account_of(
        CUSTOMER,
        [
            _invoice("RE1", "10.00"),
            _posting("pay1", "payment", "-10.00", "RE1"),
            _posting("pay1:credit", "payment", "-5.00", None),
        ],
    )

    assert account.unapplied_credit == Decimal("5.00")
    assert account.balance == Decimal("-5.00")
    assert account.open_items() == ()


def test_a_write_off_settles_the_item_as_written_off() -> None:
    account = account_of(
        CUSTOMER, [_invoice("RE1", "10.00"), _posting("wo1", "write_off", "-10.00", "RE1")]
    )

    item = account.item("RE1")

    assert item is not None
    assert item.status == "written_off"


def test_a_posting_counts_once_however_often_it_is_posted() -> None:
    ledger = MemoryLedger()
    postings = [_invoice("RE1", "10.00"), _posting("pay1", "payment", "-4.00", "RE1")]

    first = ledger.post(postings)
    again = ledger.post(postings)

    assert (first, again) == (2, 0)
    assert ledger.account(CUSTOMER).balance == Decimal("6.00")


def test_amounts_must_be_whole_cents() -> None:
    with pytest.raises(ValidationError, match="whole cents"):
        _posting("x", "payment", "-1.005", "RE1")


def test_an_invoice_cancelled_after_it_was_paid_is_credit_on_the_account() -> None:
    account = account_of(
        CUSTOMER,
        [
            _invoice("RE1", "10.00"),
            _posting("pay1", "payment", "-10.00", "RE1"),
            _posting("cancel:ST1", "cancellation", "-10.00", "RE1"),
            _invoice("RE2", "25.00"),
            _posting("pay2:credit", "payment", "-2.00", None),
        ],
    )
    open_sum = total(item.open for item in account.open_items())

    assert (account.unapplied_credit, account.credit) == (Decimal("2.00"), Decimal("12.00"))
    assert account.balance == Decimal("13.00")
    assert open_sum == account.balance + account.credit == Decimal("25.00")
