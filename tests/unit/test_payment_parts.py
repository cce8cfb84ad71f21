"""A statement imported in parts by customer decides and posts what one import would."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.payments import bench_policy, camt_file, memory_use_case, plan_statement
from shared.payments.importing import ImportBusyError, ImportReport, PaymentImport
from shared.payments.matching import accounts_touched, decide, named_by
from shared.payments.parts import (
    ENTRIES_PER_PART,
    MOST_PARTS,
    PartedImport,
    merged_reports,
    part_of,
    parts_for,
    split,
)
from shared.payments.references import compact, creditor_reference
from shared.payments.statement import BankTransaction, StatementFile
from shared.payments.statements import read_statement
from tests.unit.payment_fakes import POLICY as POLICY_FAKE
from tests.unit.payment_fakes import books_of, import_in_parts, invoice, transaction

ENTRIES = 3_000
COMPARED = ("entries", "matched", "by_rule", "received", "returns", "returned", "unmatched")
POLICY = bench_policy()


@pytest.fixture(scope="module")
def planned() -> tuple[object, StatementFile, bytes]:
    plan = plan_statement(ENTRIES, random.Random(7))
    data = camt_file(plan)
    return plan, read_statement(data), data


def _decisions(use_case: PaymentImport) -> dict[str, tuple[str | None, frozenset[object]]]:
    stored = use_case.decisions.decided(list(use_case.decisions.stored))  # type: ignore[attr-defined]
    return {
        transaction_id: (decision.rule, frozenset(decision.postings))
        for transaction_id, decision in stored.items()
    }


def test_parts_decide_and_post_what_one_import_does(
    planned: tuple[object, StatementFile, bytes],
) -> None:
    plan, statement, data = planned
    whole = memory_use_case(plan)  # type: ignore[arg-type]
    in_parts = memory_use_case(plan)  # type: ignore[arg-type]

    one = whole.run(statement)
    parted = import_in_parts(in_parts, data, entries_per_part=ENTRIES // 7)

    assert parted.parts == 7
    assert [getattr(parted, name) for name in COMPARED] == [getattr(one, n) for n in COMPARED]
    assert parted.postings == one.postings > ENTRIES * 0.8
    assert _decisions(in_parts) == _decisions(whole)
    assert in_parts.ledger.postings == whole.ledger.postings  # type: ignore[attr-defined]
    assert {e.transaction_id for e in parted.unmatched_entries} == {
        e.transaction_id for e in one.unmatched_entries
    }


def test_every_transaction_lands_in_exactly_one_part_or_the_rest(
    planned: tuple[object, StatementFile, bytes],
) -> None:
    plan, statement, _data = planned
    use_case = memory_use_case(plan)  # type: ignore[arg-type]

    planned_split = PartedImport(use_case, entries_per_part=ENTRIES // 5).plan(statement)

    ids = [
        t.transaction_id
        for source in (*planned_split.parts, planned_split.rest)
        for s in source.statements
        for t in s.transactions
    ]
    every = [t.transaction_id for s in statement.statements for t in s.transactions]
    assert sorted(ids) == sorted(every)
    assert all(entries > 0 for entries in planned_split.entries)
    # The collections booked as one sum settle several customers: the rest takes them.
    rest = [t for s in planned_split.rest.statements for t in s.transactions]
    assert rest
    assert all(t.payment_info_id for t in rest)


def test_a_customers_transactions_keep_their_order_in_one_part() -> None:
    owners = {"RE-2026-00000001": "C0000001", "RE-2026-00000002": "C0000001"}
    first = _transaction("A" * 8, "RE-2026-00000001")
    second = _transaction("B" * 8, "Kundennr C0000001 RE-2026-00000002")
    source = _file(first, second)

    named = {t.transaction_id: named_by(t, POLICY) for t in (first, second)}
    parts = split(source, named, owners, 16)

    holding = [p for p in parts.parts if p.statements]
    assert len(holding) == 1
    assert [t.transaction_id for t in holding[0].statements[0].transactions] == ["A" * 8, "B" * 8]


def test_a_transaction_that_may_touch_two_accounts_goes_to_the_rest() -> None:
    owners = {"RE-2026-00000001": "C0000001", "RE-2026-00000002": "C0000002"}
    referenced = _transaction("C" * 8, "Kunde C0000002").model_copy(
        update={"creditor_reference": "RE-2026-00000001"}
    )
    batch = _transaction("D" * 8, "Lastschriften").model_copy(update={"payment_info_id": "PMT-1"})

    assert _part(referenced, owners, 8) is None
    assert _part(batch, owners, 8) is None


def test_the_payer_a_text_names_decides_the_part() -> None:
    owners = {"RE-2026-00000001": "C0000001", "RE-2026-00000002": "C0000002"}
    named = _transaction("E" * 8, "Kunde C0000003 RE-2026-00000001")
    both = _transaction("F" * 8, "RE-2026-00000001 RE-2026-00000002")

    # A customer number names the payer: the invoice is looked for among their items only.
    assert _part(named, owners, 8) == _part(_transaction("G" * 8, "C0000003"), owners, 8)
    # Invoices of two customers name no payer: it stays unmatched and touches no account.
    assert accounts_touched(named_by(both, POLICY), owners) == frozenset()


def test_no_decision_touches_an_account_its_routing_did_not_name(
    planned: tuple[object, StatementFile, bytes],
) -> None:
    plan, statement, _data = planned
    use_case = memory_use_case(plan)  # type: ignore[arg-type]
    use_case.run(statement)
    owners = use_case.owners._owners  # type: ignore[attr-defined]

    decisions = use_case.decisions.stored.values()  # type: ignore[attr-defined]
    for decision in decisions:
        touched = accounts_touched(named_by(decision.transaction, POLICY), owners)
        posted = {posting.customer_id for posting in decision.postings}
        assert touched is None or posted <= touched, decision.transaction.remittance
    assert sum(1 for d in decisions if d.postings) > ENTRIES * 0.8


def test_a_part_run_again_after_a_crash_posts_only_what_is_missing(
    planned: tuple[object, StatementFile, bytes],
) -> None:
    plan, statement, data = planned
    use_case = memory_use_case(plan)  # type: ignore[arg-type]
    reference = memory_use_case(plan)  # type: ignore[arg-type]
    reference.run(statement)
    first_part = PartedImport(use_case, entries_per_part=ENTRIES // 4).plan(statement).parts[0]
    use_case.run(first_part)  # the worker of part 0 finished; the execution then failed

    again = import_in_parts(use_case, data, entries_per_part=ENTRIES // 4)

    assert use_case.ledger.postings == reference.ledger.postings  # type: ignore[attr-defined]
    assert again.duplicates == sum(len(s.transactions) for s in first_part.statements)
    assert import_in_parts(use_case, data, entries_per_part=ENTRIES // 4).postings == 0


def test_no_part_runs_while_another_import_holds_the_lock(
    planned: tuple[object, StatementFile, bytes],
) -> None:
    plan, statement, data = planned
    use_case = memory_use_case(plan)  # type: ignore[arg-type]
    use_case.lock.held_by = "another-import"  # type: ignore[attr-defined]

    with pytest.raises(ImportBusyError, match="another-import"):
        import_in_parts(use_case, data, entries_per_part=ENTRIES // 3)
    with pytest.raises(ImportBusyError):
        use_case.run(statement, lease="my-lease")
    assert not use_case.decisions.stored  # type: ignore[attr-defined]


def test_merged_reports_add_up() -> None:
    one = ImportReport(digest="0" * 64, format="camt.053", entries=3, matched=2, by_rule={"a": 2})
    two = ImportReport(
        digest="0" * 64,
        format="camt.053",
        entries=4,
        matched=1,
        by_rule={"a": 1},
        received=Decimal("1.50"),
    )

    whole = merged_reports([one, two], digest="0" * 64, format="camt.053", statements=1)

    assert (whole.entries, whole.matched, whole.by_rule) == (7, 3, {"a": 3})
    assert whole.received == Decimal("1.50")
    assert whole.statements == 1


@pytest.mark.parametrize(
    ("entries", "parts"),
    [(0, 1), (1, 1), (ENTRIES_PER_PART, 1), (ENTRIES_PER_PART + 1, 2), (10**7, MOST_PARTS)],
)
def test_parts_for_a_file(entries: int, parts: int) -> None:
    assert parts_for(entries) == parts


def _part(transaction: BankTransaction, owners: dict[str, str], parts: int) -> int | None:
    return part_of(transaction.transaction_id, named_by(transaction, POLICY), owners, parts)


def _transaction(transaction_id: str, remittance: str) -> BankTransaction:
    return BankTransaction(
        transaction_id=transaction_id,
        amount=Decimal("10.00"),
        currency="EUR",
        booking_date=date(2026, 12, 10),
        remittance=remittance,
    )


def _file(*transactions: BankTransaction) -> StatementFile:
    from shared.payments.statement import Statement

    statement = Statement(format="camt.053", statement_id="S1", transactions=transactions)
    return StatementFile(digest="0" * 64, format="camt.053", statements=(statement,))


_CUSTOMERS = ("C0000001", "C0000002", "C0000003")
_INVOICES = {f"RE-2026-{index:08d}": _CUSTOMERS[(index - 1) % 3] for index in range(1, 7)}
_NOTICES = {f"MA-2026-{index:08d}": _CUSTOMERS[index - 1] for index in range(1, 4)}
_TOKENS = (*_CUSTOMERS, *_INVOICES, *_NOTICES, "Danke", "Miete")


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(_TOKENS), max_size=4),
    structured=st.none() | st.sampled_from(sorted(_INVOICES)),
    own=st.none() | st.sampled_from(sorted(_INVOICES)),
    amount=st.sampled_from(("11.90", "23.80", "35.70", "5.00", "-11.90")),
)
def test_a_decision_posts_only_to_accounts_its_routing_names(
    words: list[str], structured: str | None, own: str | None, amount: str
) -> None:
    policy = replace(POLICY_FAKE, notice_prefixes=("MA",))
    books = books_of(*(invoice(c, number, "11.90") for number, c in _INVOICES.items()))
    books.owners |= _NOTICES
    payment = transaction(
        amount,
        remittance=" ".join(words),
        creditor_reference=creditor_reference(structured) if structured else None,
        end_to_end_id=f"{_INVOICES[own]}-{compact(own)}" if own else None,
        return_reason="AC04" if amount.startswith("-") else None,
    )

    decision = decide(payment, books, policy)
    touched = accounts_touched(named_by(payment, policy), books.owners)

    assert touched is not None
    assert {posting.customer_id for posting in decision.postings} <= touched
