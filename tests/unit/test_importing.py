from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from localaws import bank
from shared.accounts.model import Account, Posting
from shared.money import total
from shared.payments.importing import ImportBusyError, ManualAssignment, PaymentImport
from shared.payments.matching import AssignmentError
from shared.payments.statement import BankTransaction
from shared.payments.statements import read_statement
from tests.unit.ledger_fakes import MemoryLedger
from tests.unit.payment_fakes import (
    OUR_IBAN,
    POLICY,
    MemoryBatches,
    MemoryDecisions,
    MemoryLock,
    MemoryMandates,
    MemoryOwners,
    invoice,
    statement_file,
    transaction,
)

ANNA = "C0000001"
BEN = "C0000002"


class Parts:
    def __init__(self, ledger: MemoryLedger | None = None) -> None:
        self.ledger = ledger or MemoryLedger()
        self.decisions = MemoryDecisions()
        self.mandates = MemoryMandates()
        self.lock = MemoryLock()

    def importer(self, *, chunk: int = 2) -> PaymentImport:
        return PaymentImport(
            ledger=self.ledger,
            decisions=self.decisions,
            owners=MemoryOwners(self.ledger.postings),
            batches=MemoryBatches(),
            mandates=self.mandates,
            lock=self.lock,
            policy=POLICY,
            chunk=chunk,
        )


def _seeded(ledger: MemoryLedger | None = None) -> Parts:
    parts = Parts(ledger)
    parts.ledger.post(
        [
            invoice(ANNA, "RE-2026-00000001", "11.90"),
            invoice(ANNA, "RE-2026-00000002", "20.00"),
            invoice(BEN, "RE-2026-00000003", "30.00"),
        ]
    )
    return parts


def _day() -> list[BankTransaction]:
    return [
        transaction("11.90", transaction_id="TX-00000001", end_to_end_id="C0000001-RE202600000001"),
        transaction("25.00", transaction_id="TX-00000002", remittance="re 2026 2 danke"),
        transaction("30.00", transaction_id="TX-00000003", remittance="Kd C0000002"),
        transaction("9.99", transaction_id="TX-00000004", remittance="Spende"),
        transaction(
            "-11.90",
            transaction_id="TX-00000005",
            reversal=True,
            return_reason="AC04",
            end_to_end_id="C0000001-RE202600000001",
            mandate_id="M-ANNA-1",
        ),
    ]


def _balances(ledger: MemoryLedger) -> dict[str, Decimal]:
    return {c: ledger.account(c).balance for c in (ANNA, BEN)}


def test_an_import_reports_what_it_matched_by_rule_and_what_it_set_aside() -> None:
    parts = _seeded()

    report = parts.importer().run(statement_file(*_day()))

    assert (report.entries, report.matched, report.unmatched, report.duplicates) == (5, 4, 1, 0)
    assert report.by_rule == {
        "end_to_end": 1,
        "invoice_number": 1,
        "customer_amount": 1,
        "debit_return": 1,
    }
    assert (report.received, report.returned, report.return_fees) == (
        Decimal("66.90"),
        Decimal("11.90"),
        Decimal("5.00"),
    )
    assert (report.returns, report.mandates_revoked) == (1, 1)
    assert [(e.transaction_id, e.reason) for e in report.unmatched_entries] == [
        ("TX-00000004", "names no invoice, customer or reference of ours")
    ]
    assert report.unmatched_amount == Decimal("9.99")
    assert parts.mandates.revoked == {(ANNA, "M-ANNA-1"): ("AC04", transaction("1").booking_date)}
    assert [d.transaction.transaction_id for d in parts.decisions.unmatched()] == ["TX-00000004"]


def test_every_amount_reconciles_to_the_cent_after_an_import() -> None:
    parts = _seeded()
    invoiced = total(p.amount for p in parts.ledger.postings.values())

    report = parts.importer().run(statement_file(*_day()))

    for customer_id in (ANNA, BEN):
        account = parts.ledger.account(customer_id)
        open_sum = total(item.open for item in account.open_items())
        assert account.balance == total(p.amount for p in account.postings)
        assert open_sum == account.balance + account.unapplied_credit
    balance = total(_balances(parts.ledger).values())
    assert balance == invoiced - report.received + report.returned + report.return_fees
    anna = parts.ledger.account(ANNA)
    assert anna.item("RE-2026-00000001").status == "returned"  # type: ignore[union-attr]
    assert anna.item("RE-2026-00000002").status == "paid"  # type: ignore[union-attr]
    assert (anna.unapplied_credit, anna.balance) == (Decimal("5.00"), Decimal("11.90"))


