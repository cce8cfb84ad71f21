from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.accounts.model import Posting, PostingKind
from shared.money import total
from shared.payments.collections import Collection, CollectionBatch
from shared.payments.matching import Books, Decision, decide, statement_problem
from shared.payments.references import creditor_reference, reference_body
from shared.payments.statement import Statement
from tests.unit.payment_fakes import POLICY, books_of, invoice, transaction

ANNA = "C0000001"
BEN = "C0000002"


def _paid(decision: Decision) -> list[tuple[str, str | None, Decimal]]:
    return [(p.customer_id, p.item, p.amount) for p in decision.postings]


def _assert_reconciles(decision: Decision) -> None:
    assert total(p.amount for p in decision.postings) == -decision.transaction.amount


# (a) our own collections


def test_our_end_to_end_id_settles_the_item_it_names_without_separators() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "11.90"))
    payment = transaction("11.90", end_to_end_id="C0000001-RE202600000001")

    decision = decide(payment, books, POLICY)

    assert decision.rule == "end_to_end"
    assert _paid(decision) == [(ANNA, "RE-2026-00000001", Decimal("-11.90"))]
    assert decision.postings[0].posting_id == "pay:TX-00000001:RE-2026-00000001"
    assert decision.postings[0].source == "statement:TX-00000001"


def test_a_collection_of_an_item_already_paid_becomes_credit() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "11.90"))
    books.apply(decide(transaction("11.90", remittance="RE-2026-00000001"), books, POLICY).postings)

    again = decide(
        transaction("11.90", transaction_id="TX-00000002", end_to_end_id="C0000001-RE202600000001"),
        books,
        POLICY,
    )

    assert again.rule == "end_to_end"
    assert _paid(again) == [(ANNA, None, Decimal("-11.90"))]


def test_an_end_to_end_id_of_an_unknown_item_goes_to_clarification() -> None:
    decision = decide(
        transaction("5.00", end_to_end_id="C0000001-RE202600000404"), books_of(), POLICY
    )

    assert decision.rule is None
    assert decision.reason == "our collection C0000001-RE202600000404: no such item"


def _batch(*collections: tuple[str, str, str]) -> CollectionBatch:
    return CollectionBatch(
        payment_info_id="PMT-2026-12-01-RCUR",
        file_id="DD-2026-12-01",
        collection_date=date(2026, 12, 2),
        collections=tuple(
            Collection(
                customer_id=customer,
                item=item,
                amount=Decimal(amount),
                end_to_end_id=f"{customer}-{item.replace('-', '')}",
                mandate_reference=f"M-{customer}",
                sequence="RCUR",
            )
            for customer, item, amount in collections
        ),
    )


def test_a_batch_booking_settles_each_collection_of_the_recorded_batch() -> None:
    batch = _batch((ANNA, "RE-2026-00000001", "11.90"), (BEN, "RE-2026-00000002", "23.80"))
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "11.90"),
        invoice(BEN, "RE-2026-00000002", "23.80"),
        batches=[batch],
    )
    entry = transaction("35.70", payment_info_id="PMT-2026-12-01-RCUR", batch_count=2)

    decision = decide(entry, books, POLICY)

    assert decision.rule == "collection_batch"
    assert _paid(decision) == [
        (ANNA, "RE-2026-00000001", Decimal("-11.90")),
        (BEN, "RE-2026-00000002", Decimal("-23.80")),
    ]
    assert len({p.posting_id for p in decision.postings}) == 2
    _assert_reconciles(decision)


def test_a_batch_booking_whose_sum_differs_goes_to_clarification() -> None:
    batch = _batch((ANNA, "RE-2026-00000001", "11.90"), (BEN, "RE-2026-00000002", "23.80"))
    books = books_of(invoice(ANNA, "RE-2026-00000001", "11.90"), batches=[batch])
    entry = transaction("11.90", payment_info_id="PMT-2026-12-01-RCUR", batch_count=2)

    decision = decide(entry, books, POLICY)

    assert decision.rule is None
    assert decision.reason == (
        "collection batch PMT-2026-12-01-RCUR collected 35.70, the bank booked 11.90"
    )


def test_a_sum_without_details_and_without_a_known_batch_goes_to_clarification() -> None:
    entry = transaction("99.00", payment_info_id="PMT-UNKNOWN", batch_count=7)

    decision = decide(entry, books_of(), POLICY)

    assert decision.rule is None
    assert "sum of 7 without details" in (decision.reason or "")


