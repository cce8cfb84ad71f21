"""Dunning over calendar time, day by day, on the memory ledger: every figure is worked out by
hand in the test (interest: principal x (base rate + points) / 100 x days / 365)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.accounts.model import Posting
from shared.dunning.levels import shipped_levels
from shared.dunning.model import Hold
from shared.invoicing.model import document_key
from tests.unit.dunning_fakes import World, person

INVOICE = "RE-2026-00000001"
ISSUED = date(2026, 1, 1)
DUE = date(2026, 1, 15)
STEP_DAYS = {
    "reminder": date(2026, 1, 22),  # due + 7
    "first_notice": date(2026, 2, 2),  # deadline 1 Feb + 1
    "second_notice": date(2026, 2, 13),  # deadline 12 Feb + 1
    "final_notice": date(2026, 2, 24),  # deadline 23 Feb + 1
    "suspension": date(2026, 3, 4),  # deadline 3 Mar (7 days) + 1
    "handover": date(2026, 3, 19),  # deadline 18 Mar (14 days) + 1
}


def unpaid(world: World, number: int = 1, amount: str = "119.00", **kind: str):
    customer = world.add(person(number, **kind))  # type: ignore[arg-type]
    world.invoice(
        customer,
        INVOICE if number == 1 else f"RE-2026-{number:08d}",
        amount,
        issued=ISSUED,
        due=DUE,
    )
    return customer


def test_an_invoice_left_unpaid_goes_through_every_level_to_the_agency() -> None:
    world = World()
    customer = unpaid(world)

    world.run_days(DUE, date(2026, 3, 31))

    case = world.case(customer)
    assert case is not None
    assert {step.key: step.on for step in case.steps} == STEP_DAYS
    # 119.00 at 1.27 % + 5 = 6.27 %: 11 days 0.2249 -> 0.22, 8 days 0.1635 -> 0.16,
    # 15 days 0.3066 -> 0.31; no interest on fees or interest (§ 289 BGB).
    assert [(s.fee, s.interest) for s in case.steps] == [
        (Decimal("0.00"), Decimal("0.00")),
        (Decimal("2.50"), Decimal("0.22")),
        (Decimal("5.00"), Decimal("0.22")),
        (Decimal("5.00"), Decimal("0.22")),
        (Decimal("0.00"), Decimal("0.16")),
        (Decimal("0.00"), Decimal("0.31")),
    ]
    assert case.handover is not None
    assert case.handover.claim_total == Decimal("132.63")
    assert world.ledger.account(customer.customer_id).balance == Decimal("132.63")
    assert [e.detail_type for e in world.events.sent] == ["CustomerSuspended"]
    assert world.events.sent[0].occurred_on == STEP_DAYS["suspension"]
    numbers = [n.number for n in world.notices.of(customer.customer_id)]
    assert numbers == [f"MA-2026-{n:08d}" for n in range(1, 7)]


def test_every_notice_is_archived_once_under_six_years_retention_and_announced() -> None:
    world = World()
    customer = unpaid(world)

    world.run_days(DUE, date(2026, 3, 31))

    notices = world.notices.of(customer.customer_id)
    keys = [document_key(customer.customer_id, n.number) for n in notices]
    assert world.archive.puts == 6
    assert all(world.archive.objects[key].startswith(b"%PDF-1.7") for key in keys)
    assert {world.archive.retention[key] for key in keys} == {datetime(2033, 1, 1, tzinfo=UTC)}
    assert [r.number for r in world.queue.announced] == [n.number for n in notices]
    assert {(r.document, r.attach_pdf, r.channel) for r in world.queue.announced} == {
        ("dunning", True, "email")
    }


def test_fees_and_interest_are_posted_once_as_items_of_their_own_without_vat() -> None:
    world = World()
    customer = unpaid(world)

    world.run_days(DUE, STEP_DAYS["first_notice"])
    world.run(STEP_DAYS["first_notice"], execution="again")

    account = world.ledger.account(customer.customer_id)
    charges = [p for p in account.postings if p.source.startswith("dunning:")]
    assert [(p.kind, p.item, p.amount, p.document_number) for p in charges] == [
        ("dunning_fee", "MF2026020202", Decimal("2.50"), "MA-2026-00000002"),
        ("interest", "MZ2026020202", Decimal("0.22"), "MA-2026-00000002"),
    ]
    assert {p.due_on for p in charges} == {date(2026, 2, 12)}
    notice = world.notices.issued["MA-2026-00000002"]
    assert notice.total == Decimal("121.72")
    text = world.pdf_text(notice)
    assert "Mahngebühr 2,50 €" in text
    assert "nicht der Umsatzsteuer" in text


def test_a_payment_in_full_between_levels_stops_dunning() -> None:
    world = World()
    customer = unpaid(world)
    world.run_days(DUE, STEP_DAYS["first_notice"])

    world.pay_all(customer, on=date(2026, 2, 5))
    world.run_days(date(2026, 2, 3), date(2026, 4, 30))

    assert world.case(customer) is None
    (closed,) = world.store.closed_cases(customer.customer_id)
    assert (closed["level"], closed["reason"]) == (2, "paid in full")
    assert len(world.notices.of(customer.customer_id)) == 2
    assert world.events.sent == []


def test_a_suspended_customer_who_pays_in_full_is_reactivated_at_once_by_the_import_hook() -> None:
    world = World()
    customer = unpaid(world)
    world.run_days(DUE, STEP_DAYS["suspension"])
    paid_on = date(2026, 3, 6)

    world.pay(customer, INVOICE, "50.00", on=paid_on)
    partly = world.service.settle(customer.customer_id, on=paid_on)
    world.pay_all(customer, on=paid_on)
    settled = world.service.settle(customer.customer_id, on=paid_on)
    world.run_days(date(2026, 3, 7), date(2026, 4, 30))

    assert (partly, settled) == ("open", "reactivated")
    assert world.events.of(customer.customer_id) == ["CustomerSuspended", "CustomerReactivated"]
    reactivated = world.events.sent[1]
    assert (reactivated.occurred_on, reactivated.event_id) == (
        paid_on,
        f"{customer.customer_id}-20260122:reactivated",
    )
    assert world.case(customer) is None
    assert len(world.notices.of(customer.customer_id)) == 5


def test_a_partial_payment_keeps_dunning_going_on_the_rest_and_splits_the_interest() -> None:
    world = World()
    customer = unpaid(world)
    world.run_days(DUE, STEP_DAYS["reminder"])

    world.pay(customer, INVOICE, "50.00", on=date(2026, 1, 28))
    world.run_days(date(2026, 1, 23), STEP_DAYS["first_notice"])

    notice = world.notices.issued["MA-2026-00000002"]
    (line,) = notice.lines
    assert (line.amount, line.credited, line.open) == (
        Decimal("119.00"),
        Decimal("50.00"),
        Decimal("69.00"),
    )
    # 23-27 Jan: 119.00 x 6.27 % x 5/365 = 0.1022; 28 Jan-2 Feb: 69.00 x 6.27 % x 6/365 = 0.0711
    assert [(d.start, d.end, d.principal, d.days) for d in notice.interest] == [
        (date(2026, 1, 23), date(2026, 1, 27), Decimal("119.00"), 5),
        (date(2026, 1, 28), date(2026, 2, 2), Decimal("69.00"), 6),
    ]
    assert notice.charged == Decimal("2.50") + Decimal("0.17")
    assert notice.total == Decimal("71.67")


def test_a_returned_debit_reopens_the_item_and_the_notice_names_the_bank_s_reason() -> None:
    world = World()
    customer = world.add(person(1))
    world.invoice(customer, INVOICE, "49.00", issued=ISSUED, due=DUE)
    world.pay(customer, INVOICE, "49.00", on=DUE)
    world.ledger.post(
        [
            Posting(
                posting_id="debits:F1:C0000001-RE202600000001:return",
                customer_id=customer.customer_id,
                booked_on=date(2026, 1, 20),
                kind="debit_return",
                amount=Decimal("49.00"),
                item=INVOICE,
                source="statement:return-1",
                reason="AC04",
            )
        ]
    )

    world.run_days(DUE, STEP_DAYS["reminder"])

    (notice,) = world.notices.of(customer.customer_id)
    assert notice.lines[0].return_reason == "AC04"
    text = " ".join(world.pdf_text(notice).split())
    assert "Lastschrift zurückgegeben: AC04" in text
    assert "Ihre Bank hat unsere Lastschrift zurückgegeben (Grund AC04: Konto erloschen)" in text


def test_a_disputed_item_is_left_out_and_a_claim_of_disputed_items_alone_is_excluded() -> None:
    world = World()
    both = unpaid(world, 1)
    world.invoice(both, "RE-2026-00000009", "30.00", issued=ISSUED, due=DUE)
    only = unpaid(world, 2)
    for customer, item in ((both, INVOICE), (only, "RE-2026-00000002")):
        world.store.put_hold(
            Hold(
                customer_id=customer.customer_id,
                kind="dispute",
                item=item,
                reason="customer says the service was down",
                set_on=date(2026, 1, 10),
            )
        )

    world.run_days(DUE, date(2026, 1, 21))
    results = world.run(STEP_DAYS["reminder"])

    (notice,) = world.notices.of(both.customer_id)
    assert [line.document_number for line in notice.lines] == ["RE-2026-00000009"]
    assert world.case(only) is None
    assert sum(r.excluded.get("dispute", 0) for r in results) == 1


@pytest.mark.parametrize(
    ("hold", "reason"),
    [
        (dict(kind="block", reason="goodwill, asked by support"), "block"),
        (
            dict(kind="plan", reason="three instalments agreed", until=date(2026, 6, 30)),
            "instalment_plan",
        ),
    ],
)
def test_a_block_or_an_instalment_plan_stops_dunning_while_it_lasts(hold, reason) -> None:
    world = World()
    customer = unpaid(world)
    world.store.put_hold(Hold(customer_id=customer.customer_id, set_on=date(2026, 1, 1), **hold))

    results = world.run(STEP_DAYS["reminder"])
    world.store.remove_hold(customer.customer_id, hold["kind"], None)
    world.run(STEP_DAYS["reminder"] + timedelta(days=1))

    assert sum(r.excluded.get(reason, 0) for r in results) == 1
    case = world.case(customer)
    assert case is not None
    assert [step.on for step in case.steps] == [date(2026, 1, 23)]


def test_a_claim_below_the_minimum_is_not_dunned() -> None:
    world = World()
    small = unpaid(world, 1, amount="4.99")

    results = world.run(STEP_DAYS["reminder"])

    assert world.case(small) is None
    assert sum(r.excluded.get("below_threshold", 0) for r in results) == 1


def test_two_runs_on_one_day_change_nothing_the_second_time() -> None:
    world = World()
    customer = unpaid(world)
    world.run_days(DUE, STEP_DAYS["first_notice"])
    postings = dict(world.ledger.postings)
    puts = world.archive.puts
    case = world.case(customer)

    again = world.run(STEP_DAYS["first_notice"], execution="second")

    assert world.ledger.postings == postings
    assert world.archive.puts == puts
    assert world.case(customer) == case
    assert len(world.notices.issued) == 2
    assert [r.notices for r in again if r.notices] == [("MA-2026-00000002",)]
    assert sum(r.fees for r in again) == Decimal("2.50")


def test_a_run_that_dies_after_deciding_a_step_completes_it_once_on_the_retry() -> None:
    calls = {"n": 0}

    def dies_first(notice):
        from shared.dunning.pdf import render_notice

        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("lambda timed out")
        return render_notice(notice)

    world = World(render=dies_first)
    customer = unpaid(world)
    with pytest.raises(RuntimeError):
        world.run(STEP_DAYS["reminder"])
    pending = world.case(customer)

    world.run(STEP_DAYS["reminder"])

    assert pending is not None
    assert pending.pending is not None
    case = world.case(customer)
    assert case is not None
    assert case.pending is None
    assert [n.number for n in world.notices.of(customer.customer_id)] == ["MA-2026-00000001"]
    assert world.archive.puts == 1


def test_a_number_whose_step_lost_a_race_is_voided_and_the_next_day_steps() -> None:
    world = World()
    customer = unpaid(world)
    world.store.conflict_next_save = True

    (first, second) = world.run(STEP_DAYS["reminder"])
    world.run(STEP_DAYS["reminder"] + timedelta(days=1))

    failed = [f for r in (first, second) for f in r.failed]
    assert [f.customer_id for f in failed] == [customer.customer_id]
    assert world.notices.voids == {"MA-2026-00000001": world.notices.voids["MA-2026-00000001"]}
    assert [n.number for n in world.notices.of(customer.customer_id)] == ["MA-2026-00000002"]


def test_a_business_pays_the_flat_40_eur_once_with_fees_set_off_and_nine_points() -> None:
    world = World()
    customer = unpaid(world, 1, amount="1190.00", kind="business")

    world.run_days(DUE, STEP_DAYS["second_notice"])

    case = world.case(customer)
    assert case is not None
    # 1190.00 x (1.27 + 9) % x 11/365 = 3.6831 -> 3.68 at each notice.
    assert [(s.fee, s.flat_fee, s.interest) for s in case.steps] == [
        (Decimal("0.00"), Decimal("0.00"), Decimal("0.00")),
        (Decimal("0.00"), Decimal("40.00"), Decimal("3.68")),
        (Decimal("0.00"), Decimal("0.00"), Decimal("3.68")),
    ]
    notice = world.notices.issued["MA-2026-00000002"]
    assert notice.total == Decimal("1233.68")
    assert "§ 288 Abs. 5 BGB" in " ".join(world.pdf_text(notice).split())


def test_interest_across_a_change_of_the_base_rate_is_split_at_the_first_of_july() -> None:
    world = World()
    customer = world.add(person(1))
    world.invoice(customer, INVOICE, "500.00", issued=date(2025, 5, 27), due=date(2025, 6, 10))

    world.run_days(date(2025, 6, 10), date(2025, 7, 9))

    case = world.case(customer)
    assert case is not None
    assert [step.on for step in case.steps] == [
        date(2025, 6, 17),
        date(2025, 6, 28),
        date(2025, 7, 9),
    ]
    # 29-30 Jun: 500.00 x 7.27 % x 2/365 = 0.199178; 1-9 Jul: 500.00 x 6.27 % x 9/365 = 0.773014
    notice = world.notices.issued["MA-2025-00000003"]
    assert [(d.start, d.end, d.base_percent, d.days) for d in notice.interest] == [
        (date(2025, 6, 29), date(2025, 6, 30), Decimal("2.27"), 2),
        (date(2025, 7, 1), date(2025, 7, 9), Decimal("1.27"), 9),
    ]
    assert [d.amount for d in notice.interest] == [Decimal("0.1992"), Decimal("0.7730")]
    assert case.steps[1].interest == Decimal("1.10")  # 500 x 7.27 % x 11/365 = 1.0955
    assert case.steps[2].interest == Decimal("0.97")


def test_interest_for_days_the_table_does_not_know_is_deferred_not_lost() -> None:
    world = World()
    customer = world.add(person(1))
    world.invoice(customer, INVOICE, "100.00", issued=date(2026, 6, 1), due=date(2026, 6, 15))

    world.run_days(date(2026, 6, 15), date(2026, 7, 10))

    case = world.case(customer)
    assert case is not None
    second = case.steps[1]
    assert (second.on, second.interest, second.interest_deferred) == (
        date(2026, 7, 3),
        Decimal("0.00"),
        True,
    )
    assert case.interest_through is None


def test_a_customer_abroad_gets_the_notice_in_english() -> None:
    world = World()
    customer = unpaid(world, 1, country="FR")

    world.run(STEP_DAYS["reminder"])

    (notice,) = world.notices.of(customer.customer_id)
    text = " ".join(world.pdf_text(notice).split())
    assert notice.title == "Payment reminder"
    assert "Please pay the open amount of EUR 119.00 by 1 February 2026." in text
    assert "This reminder is free of charge." in text


def test_post_customers_notices_go_to_the_print_batch_not_the_mail_queue() -> None:
    world = World()
    customer = unpaid(world, 1, delivery="post")

    results = world.run(STEP_DAYS["reminder"])

    assert world.queue.announced == []
    posted = [d for r in results for d in r.post]
    assert [(d.customer_id, d.number) for d in posted] == [
        (customer.customer_id, "MA-2026-00000001")
    ]


def test_a_level_with_a_minimum_waits_while_the_claim_is_below_it() -> None:
    levels = shipped_levels()
    suspension = levels.levels[4].model_copy(update={"minimum_open": Decimal("150.00")})
    world = World(
        levels=levels.model_copy(
            update={"levels": (*levels.levels[:4], suspension, levels.levels[5])}
        )
    )
    customer = unpaid(world)

    world.run_days(DUE, STEP_DAYS["final_notice"] + timedelta(days=30))
    results = world.run(STEP_DAYS["final_notice"] + timedelta(days=31))

    case = world.case(customer)
    assert case is not None
    assert case.level_key == "final_notice"
    assert world.events.sent == []
    assert sum(r.excluded.get("below_threshold", 0) for r in results) == 1


def test_an_invoice_cancelled_after_it_was_paid_covers_a_later_claim_and_nothing_is_dunned() -> (
    None
):
    world = World()
    customer = unpaid(world, amount="8.00")
    world.invoice(customer, "RE-2025-00000900", "30.00", issued=date(2025, 12, 1), due=DUE)
    refund_due = [
        Posting(
            posting_id=posting_id,
            customer_id=customer.customer_id,
            booked_on=date(2026, 1, 5),
            kind=kind,
            amount=Decimal(amount),
            item="RE-2025-00000900",
            source=f"test:{posting_id}",
        )
        for posting_id, kind, amount in (
            ("pay:RE-2025-00000900", "payment", "-30.00"),
            ("cancel:ST-2026-00000001", "cancellation", "-30.00"),
        )
    ]
    world.ledger.post(refund_due)

    world.run_days(STEP_DAYS["reminder"], STEP_DAYS["first_notice"])

    assert world.ledger.account(customer.customer_id).credit == Decimal("30.00")
    assert world.notices.issued == {}
