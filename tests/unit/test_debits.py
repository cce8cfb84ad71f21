"""Direct debits out: due items, FRST/RCUR, lead time, the pain.008 file and its XSD, claims."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from shared.accounts.model import Account, Posting, account_of
from shared.customers import shard_of
from shared.payments.debit_export import DebitExportRequest, DebitExportResult, DebitExportService
from shared.payments.debit_ports import DebitBusyError
from shared.payments.debits import (
    VERSIONS,
    Creditor,
    DebitFileError,
    DebitInputError,
    DebitPayment,
    PainVersion,
    batches_of,
    check_lead_time,
    creditor_of,
    due_items,
    file_id_for,
    pain008,
    payments_for,
    read_pain008,
    sepa_text,
    validate_pain008,
)
from shared.payments.mandates import StoredMandate
from tests.unit.debit_fakes import (
    FakeBatches,
    FakeDebitFiles,
    FakeMandates,
    FakeRegister,
    invoice_posting,
    payment_posting,
)
from tests.unit.fakes import SELLER, mandate, repeatable
from tests.unit.ledger_fakes import MemoryLedger

SHARDS = 2
CREDITOR = creditor_of(SELLER)
# Friday 11 December 2026, in the morning; the 15th is a Tuesday.
NOW = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
COLLECTION = date(2026, 12, 15)
NS = "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.08}"


def _return(customer_id: str, item: str, amount: str) -> Posting:
    return Posting(
        posting_id=f"return:{customer_id}-{item}",
        customer_id=customer_id,
        booked_on=date(2026, 12, 5),
        kind="debit_return",
        amount=Decimal(amount),
        item=item,
        source="statement:return",
        reason="AM04",
    )


def test_due_items_are_open_invoices_due_by_the_date_and_partial_ones_with_their_rest() -> None:
    account = account_of(
        "C0000001",
        [
            invoice_posting("C0000001", 1, "11.90", due=date(2026, 12, 15)),
            invoice_posting("C0000001", 2, "20.00", due=date(2026, 12, 1)),
            payment_posting("C0000001", "RE-2026-00000002", "5.00", on=date(2026, 12, 3)),
            invoice_posting("C0000001", 3, "30.00", due=date(2026, 12, 16)),
            invoice_posting("C0000001", 4, "7.00", due=date(2026, 11, 15)),
            payment_posting("C0000001", "RE-2026-00000004", "7.00", on=date(2026, 11, 20)),
            invoice_posting("C0000001", 5, "8.00", due=date(2026, 11, 15)),
            payment_posting("C0000001", "RE-2026-00000005", "8.00", on=date(2026, 11, 20)),
            _return("C0000001", "RE-2026-00000005", "8.00"),
            Posting(
                posting_id="fee:1",
                customer_id="C0000001",
                booked_on=date(2026, 12, 5),
                kind="return_fee",
                amount=Decimal("3.00"),
                item="FEE1",
                source="statement:return",
                due_on=date(2026, 12, 5),
            ),
        ],
    )

    due = due_items(account, COLLECTION)

    assert [(i.item, i.open, i.status) for i in due] == [
        ("RE-2026-00000001", Decimal("11.90"), "open"),
        ("RE-2026-00000002", Decimal("15.00"), "partially_paid"),
    ]


def test_a_payment_names_item_invoice_mandate_and_debtor() -> None:
    account = account_of("C0000001", [invoice_posting("C0000001", 1, "11.90")])
    stored = StoredMandate(mandate("C0000001", holder="Jürgen Müller & Söhne"))

    (payment,), skipped = payments_for(account, stored, COLLECTION)

    assert skipped == []
    assert payment.end_to_end_id == "C0000001-RE202600000001"
    assert payment.amount == Decimal("11.90")
    assert (payment.sequence, payment.mandate_reference) == ("FRST", "M0000001-01")
    assert payment.mandate_signed_on == date(2025, 1, 15)
    assert payment.debtor_name == "Jurgen Muller + Sohne"
    assert "RE-2026-00000001" in payment.remittance


def test_an_item_that_cannot_stand_in_an_end_to_end_id_is_skipped_with_the_reason() -> None:
    odd = invoice_posting("C0000001", 1, "11.90").model_copy(update={"item": "RE-" + "9" * 30})
    account = account_of("C0000001", [odd])

    payments, (skipped,) = payments_for(account, StoredMandate(mandate("C0000001")), COLLECTION)

    assert payments == []
    assert skipped.item == "RE-" + "9" * 30
    assert "end-to-end id" in skipped.reason


def test_a_used_mandate_is_recurring() -> None:
    assert StoredMandate(mandate("C0000001")).sequence == "FRST"
    used = StoredMandate(mandate("C0000001"), first_collected_on=date(2026, 11, 16))
    assert used.sequence == "RCUR"
    assert StoredMandate(mandate("C0000001", sequence="RCUR")).sequence == "RCUR"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (date(2026, 12, 11), "too early"),
        (date(2026, 12, 10), "too early"),
        (date(2026, 12, 12), "Saturday"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 3, 26), "Good Friday"),
    ],
)
def test_a_collection_date_without_lead_time_or_on_a_target_holiday_is_refused(
    day: date, message: str
) -> None:
    with pytest.raises(DebitInputError, match=message) as raised:
        check_lead_time(day, date(2026, 12, 11))
    assert raised.value.field == "collection_date"


def test_the_next_business_day_is_early_enough() -> None:
    check_lead_time(date(2026, 12, 14), date(2026, 12, 11))
    check_lead_time(date(2026, 12, 28), date(2026, 12, 24))
    with pytest.raises(DebitInputError, match="the earliest is 2026-12-28"):
        check_lead_time(date(2026, 12, 24), date(2026, 12, 24))


def test_bad_input_names_its_field() -> None:
    with pytest.raises(DebitInputError) as no_date:
        DebitExportRequest.parse("2026-13-01")
    with pytest.raises(DebitInputError) as no_version:
        DebitExportRequest.parse("2026-12-15", "001.03")
    with pytest.raises(DebitInputError) as no_creditor:
        creditor_of(SELLER.model_copy(update={"creditor_id": None}))

    assert no_date.value.field == "collection_date"
    assert no_version.value.field == "version"
    assert no_creditor.value.field == "creditor_id"
    assert "BILLING_SELLER_CREDITOR_ID" in no_creditor.value.reason


def _payments(count: int = 4) -> list[DebitPayment]:
    payments = []
    for number in range(1, count + 1):
        customer_id = f"C{number:07d}"
        account = account_of(customer_id, [invoice_posting(customer_id, number, f"{number}9.90")])
        sequence = "FRST" if number % 2 else "RCUR"
        stored = StoredMandate(mandate(customer_id, sequence=sequence, bic=None))
        payments += payments_for(account, stored, COLLECTION)[0]
    return payments


def _file(version: PainVersion, payments: list[DebitPayment] | None = None) -> bytes:
    payments = payments if payments is not None else _payments()
    file_id = file_id_for(CREDITOR, COLLECTION, version, payments)
    return pain008(CREDITOR, COLLECTION, payments, version=version, file_id=file_id, created_at=NOW)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_file_validates_against_the_official_xsd_of_its_version(version: PainVersion) -> None:
    xml = _file(version)

    validate_pain008(xml, version)
    written = read_pain008(xml)
    assert written.version == version
    assert [b.payment_info_id.rsplit("-", 1)[1] for b in written.batches] == ["FRST", "RCUR"]
    assert written.batches == tuple(batches_of(written.file_id, COLLECTION, _payments()))
    assert sum(b.total for b in written.batches) == Decimal("139.60")


def test_the_file_states_creditor_mandate_signature_date_and_debtor() -> None:
    tree = etree.fromstring(_file("001.08"))

    scheme = f".//{NS}CdtrSchmeId/{NS}Id/{NS}PrvtId/{NS}Othr/{NS}Id"
    assert tree.findtext(scheme) == "DE98ZZZ09999999999"
    assert tree.findtext(f".//{NS}CdtrAcct//{NS}IBAN") == SELLER.iban
    first = tree.find(f".//{NS}DrctDbtTxInf")
    assert first.findtext(f"{NS}PmtId/{NS}EndToEndId") == "C0000001-RE202600000001"
    assert first.findtext(f".//{NS}MndtId") == "M0000001-01"
    assert first.findtext(f".//{NS}DtOfSgntr") == "2025-01-15"
    assert first.findtext(f"{NS}DbtrAcct//{NS}IBAN") == "DE89370400440532013000"
    assert first.findtext(f"{NS}InstdAmt") == "19.90"
    assert "RE-2026-00000001" in first.findtext(f".//{NS}Ustrd")
    assert tree.findtext(f".//{NS}ReqdColltnDt") == "2026-12-15"
    assert {e.text for e in tree.iter(f"{NS}SeqTp")} == {"FRST", "RCUR"}


def _broken(xml: bytes, change: str) -> bytes:
    """The ISO schemas leave much to the SEPA rules (a mandate id, two decimals); these they
    do check."""
    tree = etree.fromstring(xml)
    ns = etree.QName(tree).namespace
    transaction = tree.find(f".//{{{ns}}}DrctDbtTxInf")
    if change == "no end-to-end id":
        identifier = transaction.find(f"{{{ns}}}PmtId/{{{ns}}}EndToEndId")
        identifier.getparent().remove(identifier)
    elif change == "negative amount":
        transaction.find(f"{{{ns}}}InstdAmt").text = "-19.90"
    elif change == "IBAN with spaces":
        transaction.find(f"{{{ns}}}DbtrAcct//{{{ns}}}IBAN").text = "DE89 3704 0044 0532 0130 00"
    elif change == "unknown sequence type":
        next(tree.iter(f"{{{ns}}}SeqTp")).text = "ONCE"
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "change", ["no end-to-end id", "negative amount", "IBAN with spaces", "unknown sequence type"]
)
def test_a_broken_file_does_not_pass_the_xsd(version: PainVersion, change: str) -> None:
    xml = _file(version)
    validate_pain008(xml, version)

    with pytest.raises(DebitFileError, match=f"pain.008.{version} XSD"):
        validate_pain008(_broken(xml, change), version)


def test_a_file_of_one_version_is_not_valid_as_the_other() -> None:
    with pytest.raises(DebitFileError):
        validate_pain008(_file("001.08"), "001.02")


def test_same_collections_give_the_same_ids_and_bytes_in_any_order() -> None:
    payments = _payments(6)
    shuffled = list(payments)
    random.Random(3).shuffle(shuffled)
    more = [*payments[:-1], payments[-1].model_copy(update={"amount": Decimal("1.00")})]

    assert _file("001.08", payments) == _file("001.08", shuffled)
    assert file_id_for(CREDITOR, COLLECTION, "001.08", payments) != file_id_for(
        CREDITOR, COLLECTION, "001.08", more
    )
    assert file_id_for(CREDITOR, COLLECTION, "001.08", payments) != file_id_for(
        CREDITOR, COLLECTION, "001.02", payments
    )


def test_sepa_text_keeps_to_the_basic_latin_set() -> None:
    assert sepa_text("Zoë Groß; Øre \u2013 \u201cBüro\u201d <x>", 70) == "Zoe Gross Ore Buro x"
    assert sepa_text("a" * 80, 70) == "a" * 70


class Stack:
    """The export over in-memory ports: mandates, ledger, register, batches, files."""

    def __init__(self) -> None:
        self.mandates = FakeMandates()
        self.ledger = MemoryLedger()
        self.register = FakeRegister()
        self.batches = FakeBatches()
        self.files = FakeDebitFiles()
        self.now = NOW

    def customer(self, number: int, *, sequence: str = "FRST", **notes: object) -> str:
        customer_id = f"C{number:07d}"
        self.mandates.add(
            shard_of(customer_id, SHARDS), mandate(customer_id, sequence=sequence), **notes
        )
        return customer_id

    def service(self, creditor: Creditor = CREDITOR) -> DebitExportService:
        return DebitExportService(
            mandates=self.mandates,
            ledger=self.ledger,
            register=self.register,
            batches=self.batches,
            files=self.files,
            creditor=creditor,
            shard_count=SHARDS,
            clock=lambda: self.now,
        )

    def export(self, day: date = COLLECTION, version: PainVersion = "001.08") -> DebitExportResult:
        return self.service().export(DebitExportRequest(day, version))


@pytest.fixture
def stack() -> Stack:
    stack = Stack()
    first = stack.customer(1)
    recurring = stack.customer(2, sequence="RCUR")
    partial = stack.customer(3)
    revoked = stack.customer(4, revoked_reason="AC04", revoked_on=date(2026, 11, 20))
    stack.ledger.post(
        [
            invoice_posting(first, 1, "11.90"),
            invoice_posting(recurring, 2, "23.80"),
            invoice_posting(partial, 3, "50.00"),
            payment_posting(partial, "RE-2026-00000003", "20.00", on=date(2026, 12, 5)),
            invoice_posting(revoked, 4, "9.99"),
            invoice_posting("C0000005", 5, "5.00"),  # pays by transfer: no mandate
            invoice_posting(first, 6, "3.00", due=date(2026, 12, 29)),  # not due yet
        ]
    )
    return stack


def test_an_export_collects_the_due_items_of_usable_mandates_in_one_file(stack: Stack) -> None:
    progress: list[tuple[int, int]] = []

    result = stack.service().export(
        DebitExportRequest(COLLECTION), on_shard=lambda done, of: progress.append((done, of))
    )

    written = result.new_file
    assert written is not None
    assert written.key == f"debits/2026-12-15/{written.file_id}.xml"
    assert (written.items, written.customers, written.total) == (3, 3, Decimal("65.70"))
    assert (written.frst_items, written.frst_total) == (2, Decimal("41.90"))
    assert (written.rcur_items, written.rcur_total) == (1, Decimal("23.80"))
    assert result.customers_with_revoked_mandates == 1
    assert progress == [(1, 2), (2, 2)]
    xml = stack.files.objects[written.key]
    validate_pain008(xml, "001.08")
    assert {c.end_to_end_id for c in read_pain008(xml).collections} == {
        "C0000001-RE202600000001",
        "C0000002-RE202600000002",
        "C0000003-RE202600000003",
    }
    assert set(stack.batches.recorded) == set(written.payment_info_ids)
    assert sorted(stack.register.claimed) == [
        ("C0000001", "RE202600000001"),
        ("C0000002", "RE202600000002"),
        ("C0000003", "RE202600000003"),
    ]
    assert stack.register.lease == {}


def test_after_a_first_collection_the_mandate_is_recurring(stack: Stack) -> None:
    stack.export()
    stack.ledger.post([invoice_posting("C0000001", 7, "11.90", due=date(2027, 1, 15))])
    stack.now = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)

    later = stack.export(date(2027, 1, 15))

    assert stack.mandates.stored("C0000001").first_collected_on == COLLECTION
    assert stack.mandates.stored("C0000002").first_collected_on is None  # came in as RCUR
    assert later.new_file is not None
    collections = read_pain008(stack.files.objects[later.new_file.key]).collections
    assert {(c.item, c.sequence) for c in collections} == {
        ("RE202600000006", "RCUR"),
        ("RE202600000007", "RCUR"),
    }


def test_the_same_date_again_gives_the_same_file_and_claims_nothing(stack: Stack) -> None:
    first = stack.export()
    objects = dict(stack.files.objects)
    claims = stack.register.claim_writes

    again = stack.export()

    assert again.new_file is None
    assert again.files == first.files
    assert again.already_claimed == 3
    assert stack.files.objects == objects
    assert stack.register.claim_writes == claims


def test_a_later_date_does_not_collect_an_item_again(stack: Stack) -> None:
    stack.export()
    stack.now = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)

    later = stack.export(date(2026, 12, 30))

    assert later.new_file is not None
    (collection,) = read_pain008(stack.files.objects[later.new_file.key]).collections
    assert collection.item == "RE202600000006"
    assert later.already_claimed == 3


def test_a_refused_request_writes_nothing(stack: Stack) -> None:
    with pytest.raises(DebitInputError, match="collection_date"):
        stack.export(date(2026, 12, 12))

    assert stack.files.objects == {}
    assert stack.register.claimed == {}
    assert stack.register.lease == {}
    assert stack.mandates.loads == 0


def test_an_export_stopped_after_writing_its_file_is_completed_by_the_next(stack: Stack) -> None:
    stack.files.fail_next_store = True
    with pytest.raises(ConnectionError):
        stack.export()
    (key,) = stack.files.objects
    assert stack.register.claimed == {}
    stack.now = datetime(2026, 12, 11, 9, 30, tzinfo=UTC)  # after the lease ran out

    result = stack.export()

    assert result.completed_pending is not None
    assert result.new_file is None
    assert [f.key for f in result.files] == [key]
    assert len(stack.register.claimed) == 3
    assert len(stack.batches.recorded) == 2
    assert list(stack.files.objects) == [key]


def test_a_second_export_while_one_holds_the_register_is_refused(stack: Stack) -> None:
    stack.register.lease = {"holder": "other", "until": datetime(2026, 12, 11, 9, 10, tzinfo=UTC)}

    with pytest.raises(DebitBusyError):
        stack.export()
    assert stack.files.objects == {}


def test_a_mandate_given_to_another_creditor_is_not_used(stack: Stack) -> None:
    other = Creditor(CREDITOR.name, CREDITOR.iban, CREDITOR.bic, "AT61ZZZ01234567890")

    result = stack.service(other).export(DebitExportRequest(COLLECTION))

    assert result.new_file is None
    assert {s.customer_id for s in result.skipped} == {"C0000001", "C0000002", "C0000003"}


@pytest.mark.parametrize("version", VERSIONS)
def test_the_export_writes_the_version_asked_for(stack: Stack, version: PainVersion) -> None:
    result = stack.export(version=version)

    assert result.new_file is not None
    assert result.new_file.version == version
    validate_pain008(stack.files.objects[result.new_file.key], version)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@repeatable
@given(
    st.lists(st.tuples(amounts, st.sampled_from(["FRST", "RCUR"])), min_size=1, max_size=12),
    st.sampled_from(VERSIONS),
)
def test_any_file_validates_and_reads_back_to_the_cent(
    specs: list[tuple[Decimal, str]], version: PainVersion
) -> None:
    payments = [
        _payments(1)[0].model_copy(
            update={
                "customer_id": f"C{index:07d}",
                "end_to_end_id": f"C{index:07d}-RE2026{index:08d}",
                "item": f"RE2026{index:08d}",
                "amount": amount,
                "sequence": sequence,
            }
        )
        for index, (amount, sequence) in enumerate(specs, start=1)
    ]

    xml = _file(version, payments)

    validate_pain008(xml, version)
    written = read_pain008(xml)
    assert sum(c.amount for c in written.collections) == sum(a for a, _ in specs)
    assert sorted(written.collections, key=lambda c: c.end_to_end_id) == sorted(
        (p.collection() for p in payments), key=lambda c: c.end_to_end_id
    )
    tree = etree.fromstring(xml)
    namespace = etree.QName(tree).namespace
    control_sum = tree.findtext(
        f"{{{namespace}}}CstmrDrctDbtInitn/{{{namespace}}}GrpHdr/{{{namespace}}}CtrlSum"
    )
    assert Decimal(control_sum) == sum(a for a, _ in specs)


@pytest.mark.parametrize(
    ("scheduled", "collection"),
    [
        ("2026-12-11T05:00:00Z", date(2026, 12, 14)),  # Friday: Monday
        ("2026-12-24T05:00:00Z", date(2026, 12, 28)),  # Christmas Eve: after Boxing Day
        ("2026-12-31T23:30:00Z", date(2027, 1, 4)),  # already 1 January in Berlin
    ],
)
def test_the_daily_schedule_collects_for_the_next_target_business_day(
    scheduled: str, collection: date
) -> None:
    from shared.payments.debit_export import ScheduledExport

    request = ScheduledExport.model_validate({"scheduled_time": scheduled}).request()

    assert request.collection_date == collection
    check_lead_time(request.collection_date, datetime.fromisoformat(scheduled).date())


class BulkLedger(MemoryLedger):
    """A ledger that reads a shard's accounts in one call, like the DynamoDB ledger."""

    def __init__(self) -> None:
        super().__init__()
        self.bulk_reads: list[list[str]] = []

    def accounts(self, customer_ids: list[str]) -> dict[str, Account]:
        self.bulk_reads.append(sorted(customer_ids))
        return {c: MemoryLedger.account(self, c) for c in customer_ids}

    def account(self, customer_id: str) -> Account:
        raise AssertionError("read one by one although the ledger reads many at once")


def test_a_ledger_that_reads_many_accounts_at_once_is_read_once_per_shard(stack: Stack) -> None:
    bulk = BulkLedger()
    bulk.post(list(stack.ledger.postings.values()))
    stack.ledger = bulk

    result = stack.export()

    assert result.new_file is not None
    assert result.new_file.items == 3
    assert sorted(c for read in bulk.bulk_reads for c in read) == [
        "C0000001",
        "C0000002",
        "C0000003",
    ]
    assert len(bulk.bulk_reads) <= SHARDS