# (b) invoice numbers and references


@pytest.mark.parametrize(
    "text",
    [
        "RE-2026-00000123",
        "re 2026 00000123",
        "Rechnung RE2026/123 vielen Dank",
        "RE-2O26-OOOOO123",
        "Rg.-Nr. RE 2026 0000 0123",
        "RE_2026_000123 Kunde Weber",
    ],
)
def test_an_invoice_number_is_found_however_it_is_typed(text: str) -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000123", "19.99"))

    decision = decide(transaction("19.99", remittance=text), books, POLICY)

    assert decision.rule == "invoice_number"
    assert _paid(decision) == [(ANNA, "RE-2026-00000123", Decimal("-19.99"))]


def test_an_amount_after_the_number_is_not_read_as_part_of_it() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000012", "19.99"))

    decision = decide(transaction("19.99", remittance="RE 2026 12 19,99 EUR"), books, POLICY)

    assert _paid(decision) == [(ANNA, "RE-2026-00000012", Decimal("-19.99"))]


def test_one_payment_settles_several_invoices_in_the_order_named() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"), invoice(ANNA, "RE-2026-00000002", "20.00")
    )

    decision = decide(
        transaction("30.00", remittance="RE-2026-00000002 und RE-2026-00000001"), books, POLICY
    )

    assert _paid(decision) == [
        (ANNA, "RE-2026-00000002", Decimal("-20.00")),
        (ANNA, "RE-2026-00000001", Decimal("-10.00")),
    ]


def test_a_partial_payment_leaves_the_rest_open() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"), invoice(ANNA, "RE-2026-00000002", "20.00")
    )
    decision = decide(
        transaction("25.00", remittance="RE-2026-00000001, RE-2026-00000002"), books, POLICY
    )
    books.apply(decision.postings)

    second = books.account(ANNA).item("RE-2026-00000002")

    assert second is not None
    assert (second.status, second.open) == ("partially_paid", Decimal("5.00"))
    assert books.account(ANNA).balance == Decimal("5.00")


def test_an_overpayment_becomes_credit_on_the_account() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "10.00"))
    decision = decide(transaction("15.00", remittance="RE-2026-00000001"), books, POLICY)
    books.apply(decision.postings)

    account = books.account(ANNA)

    assert _paid(decision) == [
        (ANNA, "RE-2026-00000001", Decimal("-10.00")),
        (ANNA, None, Decimal("-5.00")),
    ]
    assert (account.unapplied_credit, account.balance) == (Decimal("5.00"), Decimal("-5.00"))


def test_a_dropped_digit_is_forgiven_when_one_open_item_of_the_named_customer_fits() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00012345", "10.00"), invoice(BEN, "RE-2026-00001234", "99.00")
    )

    decision = decide(transaction("10.00", remittance="C0000001 RE-2026-0001234"), books, POLICY)

    assert decision.rule == "invoice_number_slip"
    assert _paid(decision) == [(ANNA, "RE-2026-00012345", Decimal("-10.00"))]


def test_a_swapped_digit_is_forgiven_when_one_open_item_of_the_named_customer_fits() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00004321", "10.00"))

    decision = decide(
        transaction("4.00", remittance="Kd-Nr. 0000001 Rechnung RE-2026-00003421"), books, POLICY
    )

    assert decision.rule == "invoice_number_slip"
    assert _paid(decision) == [(ANNA, "RE-2026-00004321", Decimal("-4.00"))]


def test_a_slip_that_fits_two_open_items_is_not_guessed() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00001243", "10.00"), invoice(ANNA, "RE-2026-00001324", "10.00")
    )

    decision = decide(transaction("10.00", remittance="C0000001 RE-2026-00001234"), books, POLICY)

    assert decision.rule is None
    assert decision.reason == ("RE-2026-00001234 could be RE-2026-00001243 or RE-2026-00001324")


def test_a_slip_is_never_matched_without_knowing_the_payer() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00004321", "10.00"))

    decision = decide(transaction("10.00", remittance="RE-2026-00003421"), books, POLICY)

    assert decision.rule is None
    assert decision.reason == "invoice number RE-2026-00003421 is none of our open invoices"


def test_a_slip_is_not_searched_among_paid_items() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00004321", "10.00"))
    books.apply(decide(transaction("10.00", remittance="RE-2026-00004321"), books, POLICY).postings)

    decision = decide(
        transaction("10.00", transaction_id="TX-00000002", remittance="C0000001 RE-2026-00003421"),
        books,
        POLICY,
    )

    assert decision.rule is None
    assert decision.reason == "C0000001 named, but 10.00 fits none of its open items"


