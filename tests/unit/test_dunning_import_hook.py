"""The statement import tells dunning of every customer it booked money to: a claim paid in
full ends dunning and reactivates a suspended customer at once."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from shared.accounts.model import Account, Posting
from shared.dunning.model import Case
from shared.payments.importing import PaymentImport
from tests.unit.dunning_fakes import World
from tests.unit.payment_fakes import (
    POLICY,
    MemoryBatches,
    MemoryDecisions,
    MemoryLock,
    MemoryMandates,
    MemoryOwners,
    statement_file,
    transaction,
)
from tests.unit.test_dunning_scenarios import STEP_DAYS, unpaid

PAID_ON = date(2026, 3, 6)


class Recorded:
    def __init__(self, *, fails: bool = False) -> None:
        self.told: list[tuple[str, date]] = []
        self.fails = fails

    def settle_all(self, customer_ids: Collection[str], *, on: date) -> dict[str, str]:
        self.told += [(customer_id, on) for customer_id in sorted(customer_ids)]
        if self.fails:
            raise RuntimeError("dunning table throttled")
        return dict.fromkeys(customer_ids, "open")


def importer(world: World, settlement: object) -> PaymentImport:
    return PaymentImport(
        ledger=world.ledger,
        decisions=MemoryDecisions(),
        owners=MemoryOwners(world.ledger.postings),
        batches=MemoryBatches(),
        mandates=MemoryMandates(),
        lock=MemoryLock(),
        policy=POLICY,
        now=lambda: datetime(2026, 3, 6, 9, tzinfo=UTC),
        settlement=settlement,  # type: ignore[arg-type]
    )


def credit_of_150(transaction_id: str) -> Posting:
    """A payment of 150.00 booked to no item, as the import books money that names none."""
    return Posting(
        posting_id=f"statement:{transaction_id}:credit",
        customer_id="C0000001",
        booked_on=PAID_ON,
        kind="payment",
        amount=Decimal("-150.00"),
        item=None,
        source=f"statement:{transaction_id}",
    )


def suspended() -> World:
    world = World()
    unpaid(world)
    world.run_days(STEP_DAYS["reminder"], STEP_DAYS["suspension"])
    return world


def test_paying_the_whole_claim_by_transfer_reactivates_at_once() -> None:
    world = suspended()
    owed = world.ledger.account("C0000001").balance
    paid = transaction(str(owed), transaction_id="TX-PAID0001", remittance="Kd C0000001 danke")

    report = importer(world, world.service).run(statement_file(paid))

    assert owed == Decimal("132.32")
    assert report.by_rule == {"customer_amount": 1}
    assert world.events.of("C0000001") == ["CustomerSuspended", "CustomerReactivated"]
    assert world.events.sent[-1].occurred_on == PAID_ON
    assert world.store.case(world.directory.records["C0000001"].customer_id) is None


def test_money_booked_to_no_item_that_covers_the_claim_settles_it_too() -> None:
    world = suspended()
    world.ledger.post([credit_of_150("TX-PAID0002")])

    outcome = world.service.settle("C0000001", on=PAID_ON)

    assert world.ledger.account("C0000001").open_items() != ()
    assert outcome == "reactivated"
    assert world.events.of("C0000001") == ["CustomerSuspended", "CustomerReactivated"]
    assert world.store.case(world.directory.records["C0000001"].customer_id) is None


def test_credit_booked_to_no_item_is_set_against_the_next_notice() -> None:
    world = World()
    customer = unpaid(world)
    world.run(STEP_DAYS["reminder"])
    world.ledger.post(
        [
            Posting(
                posting_id="statement:TX-PART0002:credit",
                customer_id=customer.customer_id,
                booked_on=date(2026, 1, 28),
                kind="payment",
                amount=Decimal("-100.00"),
                item=None,
                source="statement:TX-PART0002",
            )
        ]
    )

    world.run(STEP_DAYS["first_notice"])

    notice = world.notices.issued["MA-2026-00000002"]
    assert (notice.open_total, notice.charged, notice.credit) == (
        Decimal("119.00"),
        Decimal("2.72"),
        Decimal("100.00"),
    )
    assert notice.total == Decimal("21.72")
    assert "Guthaben auf Ihrem Kundenkonto -100,00 €" in " ".join(world.pdf_text(notice).split())


def test_only_customers_credited_are_told_and_a_failing_hook_fails_no_import() -> None:
    world = suspended()
    hook = Recorded(fails=True)
    paid = transaction("10.00", transaction_id="TX-PART0001", remittance="RE-2026-00000001")
    unknown = transaction("9.99", transaction_id="TX-NONE0001", remittance="Spende")

    report = importer(world, hook).run(statement_file(paid, unknown))

    assert report.matched == 1
    assert hook.told == [("C0000001", PAID_ON)]
    assert world.events.of("C0000001") == ["CustomerSuspended"]


def test_settling_many_reads_the_cases_at_once_and_one_failure_spares_the_others() -> None:
    world = suspended()
    world.ledger.post([credit_of_150("TX-PAID0003")])
    reads, account = world.store.cases_of, world.ledger.account
    asked: list[set[str]] = []

    def cases_of(customer_ids: Collection[str]) -> dict[str, Case]:
        asked.append(set(customer_ids))
        found = reads(customer_ids)
        other = found["C0000001"].model_copy(update={"customer_id": "C0000000"})
        return found | {"C0000000": other}

    def account_or_throttled(customer_id: str) -> Account:
        if customer_id == "C0000000":
            raise RuntimeError("ledger throttled")
        return account(customer_id)

    world.store.cases_of = cases_of  # type: ignore[method-assign]
    world.ledger.account = account_or_throttled  # type: ignore[method-assign]

    outcomes = world.service.settle_all({"C0000001", "C0000002", "C0000000"}, on=PAID_ON)

    assert asked == [{"C0000001", "C0000002", "C0000000"}]
    assert outcomes == {"C0000001": "reactivated", "C0000002": "no_case", "C0000000": "failed"}
    assert world.events.of("C0000001") == ["CustomerSuspended", "CustomerReactivated"]


class NoticeOwners(MemoryOwners):
    """Invoice owners from the ledger, notice owners from the notices the world issued."""

    def __init__(self, world: World) -> None:
        super().__init__(world.ledger.postings)
        self._notices = world.notices

    def owners(self, numbers: Collection[str]) -> dict[str, str]:
        issued = self._notices.issued
        found = {n: issued[n].customer_id for n in numbers if n in issued}
        return super().owners(numbers) | found


def test_paying_the_amount_of_a_notice_by_quoting_its_number_ends_dunning() -> None:
    world = World()
    customer = unpaid(world)
    world.run_days(STEP_DAYS["reminder"], STEP_DAYS["first_notice"])
    notice = world.notices.issued["MA-2026-00000002"]
    paid = transaction(
        str(notice.total), transaction_id="TX-NOTICE01", remittance="Ihre Mahnung MA 2026 2"
    )
    use_case = replace(importer(world, world.service), owners=NoticeOwners(world))
    use_case = replace(use_case, policy=replace(POLICY, notice_prefixes=("MA",)))

    report = use_case.run(statement_file(paid))
    world.run(STEP_DAYS["second_notice"])

    assert report.by_rule == {"dunning_notice": 1}
    assert world.ledger.account(customer.customer_id).open_items() == ()
    assert world.store.case(customer.customer_id) is None
    assert "MA-2026-00000003" not in world.notices.issued
