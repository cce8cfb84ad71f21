"""Debtor numbers for the DATEV export on the embedded AWS: given once, never shared."""

from __future__ import annotations

from shared.storage.debtors import DynamoDebtorNumbers, debtor_key
from shared.storage.dynamodb import to_item
from tests.integration.conftest import Aws


def _numbers(aws: Aws) -> DynamoDebtorNumbers:
    return DynamoDebtorNumbers(aws.dynamodb, aws.stack.table_names["Control"])


def test_customers_get_the_next_numbers_once_and_keep_them(aws: Aws) -> None:
    debtors = _numbers(aws)

    first = debtors.numbers(["C255271576117", "C000000000042"])
    again = debtors.numbers(["C000000000042", "C999000000001", "C255271576117"])

    assert first == {"C255271576117": 1, "C000000000042": 2}
    assert again == {"C000000000042": 2, "C999000000001": 3, "C255271576117": 1}


def test_a_number_written_by_another_export_meanwhile_is_the_one_kept(aws: Aws) -> None:
    debtors = _numbers(aws)
    table = aws.stack.table_names["Control"]
    # Another export reserved numbers 1 to 5 and gave C0000000002 its number 4 first.
    aws.dynamodb.update_item(
        TableName=table,
        Key=to_item({"pk": "DATEV", "sk": "DEBTOR-COUNTER"}),
        UpdateExpression="SET #next = :five",
        ExpressionAttributeNames={"#next": "next"},
        ExpressionAttributeValues={":five": {"N": "5"}},
    )
    reading = debtors._read
    reads: list[list[str]] = []

    def read_before_the_other_export(customer_ids: list[str]) -> dict[str, int]:
        reads.append(customer_ids)
        if len(reads) == 1:  # our first read sees nobody numbered; then the other export writes
            other = debtor_key("C0000000002") | {"number": 4}
            aws.dynamodb.put_item(TableName=table, Item=to_item(other))
            return {}
        return reading(customer_ids)

    debtors._read = read_before_the_other_export  # type: ignore[method-assign]

    given = debtors.numbers(["C0000000001", "C0000000002"])
    debtors._read = reading  # type: ignore[method-assign]

    assert given == {"C0000000001": 6, "C0000000002": 4}
    assert reads[1:] == [["C0000000002"]]
    assert debtors.numbers(["C0000000002", "C0000000001"]) == {"C0000000002": 4, "C0000000001": 6}


def test_many_customers_are_numbered_at_once_without_a_gap(aws: Aws) -> None:
    debtors = _numbers(aws)
    customers = [f"C{index:012d}" for index in range(60, 0, -1)]

    given = debtors.numbers(customers)

    assert [given[c] for c in customers] == list(range(1, 61))