def test_invoices_of_two_customers_in_one_text_are_not_guessed_between() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"), invoice(BEN, "RE-2026-00000002", "10.00")
    )

    decision = decide(
        transaction("20.00", remittance="RE-2026-00000001 RE-2026-00000002"), books, POLICY
    )

    assert decision.rule is None
    assert decision.reason == "names invoices of several customers: C0000001, C0000002"


def test_a_structured_creditor_reference_settles_its_invoice() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000077", "8.00"))
    reference = creditor_reference("RE-2026-00000077")

    decision = decide(
        transaction("8.00", creditor_reference=reference, remittance="Danke"), books, POLICY
    )

    assert reference_body(reference) == "RE202600000077"
    assert decision.rule == "creditor_reference"
    assert _paid(decision) == [(ANNA, "RE-2026-00000077", Decimal("-8.00"))]


def test_creditor_references_are_checked_as_iso_11649_says() -> None:
    assert reference_body("RF18 5390 0754 7034") == "539007547034"
    assert reference_body("RF19 5390 0754 7034") is None
    assert creditor_reference("539007547034") == "RF18539007547034"


def test_a_creditor_reference_with_wrong_check_digits_is_not_trusted() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000077", "8.00"))
    good = creditor_reference("RE-2026-00000077")
    wrong = good[:2] + f"{(int(good[2:4]) + 1) % 100:02d}" + good[4:]

    decision = decide(transaction("8.00", creditor_reference=wrong), books, POLICY)

    assert decision.rule is None


# (c) customer number and amount


def test_a_customer_number_and_the_open_amount_of_one_item_settle_it() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"), invoice(ANNA, "RE-2026-00000002", "20.00")
    )

    decision = decide(transaction("20.00", remittance="Kundennummer C0000001"), books, POLICY)

    assert decision.rule == "customer_amount"
    assert _paid(decision) == [(ANNA, "RE-2026-00000002", Decimal("-20.00"))]


def test_a_customer_number_and_the_sum_of_all_open_items_settle_them_all() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"), invoice(ANNA, "RE-2026-00000002", "20.00")
    )

    decision = decide(transaction("30.00", remittance="C 0000001"), books, POLICY)

    assert decision.rule == "customer_amount"
    assert {p.item for p in decision.postings} == {"RE-2026-00000001", "RE-2026-00000002"}
    _assert_reconciles(decision)


def test_an_amount_that_fits_two_open_items_is_not_guessed() -> None:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "10.00"),
        invoice(ANNA, "RE-2026-00000002", "10.00"),
        invoice(ANNA, "RE-2026-00000003", "5.00"),
    )

    decision = decide(transaction("10.00", remittance="C0000001"), books, POLICY)

    assert decision.rule is None
    assert decision.reason == (
        "10.00 fits 2 open items of C0000001: RE-2026-00000001, RE-2026-00000002"
    )


def test_a_text_naming_two_customers_goes_to_clarification() -> None:
    decision = decide(transaction("10.00", remittance="C0000001 C0000002"), books_of(), POLICY)

    assert decision.reason == "names several customers: C0000001, C0000002"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"currency": "USD"}, "currency USD: only EUR is posted"),
        ({"amount": Decimal("-10.00")}, "outgoing payment that is not a returned debit of ours"),
        ({"amount": Decimal("0.00")}, "amount is zero"),
        ({"reversal": True}, "reversal of an outgoing payment (a refund came back?)"),
        ({"remittance": "Miete Dezember"}, "names no invoice, customer or reference of ours"),
    ],
)
def test_what_cannot_be_posted_goes_to_clarification_with_the_reason(
    values: dict[str, object], reason: str
) -> None:
    entry = transaction("10.00", remittance="RE-2026-00000001").model_copy(update=values)
    books = books_of(invoice(ANNA, "RE-2026-00000001", "10.00"))

    decision = decide(entry, books, POLICY)

    assert (decision.rule, decision.reason, decision.postings) == (None, reason, ())


# returns


def _paid_by_debit() -> Books:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "11.90"))
    collected = transaction(
        "11.90", transaction_id="TX-COLLECT", end_to_end_id="C0000001-RE202600000001"
    )
    books.apply(decide(collected, books, POLICY).postings)
    return books