def test_importing_the_same_statement_twice_posts_nothing_new() -> None:
    parts = _seeded()
    first = parts.importer().run(statement_file(*_day()))
    postings = dict(parts.ledger.postings)

    again = parts.importer().run(statement_file(*_day()))

    assert first.postings > 0
    assert (again.duplicates, again.matched, again.unmatched, again.postings) == (5, 0, 0, 0)
    assert parts.ledger.postings == postings
    assert len(parts.decisions.unmatched()) == 1


class FailingLedger(MemoryLedger):
    """Writes only the first ``allowed`` postings it is given, then fails like a lost connection."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed

    def post(self, postings: Sequence[Posting]) -> int:
        if self.allowed < 0:
            return super().post(postings)
        room = max(self.allowed, 0)
        written = super().post(list(postings)[:room])
        self.allowed -= written
        if len(postings) > room:
            self.allowed = 0
            raise ConnectionError("connection lost while posting")
        return written


@pytest.mark.parametrize("allowed", range(7))
def test_an_import_that_failed_half_way_is_run_again_without_double_postings(
    allowed: int,
) -> None:
    clean = _seeded()
    clean.importer().run(statement_file(*_day(), _second_payment_for_the_same_invoice()))
    failing = FailingLedger(allowed=allowed + 3)
    parts = _seeded(failing)

    with pytest.raises(ConnectionError):
        parts.importer().run(statement_file(*_day(), _second_payment_for_the_same_invoice()))
    failing.allowed = -1
    parts.importer().run(statement_file(*_day(), _second_payment_for_the_same_invoice()))

    assert parts.ledger.postings == clean.ledger.postings
    assert _balances(parts.ledger) == _balances(clean.ledger)
    assert parts.lock.held_by is None


def _second_payment_for_the_same_invoice() -> BankTransaction:
    """Were the first payment not seen, this one would settle RE-2026-00000003 instead."""
    return transaction("30.00", transaction_id="TX-00000006", remittance="RE-2026-00000003")


def test_a_statement_of_another_account_posts_nothing_and_says_why() -> None:
    parts = _seeded()
    before = dict(parts.ledger.postings)

    report = parts.importer().run(statement_file(*_day(), iban="DE89370400440532013000"))

    assert (report.matched, report.unmatched) == (0, 5)
    assert {e.reason for e in report.unmatched_entries} == {
        "account DE89370400440532013000 is not one of ours"
    }
    assert parts.ledger.postings == before


def test_a_second_import_while_one_runs_is_refused_and_writes_nothing() -> None:
    parts = _seeded()
    parts.lock.held_by = "other-import"
    before = dict(parts.ledger.postings)

    with pytest.raises(ImportBusyError, match="other-import"):
        parts.importer().run(statement_file(*_day()))

    assert parts.ledger.postings == before
    assert parts.decisions.stored == {}


def test_the_lock_is_renewed_per_chunk_and_released() -> None:
    parts = _seeded()

    parts.importer(chunk=2).run(statement_file(*_day()))

    assert (parts.lock.renewals, parts.lock.held_by) == (3, None)


def _assigner(parts: Parts) -> ManualAssignment:
    return ManualAssignment(ledger=parts.ledger, decisions=parts.decisions)


def test_an_unmatched_payment_assigned_by_hand_is_posted_and_leaves_the_list() -> None:
    parts = _seeded()
    parts.importer().run(statement_file(*_day()))

    done = _assigner(parts).assign(
        "TX-00000004", customer_id=ANNA, invoice="RE-2026-00000001", who="clerk"
    )

    assert done.created
    assert [(p.item, p.amount) for p in done.decision.postings] == [
        ("RE-2026-00000001", Decimal("-9.99"))
    ]
    assert parts.decisions.unmatched() == []
    assert parts.decisions.stored["TX-00000004"].decided_by == "manual:clerk"
    item = parts.ledger.account(ANNA).item("RE-2026-00000001")
    assert item is not None
    assert (item.open, item.credited) == (Decimal("1.91"), Decimal("9.99"))


def test_assigning_again_the_same_way_changes_nothing_and_another_way_is_refused() -> None:
    parts = _seeded()
    parts.importer().run(statement_file(*_day()))
    assigner = _assigner(parts)
    assigner.assign("TX-00000004", customer_id=ANNA, invoice=None, who="clerk")
    postings = dict(parts.ledger.postings)

    again = assigner.assign("TX-00000004", customer_id=ANNA, invoice=None, who="clerk")

    assert not again.created
    assert parts.ledger.postings == postings
    with pytest.raises(AssignmentError, match="already assigned to C0000001"):
        assigner.assign("TX-00000004", customer_id=BEN, invoice=None, who="clerk")
    with pytest.raises(AssignmentError, match="matched by the import"):
        assigner.assign("TX-00000002", customer_id=BEN, invoice=None, who="clerk")


def test_an_assignment_to_an_invoice_the_customer_does_not_have_is_refused() -> None:
    parts = _seeded()
    parts.importer().run(statement_file(*_day()))

    with pytest.raises(AssignmentError, match="C0000002 has no invoice RE-2026-00000001"):
        _assigner(parts).assign(
            "TX-00000004", customer_id=BEN, invoice="RE-2026-00000001", who="clerk"
        )

    assert [d.transaction.transaction_id for d in parts.decisions.unmatched()] == ["TX-00000004"]


class CountingLedger(MemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def accounts(self, customer_ids: Collection[str]) -> dict[str, Account]:
        self.read += sorted(customer_ids)
        return super().accounts(customer_ids)


def test_a_customer_paying_in_several_chunks_is_read_once_and_seen_up_to_date() -> None:
    parts = _seeded(CountingLedger())
    payments = [
        transaction("11.90", transaction_id="TX-00000011", remittance="RE-2026-00000001"),
        transaction("11.90", transaction_id="TX-00000012", remittance="RE-2026-00000001"),
    ]

    parts.importer(chunk=1).run(statement_file(*payments))

    assert parts.ledger.read == [ANNA]  # type: ignore[attr-defined]
    second = parts.decisions.stored["TX-00000012"]
    assert [(p.item, p.amount) for p in second.postings] == [(None, Decimal("-11.90"))]


@pytest.mark.parametrize("status", ["PDNG", "INFO"])
def test_entries_that_moved_no_money_are_neither_posted_nor_set_aside(status: str) -> None:
    parts = _seeded()
    pending = transaction(
        "11.90", transaction_id="TX-00000021", remittance="RE-2026-00000001", entry_status=status
    )
    booked = transaction(
        "20.00", transaction_id="TX-00000022", remittance="RE-2026-00000002", entry_status="BOOK"
    )

    report = parts.importer().run(statement_file(pending, booked))

    assert (report.entries, report.not_booked, report.matched, report.unmatched) == (2, 1, 1, 0)
    assert set(parts.decisions.stored) == {"TX-00000022"}
    item = parts.ledger.account(ANNA).item("RE-2026-00000001")
    assert item is not None
    assert item.open == Decimal("11.90")


@pytest.mark.parametrize("write", [bank.camt053, bank.camt054, bank.mt940])
def test_every_statement_format_of_the_simulated_bank_imports_alike(write: Any) -> None:
    day, returned = date(2026, 12, 3), date(2026, 12, 5)
    debit = "C0000001-RE202600000001"
    items = [
        bank.Booking(Decimal("11.90"), day, end_to_end_id=debit, mandate_id="M-ANNA-1"),
        bank.Booking(Decimal("25.00"), day, remittance="Rechnung re-2026-2"),
        bank.Booking(
            Decimal("-11.90"),
            returned,
            end_to_end_id=debit,
            mandate_id="M-ANNA-1",
            reversal=True,
            return_reason="AC04",
        ),
    ]
    parts = _seeded()

    report = parts.importer().run(
        read_statement(write(bank.BankStatement(items, account=bank.Account(iban=OUR_IBAN))))
    )

    assert report.by_rule == {"end_to_end": 1, "invoice_number": 1, "debit_return": 1}
    assert parts.mandates.revoked == {(ANNA, "M-ANNA-1"): ("AC04", returned)}
    anna = parts.ledger.account(ANNA)
    open_sum = total(item.open for item in anna.open_items())
    # RE1 open again and the return fee; RE2 paid with 5.00 over, which is credit.
    assert (open_sum, anna.unapplied_credit, anna.balance) == (
        Decimal("16.90"),
        Decimal("5.00"),
        Decimal("11.90"),
    )
