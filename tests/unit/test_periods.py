from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.periods import Period, retain_until
from tests.unit.fakes import repeatable


@pytest.mark.parametrize(
    ("text", "expected"), [("2026-01", Period(2026, 1)), ("1999-12", Period(1999, 12))]
)
def test_parse_reads_year_and_month(text: str, expected: Period) -> None:
    assert Period.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "2026", "2026-1", "2026-00", "2026-13", "26-11", "2026/11", "2026-11-01", " 2026-11", "x"],
)
def test_parse_rejects_bad_strings_naming_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM") as raised:
        Period.parse(text)

    assert repr(text) in str(raised.value)


def test_parse_rejects_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse("2026-11\n")


@repeatable
@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12))
def test_str_and_parse_round_trip(year: int, month: int) -> None:
    period = Period(year, month)

    assert Period.parse(str(period)) == period


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Period(2024, 2), date(2024, 2, 1), date(2024, 2, 29)),
        (Period(2026, 2), date(2026, 2, 1), date(2026, 2, 28)),
        (Period(2026, 4), date(2026, 4, 1), date(2026, 4, 30)),
        (Period(2026, 12), date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_start_and_end_are_the_first_and_last_day(period: Period, start: date, end: date) -> None:
    assert (period.start, period.end) == (start, end)


@repeatable
@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9999, 12, 31)))
def test_previous_is_the_month_before_the_one_of_the_day(today: date) -> None:
    previous = Period.previous(today)

    assert previous.end == today.replace(day=1) - timedelta(days=1)
    assert previous < Period(today.year, today.month)


def test_previous_crosses_the_year() -> None:
    assert Period.previous(date(2027, 1, 15)) == Period(2026, 12)


def test_periods_order_by_year_then_month() -> None:
    assert sorted([Period(2026, 2), Period(2025, 12), Period(2026, 1)]) == [
        Period(2025, 12),
        Period(2026, 1),
        Period(2026, 2),
    ]


@pytest.mark.parametrize(
    ("issued", "years", "expected"),
    [
        (date(2026, 1, 1), 8, datetime(2035, 1, 1, tzinfo=UTC)),
        (date(2026, 12, 31), 8, datetime(2035, 1, 1, tzinfo=UTC)),
        (date(2024, 2, 29), 10, datetime(2035, 1, 1, tzinfo=UTC)),
    ],
)
def test_retain_until_counts_from_the_end_of_the_year_of_issue(
    issued: date, years: int, expected: datetime
) -> None:
    assert retain_until(issued, years) == expected


@repeatable
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 12, 31)),
    st.integers(min_value=1, max_value=30),
)
def test_retain_until_is_new_year_in_utc_after_the_last_kept_year(issued: date, years: int) -> None:
    until = retain_until(issued, years)

    assert until.utcoffset() == timedelta(0)
    assert (until.year, until.month, until.day, until.hour, until.minute) == (
        issued.year + years + 1,
        1,
        1,
        0,
        0,
    )
    assert until - timedelta(microseconds=1) >= datetime(issued.year + years, 12, 31, tzinfo=UTC)