@pytest.mark.parametrize(("reason", "revoked"), [("AC04", True), ("MD06", False)])
def test_a_returned_debit_reopens_the_item_charges_the_fee_and_may_revoke(
    reason: str, revoked: bool
) -> None:
    books = _paid_by_debit()
    returned = transaction(
        "-11.90",
        transaction_id="TX-RETURN1",
        reversal=True,
        return_reason=reason,
        end_to_end_id="C0000001-RE202600000001",
        mandate_id="M-C0000001",
    )

    decision = decide(returned, books, POLICY)
    books.apply(decision.postings)
    account = books.account(ANNA)
    item = account.item("RE-2026-00000001")

    assert decision.rule == "debit_return"
    assert item is not None
    assert (item.status, item.open, item.return_reason) == ("returned", Decimal("11.90"), reason)
    fee = [i for i in account.open_items() if i.kind == "return_fee"]
    assert [(f.open, f.item.startswith("FEE")) for f in fee] == [(Decimal("5.00"), True)]
    assert account.balance == Decimal("16.90")
    assert bool(decision.revocations) is revoked
    if revoked:
        (revocation,) = decision.revocations
        assert (revocation.customer_id, revocation.mandate_reference, revocation.reason) == (
            ANNA,
            "M-C0000001",
            "AC04",
        )


def test_a_return_of_an_item_that_shows_no_payment_goes_to_clarification() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "11.90"))
    returned = transaction("-11.90", return_reason="AC04", end_to_end_id="C0000001-RE202600000001")

    decision = decide(returned, books, POLICY)

    assert decision.rule is None
    assert decision.reason == "return of 11.90 for RE-2026-00000001, which shows only 0.00 paid"


def test_a_return_with_a_national_code_only_keeps_it_as_the_reason() -> None:
    books = _paid_by_debit()
    returned = transaction(
        "-11.90", bank_return_code="914", end_to_end_id="C0000001-RE202600000001"
    )

    decision = decide(returned, books, POLICY)
    books.apply(decision.postings)

    assert decision.rule == "debit_return"
    assert decision.revocations == ()
    item = books.account(ANNA).item("RE-2026-00000001")
    assert item is not None
    assert (item.status, item.return_reason) == ("returned", "914")


def test_a_return_that_ends_the_mandate_but_names_none_is_noted() -> None:
    books = _paid_by_debit()
    returned = transaction("-11.90", return_reason="MD07", end_to_end_id="C0000001-RE202600000001")

    decision = decide(returned, books, POLICY)

    assert decision.rule == "debit_return"
    assert decision.revocations == ()
    assert decision.notes == ("return reason MD07 ends the mandate, but the entry names none",)


def test_a_return_that_names_none_of_our_collections_goes_to_clarification() -> None:
    decision = decide(
        transaction("-11.90", reversal=True, end_to_end_id="FOREIGN-REF"), books_of(), POLICY
    )

    assert decision.reason == "returned payment that names none of our collections"


# the statement and the ids


def test_only_statements_of_our_own_account_are_posted() -> None:
    ours = Statement(
        format="camt.053", statement_id="S1", account_iban="DE02 1203 0000 0000 2020 51"
    )
    mt940 = Statement(format="mt940", statement_id="S2", account_other="12030000/202051")
    other = Statement(format="camt.053", statement_id="S3", account_iban="DE89370400440532013000")

    assert statement_problem(ours, POLICY) is None
    assert statement_problem(mt940, POLICY) is None
    assert statement_problem(other, POLICY) == "account DE89370400440532013000 is not one of ours"


def test_deciding_again_gives_the_same_posting_ids() -> None:
    books = books_of(invoice(ANNA, "RE-2026-00000001", "10.00"))
    payment = transaction("15.00", remittance="RE-2026-00000001")

    first = decide(payment, books, POLICY)
    second = decide(payment, books, POLICY)

    assert [p.posting_id for p in first.postings] == [p.posting_id for p in second.postings]
    assert all(p.posting_id.startswith("pay:TX-00000001:") for p in first.postings)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500.00"), places=2)


