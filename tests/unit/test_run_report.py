from datetime import date
from decimal import Decimal

import pytest

from shared.invoicing.run import (
    Failure,
    FinalizeRequest,
    RateTotal,
    RunRequest,
    ShardResult,
    VoidNumber,
    build_report,
    combine_rates,
    run_id_for,
)
from shared.periods import Period

REQUEST = RunRequest(
    run_id="run-2026-11", period="2026-11", issue_date=date(2026, 12, 1), execution="first"
)


def result(shard: int, **values: object) -> ShardResult:
    defaults: dict[str, object] = {
        "run_id": "run-2026-11",
        "shard": shard,
        "dry_run": False,
        "customers": 0,
        "invoices": 0,
        "new_invoices": 0,
    }
    return ShardResult.model_validate(defaults | values)


def rate(percent: int, net: str, vat: str) -> RateTotal:
    return RateTotal(rate=Decimal(percent), net=Decimal(net), vat=Decimal(vat))


SHARD_0 = result(
    0,
    customers=3,
    invoices=2,
    new_invoices=2,
    net=Decimal("16.49"),
    vat=Decimal("2.36"),
    gross=Decimal("18.85"),
    by_rate=(rate(19, "9.99", "1.90"), rate(7, "6.50", "0.46")),
    numbers=("RE-2026-00000001", "RE-2026-00000002"),
)
SHARD_1 = result(
    1,
    customers=2,
    invoices=2,
    new_invoices=1,
    net=Decimal("20.00"),
    vat=Decimal("3.80"),
    gross=Decimal("23.80"),
    by_rate=(rate(19, "20.00", "3.80"),),
    numbers=("RE-2026-00000004", "RE-2026-00000005"),
    voids=(VoidNumber(number="RE-2026-00000003", reason="no invoice due"),),
)


def test_run_id_is_one_per_period() -> None:
    assert run_id_for(Period(2026, 11)) == "run-2026-11"
    assert run_id_for(Period(2026, 1)) == "run-2026-01"


def test_totals_add_up_over_all_shards() -> None:
    report = build_report(request=REQUEST, shards_total=2, results=[SHARD_1, SHARD_0])

    assert (report.customers, report.invoices, report.new_invoices) == (5, 4, 3)
    assert (report.net, report.vat, report.gross) == (
        Decimal("36.49"),
        Decimal("6.16"),
        Decimal("42.65"),
    )
    assert report.gross == report.net + report.vat
    assert report.by_rate == (rate(19, "29.99", "5.70"), rate(7, "6.50", "0.46"))
    assert sum(group.net for group in report.by_rate) == report.net
    assert sum(group.vat for group in report.by_rate) == report.vat
    assert report.void_numbers == SHARD_1.voids


def test_all_shards_reported_without_failures_succeeds() -> None:
    report = build_report(request=REQUEST, shards_total=2, results=[SHARD_0, SHARD_1])

    assert report.status == "succeeded"
    assert (report.shards_total, report.shards_done, report.missing_shards) == (2, 2, ())
    assert (report.run_id, report.period, report.issue_date) == (
        "run-2026-11",
        "2026-11",
        date(2026, 12, 1),
    )


def test_missing_shards_are_listed_and_fail_the_run() -> None:
    report = build_report(request=REQUEST, shards_total=5, results=[SHARD_1])

    assert report.missing_shards == (0, 2, 3, 4)
    assert report.shards_done == 1
    assert report.status == "completed_with_failures"
    assert report.invoices == SHARD_1.invoices


def test_a_failed_customer_fails_the_run() -> None:
    failure = Failure(customer_id="C0000007", reason="archived document differs")
    failing = SHARD_1.model_copy(update={"failed": (failure,)})

    report = build_report(request=REQUEST, shards_total=2, results=[SHARD_0, failing])

    assert report.status == "completed_with_failures"
    assert report.missing_shards == ()
    assert report.failed == (failure,)


def test_no_results_at_all() -> None:
    report = build_report(request=REQUEST, shards_total=3, results=[])

    assert report.missing_shards == (0, 1, 2)
    assert report.status == "completed_with_failures"
    assert (report.first_number, report.last_number) == (None, None)
    assert (report.net, report.vat, report.gross) == (Decimal(0), Decimal(0), Decimal(0))
    assert report.by_rate == ()


def test_first_and_last_number_follow_the_sequence_not_the_text() -> None:
    low = result(0, numbers=("RE-2026-99999999", "RE-2026-00000005"))
    high = result(1, numbers=("RE-2026-100000000",))

    report = build_report(request=REQUEST, shards_total=2, results=[high, low])

    assert report.first_number == "RE-2026-00000005"
    assert report.last_number == "RE-2026-100000000"


def test_report_of_a_dry_run_says_so() -> None:
    dry = REQUEST.model_copy(update={"dry_run": True})
    shard = SHARD_0.model_copy(update={"dry_run": True, "new_invoices": 0, "numbers": ()})

    report = build_report(request=dry, shards_total=1, results=[shard])

    assert report.dry_run is True
    assert report.invoices == 2
    assert report.new_invoices == 0
    assert report.first_number is None


def test_combine_rates_adds_per_rate_highest_first() -> None:
    combined = combine_rates(
        [rate(7, "1.00", "0.07"), rate(19, "2.00", "0.38"), rate(7, "3.00", "0.21")]
    )

    assert combined == (rate(19, "2.00", "0.38"), rate(7, "4.00", "0.28"))


@pytest.mark.parametrize(
    "values",
    [
        {"run_id": "run-26-11"},
        {"period": "2026-1"},
        {"execution": ""},
        {"shards": 0},
    ],
)
def test_requests_are_validated(values: dict[str, object]) -> None:
    valid = REQUEST.model_dump() | {"shards": 4}

    FinalizeRequest.model_validate(valid)
    with pytest.raises(ValueError, match="validation error"):
        FinalizeRequest.model_validate(valid | values)
