from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.invoicing.numbering import (
    SEQUENCE_DIGITS,
    Assignment,
    NumberBlock,
    format_number,
    range_key,
    sequence_of,
)
from tests.unit.fakes import repeatable

RANGE = range_key("RE", 2026)


def block(index: int, first: int, *customers: str) -> NumberBlock:
    return NumberBlock(
        RANGE, f"BLOCK#run-2026-11#00003#{index:04d}", first, customers, date(2026, 12, 1)
    )


def test_range_key_joins_prefix_and_year() -> None:
    assert RANGE == "RE-2026"


def test_format_number_pads_the_sequence() -> None:
    assert format_number(RANGE, 42) == "RE-2026-00000042"
    assert len(format_number(RANGE, 1).rsplit("-", 1)[1]) == SEQUENCE_DIGITS


@repeatable
@given(
    st.from_regex(r"[A-Z]{1,6}-[0-9]{4}", fullmatch=True),
    st.integers(min_value=1, max_value=10**12),
)
def test_format_and_sequence_round_trip(number_range: str, sequence: int) -> None:
    number = format_number(number_range, sequence)

    assert sequence_of(number) == sequence
    assert number.startswith(f"{number_range}-")


@repeatable
@given(st.integers(min_value=1, max_value=10**SEQUENCE_DIGITS - 2))
def test_formatted_numbers_sort_like_their_sequences(sequence: int) -> None:
    assert format_number(RANGE, sequence) < format_number(RANGE, sequence + 1)


def test_block_assigns_consecutive_numbers_in_customer_order() -> None:
    numbers = block(0, 17, "C0000003", "C0000001", "C0000002").assignment()

    assert numbers == {
        "C0000003": "RE-2026-00000017",
        "C0000001": "RE-2026-00000018",
        "C0000002": "RE-2026-00000019",
    }


def test_assignment_of_no_blocks_is_empty() -> None:
    assert Assignment.of([]).numbers == {}


def test_later_block_overrides_a_voided_number() -> None:
    first = block(0, 1, "C0000001", "C0000002", "C0000003")
    second = block(1, 9, "C0000002")

    assignment = Assignment.of([first, second])

    assert assignment.numbers == {
        "C0000001": "RE-2026-00000001",
        "C0000002": "RE-2026-00000009",
        "C0000003": "RE-2026-00000003",
    }


def test_blocks_are_read_in_the_order_given() -> None:
    first = block(0, 1, "C0000001")
    second = block(1, 5, "C0000001")

    assert Assignment.of([second, first]).numbers == {"C0000001": "RE-2026-00000001"}


@repeatable
@given(
    st.lists(
        st.lists(st.sampled_from([f"C{n:07d}" for n in range(1, 9)]), unique=True, max_size=8),
        max_size=5,
    )
)
def test_assignment_is_the_last_number_each_customer_got(blocks: list[list[str]]) -> None:
    reserved, first = [], 1
    for index, customers in enumerate(blocks):
        reserved.append(block(index, first, *customers))
        first += len(customers)

    numbers = Assignment.of(reserved).numbers

    expected: dict[str, str] = {}
    for item in reserved:
        for offset, customer_id in enumerate(item.customers):
            expected[customer_id] = format_number(RANGE, item.first + offset)
    assert numbers == expected
    assert len(set(numbers.values())) == len(numbers)


def test_missing_lists_customers_without_a_number_or_with_a_voided_one() -> None:
    assignment = Assignment.of([block(0, 1, "C0000001", "C0000002", "C0000003")])

    missing = assignment.missing(
        ["C0000001", "C0000002", "C0000003", "C0000004"], voided={"RE-2026-00000002"}
    )

    assert missing == ["C0000002", "C0000004"]


def test_missing_keeps_the_order_of_the_customers_asked_for() -> None:
    assignment = Assignment()

    assert assignment.missing(["C0000009", "C0000001"], voided=()) == ["C0000009", "C0000001"]


def test_a_customer_renumbered_after_a_void_is_no_longer_missing() -> None:
    voided = {"RE-2026-00000002"}
    blocks = [block(0, 1, "C0000001", "C0000002"), block(1, 3, "C0000002")]

    assert Assignment.of(blocks[:1]).missing(["C0000001", "C0000002"], voided) == ["C0000002"]
    assert Assignment.of(blocks).missing(["C0000001", "C0000002"], voided) == []


@pytest.mark.parametrize("voided", [set(), {"RE-2026-00000001"}])
def test_missing_of_nobody_is_empty(voided: set[str]) -> None:
    assert Assignment.of([block(0, 1, "C0000001")]).missing([], voided) == []