@given(
    invoices=st.lists(amounts, min_size=1, max_size=5),
    payments=st.lists(
        st.tuples(amounts, st.lists(st.integers(0, 4), max_size=3)), min_size=1, max_size=6
    ),
)
def test_every_decision_reconciles_to_the_cent(
    invoices: list[Decimal], payments: list[tuple[Decimal, list[int]]]
) -> None:
    numbers = [f"RE-2026-{index + 1:08d}" for index in range(len(invoices))]
    books = books_of(*(invoice(ANNA, n, str(a)) for n, a in zip(numbers, invoices, strict=True)))

    for index, (amount, named) in enumerate(payments):
        text = "C0000001 " + " ".join(numbers[i % len(numbers)] for i in named)
        decision = decide(
            transaction(str(amount), transaction_id=f"TX-{index:08d}", remittance=text),
            books,
            POLICY,
        )
        if decision.matched:
            _assert_reconciles(decision)
        books.apply(decision.postings)

    account = books.account(ANNA)
    open_sum = total(item.open for item in account.open_items())
    assert account.balance == total(p.amount for p in account.postings)
    assert open_sum == account.balance + account.unapplied_credit
    assert all(item.open >= 0 for item in account.items())


# (e) payments quoting a dunning notice

NOTICES = replace(POLICY, notice_prefixes=("MA",))


def _charge(
    customer_id: str, notice: str, amount: str, due_on: date, *, kind: PostingKind = "dunning_fee"
) -> Posting:
    item = f"{'fee' if kind == 'dunning_fee' else kind}-{notice}"
    return Posting(
        posting_id=f"dunning:{customer_id}:{item}",
        customer_id=customer_id,
        booked_on=due_on - timedelta(days=10),
        kind=kind,
        amount=Decimal(amount),
        item=item,
        document_number=notice,
        source="dunning:run",
        due_on=due_on,
    )


def _dunned() -> Books:
    books = books_of(
        invoice(ANNA, "RE-2026-00000001", "119.00", issued=date(2026, 10, 1)),
        invoice(ANNA, "RE-2026-00000002", "11.90", issued=date(2026, 11, 1)),
        _charge(ANNA, "MA-2026-00000007", "2.50", date(2026, 11, 30)),
        invoice(BEN, "RE-2026-00000003", "50.00"),
    )
    books.owners["MA-2026-00000007"] = ANNA
    return books


def test_a_payment_quoting_a_notice_pays_costs_then_invoices_the_rest_is_credit() -> None:
    decision = decide(
        transaction("140.00", remittance="Mahnung MA-2026-00000007"), _dunned(), NOTICES
    )

    assert decision.rule == "dunning_notice"
    assert _paid(decision) == [
        (ANNA, "fee-MA-2026-00000007", Decimal("-2.50")),
        (ANNA, "RE-2026-00000001", Decimal("-119.00")),
        (ANNA, "RE-2026-00000002", Decimal("-11.90")),
        (ANNA, None, Decimal("-6.60")),
    ]
    _assert_reconciles(decision)


def test_a_part_payment_quoting_a_notice_goes_to_costs_interest_then_the_oldest_invoice() -> None:
    books = _dunned()
    books.apply([_charge(ANNA, "MA-2026-00000007", "1.20", date(2026, 11, 30), kind="interest")])

    decision = decide(transaction("100.00", remittance="ma 2026 7"), books, NOTICES)

    assert decision.rule == "dunning_notice"
    assert _paid(decision) == [
        (ANNA, "fee-MA-2026-00000007", Decimal("-2.50")),
        (ANNA, "interest-MA-2026-00000007", Decimal("-1.20")),
        (ANNA, "RE-2026-00000001", Decimal("-96.30")),
    ]


def test_an_invoice_number_beside_a_notice_number_decides() -> None:
    text = "MA-2026-00000007 RE-2026-00000002"

    decision = decide(transaction("11.90", remittance=text), _dunned(), NOTICES)

    assert decision.rule == "invoice_number"
    assert _paid(decision) == [(ANNA, "RE-2026-00000002", Decimal("-11.90"))]


def test_a_notice_we_never_sent_or_one_of_another_customer_is_not_guessed_at() -> None:
    unknown = decide(transaction("10.00", remittance="MA-2026-00000008"), _dunned(), NOTICES)
    other = decide(
        transaction("10.00", remittance="MA-2026-00000007 Kunde C0000002"), _dunned(), NOTICES
    )

    assert (unknown.rule, unknown.reason) == (
        None,
        "dunning notice MA-2026-00000008 is none of ours",
    )
    assert (other.rule, other.reason) == (
        None,
        "C0000002 named, but 10.00 fits none of its open items",
    )


def test_without_notice_prefixes_a_notice_number_is_just_text() -> None:
    decision = decide(transaction("140.00", remittance="MA-2026-00000007"), _dunned(), POLICY)

    assert decision.rule is None
