"""Handover to the collection agency: the export of claims, payments reported later, the report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.unit.dunning_fakes import World, person
from tests.unit.test_dunning_scenarios import DUE, INVOICE, ISSUED, STEP_DAYS

HANDOVER = STEP_DAYS["handover"]


def handed_over(world: World):
    customer = world.add(person(1))
    world.invoice(customer, INVOICE, "119.00", issued=ISSUED, due=DUE)
    world.run_days(DUE, HANDOVER)
    return customer


def test_the_handover_day_exports_the_claim_with_customer_documents_and_amounts() -> None:
    world = World()
    customer = handed_over(world)

    report = world.finalize(HANDOVER)

    (export,) = report.collection_exports
    assert export.key == "collections/beispiel-inkasso/claims/dunning-2026-03-19/x1.jsonl"
    (claim,) = world.files.files[export.key]
    assert (claim["customer_id"], claim["name"], claim["address"]["city"]) == (
        customer.customer_id,
        "Jürgen Müller",
        "Berlin",
    )
    assert (claim["principal"], claim["fees"], claim["interest"], claim["total"]) == (
        "119.00",
        "12.50",
        "1.13",
        "132.63",
    )
    assert claim["documents"][0] == INVOICE
    assert claim["documents"][-1] == "MA-2026-00000006"
    case = world.case(customer)
    assert case is not None
    assert case.handover is not None
    assert (case.handover.status, case.handover.export_key) == ("exported", export.key)


def test_an_exported_claim_is_not_exported_again() -> None:
    world = World()
    handed_over(world)
    world.finalize(HANDOVER)

    world.run(date(2026, 3, 20))
    report = world.finalize(date(2026, 3, 20))

    assert report.collection_exports == ()
    assert report.handovers == 0


def test_payments_after_the_handover_are_reported_until_the_claim_is_settled() -> None:
    world = World()
    customer = handed_over(world)
    world.finalize(HANDOVER)

    world.pay(customer, INVOICE, "50.00", on=date(2026, 3, 25))
    world.run(date(2026, 3, 26))
    partly = world.finalize(date(2026, 3, 26))
    world.run(date(2026, 3, 27))
    nothing_new = world.finalize(date(2026, 3, 27))
    world.pay_all(customer, on=date(2026, 3, 30))
    world.run(date(2026, 3, 31))
    settled = world.finalize(date(2026, 3, 31))

    (first,) = world.files.files[partly.payment_reports[0].key]
    assert (first["newly_paid"], first["open"], first["status"]) == (
        "50.00",
        "82.63",
        "partially_paid",
    )
    assert nothing_new.payment_reports == ()
    (last,) = world.files.files[settled.payment_reports[0].key]
    assert (last["paid_since_handover"], last["newly_paid"], last["status"]) == (
        "132.63",
        "82.63",
        "settled",
    )
    assert world.events.of(customer.customer_id) == ["CustomerSuspended", "CustomerReactivated"]
    assert world.case(customer) is None
    (closed,) = world.store.closed_cases(customer.customer_id)
    assert closed["reason"] == "settled with agency"


def test_the_run_report_counts_levels_fees_interest_and_exclusions() -> None:
    world = World()
    for number in (1, 2, 3):
        customer = world.add(person(number))
        world.invoice(customer, f"RE-2026-0000000{number}", "119.00", issued=ISSUED, due=DUE)
    world.add(person(4, kind="business"))
    world.invoice(person(4), "RE-2026-00000004", "1190.00", issued=ISSUED, due=DUE)
    world.invoice(person(5), "RE-2026-00000005", "3.00", issued=ISSUED, due=DUE)
    world.run_days(DUE, STEP_DAYS["first_notice"] - date.resolution)

    world.run(STEP_DAYS["first_notice"])
    report = world.finalize(STEP_DAYS["first_notice"])

    assert report.status == "succeeded"
    assert (report.shards_done, report.checked) == (2, 5)
    assert report.reached == {
        "reminder": 0,
        "first_notice": 4,
        "second_notice": 0,
        "final_notice": 0,
        "suspension": 0,
        "handover": 0,
    }
    assert (report.fees, report.flat_fees) == (Decimal("7.50"), Decimal("40.00"))
    # three consumers at 0.22 and the business at 3.68
    assert report.interest == Decimal("4.34")
    assert report.excluded == {"below_threshold": 1}
    assert (report.notices, report.first_notice, report.last_notice) == (
        4,
        "MA-2026-00000005",
        "MA-2026-00000008",
    )
    assert report.emails_announced == 4
