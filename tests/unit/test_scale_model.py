"""The scale model picks the lowest ceiling and adds up the cost per invoice to the fraction."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.scale_model import Measured, Quotas, model, write_units

MEASURED = Measured(
    cpu_ms_per_invoice=8.0,
    invoice_item_bytes=900,
    pdf_bytes=20_000,
    dynamodb_writes_per_shard=4,
)


@pytest.mark.parametrize(("size", "units"), [(1, 1), (1024, 1), (1025, 2), (2048, 2), (3000, 3)])
def test_write_units_are_billed_per_started_kilobyte(size: int, units: int) -> None:
    assert write_units(size) == units


def test_a_small_item_leaves_s3_as_the_binding_limit() -> None:
    result = model(MEASURED)

    assert result.shards == 4_000
    assert result.binding.limit.startswith("S3")
    assert result.minutes == pytest.approx(2_000_000 / 3_500 / 60)


def test_a_three_kilobyte_item_makes_dynamodb_bind() -> None:
    result = model(Measured(8.0, 3_000, 20_000, 4))

    assert result.write_units_per_invoice == 3
    assert result.binding.limit.startswith("DynamoDB")
    assert result.binding.invoices_per_second == pytest.approx(4_000 / 3)


def test_a_warmer_table_and_bucket_move_the_limit_to_lambda() -> None:
    quotas = Quotas(dynamodb_cold_write_units=400_000, s3_puts_per_prefix=350_000)

    result = model(MEASURED, quotas)

    assert result.binding.limit.startswith("Lambda")
    assert result.binding.invoices_per_second == pytest.approx(1_000 * 1000 / 39.0)


def test_the_cost_per_invoice_is_the_sum_of_its_lines() -> None:
    result = model(MEASURED)

    assert result.cost_lines["S3 PUT of the PDF"] == Decimal("0.0000054000")
    # One unit for the item, one for each of its two index entries, and the shard's own writes.
    assert result.cost_lines["DynamoDB writes (item and its index entries)"] == Decimal(
        "0.0000022861"
    )
    assert result.cost_per_invoice == sum(result.cost_lines.values())
    assert all(isinstance(value, Decimal) for value in result.cost_lines.values())


def test_delivery_bookkeeping_is_counted_apart_from_the_run() -> None:
    result = model(MEASURED)

    assert result.delivery_lines["delivery status writes"] == Decimal("0.0000015200")
    assert result.cost_with_delivery_bookkeeping == result.cost_per_invoice + sum(
        result.delivery_lines.values()
    )
