"""Default interest: the published base rates, and the day count worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.accounts.model import Posting
from shared.dunning.interest import (
    BaseRateTable,
    BaseRateUnknownError,
    item_interest,
    shipped_base_rates,
)

ITEM = "RE-2025-00000001"


def posting(day: date, kind: str, amount: str, tag: str = "") -> Posting:
    return Posting(
        posting_id=f"{kind}:{day}{tag}",
        customer_id="C0000001",
        booked_on=day,
        kind=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        item=ITEM,
        source=f"test:{kind}",
        due_on=date(2025, 5, 15) if kind == "invoice" else None,
    )


INVOICE = posting(date(2025, 5, 1), "invoice", "1000.00")


@pytest.mark.parametrize(
    ("day", "percent"),
    [
        (date(2016, 6, 30), "-0.83"),
        (date(2016, 7, 1), "-0.88"),
        (date(2022, 12, 31), "-0.88"),
        (date(2023, 1, 1), "1.62"),
        (date(2023, 7, 1), "3.12"),
        (date(2024, 1, 1), "3.62"),
        (date(2024, 7, 1), "3.37"),
        (date(2025, 1, 1), "2.27"),
        (date(2025, 7, 1), "1.27"),
        (date(2026, 6, 30), "1.27"),
    ],
)
def test_the_table_holds_the_published_base_rates(day: date, percent: str) -> None:
    assert shipped_base_rates().percent_on(day) == Decimal(percent)


def test_the_table_names_its_source() -> None:
    assert "Bundesbank" in shipped_base_rates().source
    assert "bundesbank.de" in shipped_base_rates().source


def test_a_day_after_the_table_is_unknown_rather_than_guessed() -> None:
    with pytest.raises(BaseRateUnknownError, match=r"2026-07-01 is not in the table"):
        shipped_base_rates().percent_on(date(2026, 7, 1))


def test_a_table_with_a_missing_half_year_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"rates\[1\].from: follows no half-year"):
        BaseRateTable.model_validate(
            {
                "source": "Deutsche Bundesbank",
                "known_through": "2025-12-31",
                "rates": [
                    {"from": "2024-07-01", "percent": "3.37"},
                    {"from": "2025-07-01", "percent": "1.27"},
                ],
            }
        )


def test_consumer_interest_across_the_july_change_is_split_and_rounded_once() -> None:
    charge = item_interest(
        ITEM,
        [INVOICE],
        first_day=date(2025, 6, 15),
        last_day=date(2025, 7, 14),
        points=Decimal(5),
        table=shipped_base_rates(),
    )

    # 15-30 Jun: 1000 x 7.27 % x 16/365 = 3.186849; 1-14 Jul: 1000 x 6.27 % x 14/365 = 2.404932
    assert [(s.start, s.end, s.days, s.percent) for s in charge.segments] == [
        (date(2025, 6, 15), date(2025, 6, 30), 16, Decimal("7.27")),
        (date(2025, 7, 1), date(2025, 7, 14), 14, Decimal("6.27")),
    ]
    assert [round(s.amount, 6) for s in charge.segments] == [
        Decimal("3.186849"),
        Decimal("2.404932"),
    ]
    assert charge.amount == Decimal("5.59")


def test_business_interest_across_the_new_year_uses_nine_points() -> None:
    invoice = posting(date(2024, 11, 1), "invoice", "1000.00")

    charge = item_interest(
        ITEM,
        [invoice],
        first_day=date(2024, 12, 21),
        last_day=date(2025, 1, 10),
        points=Decimal(9),
        table=shipped_base_rates(),
    )

    # 21-31 Dec: 1000 x 12.37 % x 11/365 = 3.727945; 1-10 Jan: 1000 x 11.27 % x 10/365 = 3.087671
    assert charge.amount == Decimal("6.82")


def test_payments_and_a_returned_debit_change_the_principal_from_their_day() -> None:
    postings = [
        INVOICE,
        posting(date(2025, 6, 11), "payment", "-400.00"),
        posting(date(2025, 6, 21), "debit_return", "400.00"),
        posting(date(2025, 6, 26), "payment", "-1000.00", ":2"),
    ]

    charge = item_interest(
        ITEM,
        postings,
        first_day=date(2025, 6, 1),
        last_day=date(2025, 6, 30),
        points=Decimal(5),
        table=shipped_base_rates(),
    )

    # 1-10 Jun 1000 (10 d), 11-20 Jun 600 (10 d), 21-25 Jun 1000 (5 d), from 26 Jun nothing:
    # 7.27 % x (10000 + 6000 + 5000) / 365 = 4.182740
    assert [(s.principal, s.days) for s in charge.segments] == [
        (Decimal("1000.00"), 10),
        (Decimal("600.00"), 10),
        (Decimal("1000.00"), 5),
    ]
    assert charge.amount == Decimal("4.18")


@given(
    st.dates(min_value=date(2013, 1, 1), max_value=date(2026, 6, 30)),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=1, max_value=10_000_000),
)
def test_the_parts_cover_every_day_once_and_match_a_day_by_day_sum(
    first: date, length: int, cents: int
) -> None:
    last = min(first + timedelta(days=length), date(2026, 6, 30))
    invoice = posting(date(2013, 1, 1), "invoice", f"{Decimal(cents) / 100:.2f}")
    table = shipped_base_rates()

    charge = item_interest(
        ITEM, [invoice], first_day=first, last_day=last, points=Decimal(5), table=table
    )

    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert sum(s.days for s in charge.segments) == len(days)
    day_by_day = sum(
        (invoice.amount * (table.percent_on(day) + 5) / 100 / 365 for day in days),
        start=Decimal(0),
    )
    assert abs(charge.amount - day_by_day) <= Decimal("0.005")
