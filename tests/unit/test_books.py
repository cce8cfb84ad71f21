"""The matching books fold items lazily and cache them; they must agree with the account."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shared.accounts.model import Posting
from shared.payments.matching import Books
from shared.payments.references import compact

CUSTOMER = "C0000001"
ITEMS = ["RE-2026-00000001", "RE-2026-00000002", "FEE0A1B2C3D4E5F", None]
KINDS = ["invoice", "payment", "debit_return", "return_fee", "write_off"]

postings = st.lists(
    st.tuples(
        st.sampled_from(ITEMS),
        st.sampled_from(KINDS),
        st.decimals(min_value=Decimal("-50"), max_value=Decimal("50"), places=2),
        st.integers(0, 20),
        st.integers(0, 30),
    ),
    max_size=25,
)


def _posting(index: int, item: str | None, kind: str, amount: Decimal, day: int) -> Posting:
    return Posting(
        posting_id=f"p{index:03d}",
        customer_id=CUSTOMER,
        booked_on=date(2026, 12, 1) + timedelta(days=day),
        kind=kind,  # type: ignore[arg-type]
        amount=amount,
        item=item,
        source="test:books",
        reason="AC04" if kind == "debit_return" else None,
    )


@given(first=postings, later=postings)
def test_books_agree_with_the_account_however_postings_arrive(first: list, later: list) -> None:
    loaded = [
        _posting(i, item, kind, amount, day) for i, (item, kind, amount, _, day) in enumerate(first)
    ]
    books = Books()
    books.apply(loaded)
    books.item(CUSTOMER, "RE-2026-00000001")
    # Ids may repeat those loaded: a posting applied again changes nothing.
    applied = [
        _posting(number, item, kind, amount, day) for item, kind, amount, number, day in later
    ]
    for posting in applied:
        books.apply([posting])
        books.items(CUSTOMER)

    account = books.account(CUSTOMER)
    assert books.items(CUSTOMER) == list(account.items())
    assert books.open_items(CUSTOMER) == list(account.open_items())
    for item in account.items():
        assert books.item(CUSTOMER, compact(item.item)) == item


@given(st.text(max_size=30))
def test_compact_keeps_ascii_letters_and_digits_in_upper_case(value: str) -> None:
    assert compact(value) == re.sub(r"[^A-Z0-9]", "", value.upper())
