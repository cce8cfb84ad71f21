"""Importing statements of the simulated bank on the embedded AWS: matching, posting, re-runs."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from infra import spec
from localaws import bank
from localaws.queue_poller import QueuePoller
from shared.customers import shard_of
from shared.money import total
from shared.orders.model import Mandate
from shared.payments.collections import Collection, CollectionBatch
from shared.payments.importing import PaymentImport
from shared.payments.references import compact
from shared.payments.statements import read_statement
from shared.settings import Settings
from shared.storage.debits import DynamoCollectionBatches
from shared.storage.dynamodb import batch_put
from shared.storage.orders import mandate_item
from shared.storage.payments import DynamoDecisions
from shared.wiring import ledger, payment_import
from tests.integration.conftest import LOCALSTACK_CANNOT, SHARDS, Aws

OUR_IBAN = "DE02120300000000202051"
DAY = date(2026, 12, 3)
RETURNED_ON = date(2026, 12, 8)


class Day:
    """A run's four invoices and a statement that pays them every way a bank reports."""

    def __init__(self, aws: Aws) -> None:
        aws.seed(4)
        aws.run("run-2026-11-payments")
        self.aws = aws
        self.settings = Settings()
        invoices = sorted(aws.invoices(), key=lambda i: i["number"])
        self.invoices = [(i["customer_id"], i["number"], Decimal(i["gross"])) for i in invoices]
        (c0, n0, g0), (_c1, n1, g1), (c2, _, g2), (c3, n3, g3) = self.invoices
        batch_put(
            aws.dynamodb,
            aws.stack.table_names["Contracts"],
            [mandate_item(shard_of(c0, SHARDS), _mandate(c0))],
        )
        DynamoCollectionBatches(aws.dynamodb, aws.stack.table_names["Control"]).record(
            CollectionBatch(
                payment_info_id="PMT-2026-12-02-RCUR",
                file_id="DD-2026-12-02",
                collection_date=DAY,
                collections=(
                    Collection(
                        customer_id=c3,
                        item=n3,
                        amount=g3,
                        end_to_end_id=f"{c3}-{compact(n3)}",
                        mandate_reference=f"M-{c3}",
                        sequence="RCUR",
                    ),
                ),
            )
        )
        collected = bank.Booking(g0, DAY, end_to_end_id=f"{c0}-{compact(n0)}", mandate_id=f"M-{c0}")
        self.items: list[bank.Item] = [
            collected,
            bank.Booking(g1, DAY, remittance=f"Rechnung {n1.lower().replace('-', ' ')} Danke"),
            bank.Booking(g2, DAY, remittance=f"Kd-Nr. {c2} Dezember"),
            bank.Batch(
                (bank.Booking(g3, DAY, end_to_end_id=f"{c3}-{compact(n3)}", mandate_id="M"),),
                payment_info_id="PMT-2026-12-02-RCUR",
                as_sum=True,
            ),
            bank.Booking(Decimal("10.00"), DAY, remittance="Spende Vereinsfest"),
            bank.Booking(g1, DAY, remittance=f"{n1} nochmal"),
            bank.Booking(
                -g0,
                RETURNED_ON,
                end_to_end_id=f"{c0}-{compact(n0)}",
                mandate_id=f"M-{c0}",
                reversal=True,
                return_reason="AC04",
            ),
        ]

    def camt(self, *, statement_id: str = "STMT-2026-12-03") -> bytes:
        statement = bank.BankStatement(
            self.items, account=bank.Account(iban=OUR_IBAN), statement_id=statement_id
        )
        return bank.camt053(statement)

    def importer(self, dynamodb: Any | None = None, *, chunk: int = 2000) -> PaymentImport:
        use_case = payment_import(self.settings, dynamodb or self.aws.dynamodb)
        return dataclasses.replace(use_case, chunk=chunk)

    def postings(self) -> dict[str, dict[str, Any]]:
        stored = self.aws.scan("Documents")
        return {i["sk"]: i for i in stored if str(i["sk"]).startswith("POST#")}


def _mandate(customer_id: str) -> Mandate:
    return Mandate(
        reference=f"M-{customer_id}",
        customer_id=customer_id,
        signed_on=date(2026, 1, 1),
        iban="DE89370400440532013000",
        account_holder="Kunde",
        creditor_id="DE98ZZZ09999999999",
    )


def test_a_generated_statement_is_matched_posted_and_reported(aws: Aws) -> None:
    day = Day(aws)

    report = day.importer().run(read_statement(day.camt()))

    assert (report.entries, report.matched, report.unmatched, report.duplicates) == (7, 6, 1, 0)
    assert report.by_rule == {
        "end_to_end": 1,
        "invoice_number": 2,
        "customer_amount": 1,
        "collection_batch": 1,
        "debit_return": 1,
    }
    (c0, n0, g0), (c1, _n1, g1), (c2, _n2, g2), (c3, _n3, g3) = day.invoices
    assert report.received == g0 + g1 + g2 + g3 + g1
    assert (report.returned, report.return_fees) == (g0, Decimal("5.00"))
    accounts = ledger(day.settings, aws.dynamodb).accounts([c0, c1, c2, c3])
    assert accounts[c0].item(n0).status == "returned"  # type: ignore[union-attr]
    assert accounts[c0].balance == g0 + Decimal("5.00")
    assert (accounts[c1].balance, accounts[c1].unapplied_credit) == (-g1, g1)
    assert accounts[c2].balance == accounts[c3].balance == Decimal("0.00")
    for account in accounts.values():
        open_sum = total(item.open for item in account.open_items())
        assert open_sum == account.balance + account.unapplied_credit
    mandate = next(i for i in aws.scan("Contracts") if str(i["sk"]).endswith(f"MANDATE#M-{c0}"))
    assert (mandate["revoked_reason"], mandate["revoked_on"]) == ("AC04", "2026-12-08")
    (aside,) = DynamoDecisions(aws.dynamodb, aws.stack.table_names["Control"]).unmatched()
    assert aside.transaction.remittance == "Spende Vereinsfest"


def test_the_same_statement_imported_again_posts_nothing(aws: Aws) -> None:
    day = Day(aws)
    day.importer().run(read_statement(day.camt()))
    before = day.postings()

    again = day.importer().run(read_statement(day.camt()))

    assert (again.duplicates, again.matched, again.postings) == (7, 0, 0)
    assert day.postings() == before


class FailingDynamoDB:
    """The embedded DynamoDB, losing the connection after ``writes`` batch writes."""

    def __init__(self, client: Any, writes: int) -> None:
        self._client = client
        self.writes = writes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, **request: Any) -> Any:
        if self.writes <= 0:
            raise EndpointConnectionError(endpoint_url="http://dynamodb")
        self.writes -= 1
        return self._client.batch_write_item(**request)


@pytest.mark.parametrize("writes", [0, 1, 2, 3, 5])
def test_an_import_that_failed_half_way_is_run_again_without_double_postings(
    aws: Aws, writes: int
) -> None:
    day = Day(aws)
    data = day.camt()

    with pytest.raises(EndpointConnectionError):
        day.importer(FailingDynamoDB(aws.dynamodb, writes), chunk=2).run(read_statement(data))
    report = day.importer(chunk=2).run(read_statement(data))

    decisions = DynamoDecisions(aws.dynamodb, aws.stack.table_names["Control"])
    ids = [t.transaction_id for s in read_statement(data).statements for t in s.transactions]
    decided = decisions.decided(ids)
    expected = {p.posting_id for d in decided.values() for p in d.postings}
    stored = [json.loads(i["posting"]) for i in day.postings().values()]
    assert len(decided) == 7
    assert sorted(p["posting_id"] for p in stored) == sorted(expected)
    (_, _, _), (c1, _n1, g1), _, _ = day.invoices
    second = decided[ids[5]]
    assert [(p.customer_id, p.item, p.amount) for p in second.postings] == [(c1, None, -g1)]
    assert report.entries == 7
    assert len(decisions.unmatched()) == 1


def test_a_statement_file_landing_in_s3_is_imported_by_the_function(aws: Aws) -> None:
    day = Day(aws)
    work = aws.stack.bucket_names["Work"]

    aws.s3.put_object(Bucket=work, Key="statements/2026-12-03.xml", Body=day.camt())
    aws.s3.put_object(Bucket=work, Key="statements/broken.xml", Body=b"<Document><oops")
    poller = QueuePoller(aws.clients, aws.stack)
    (source,) = [s for s in spec.EVENT_SOURCES if s.queue_id == spec.STATEMENTS_QUEUE.id]
    polled = [poller.poll_once(source) for _ in range(3)]

    assert polled == [(1, 0), (1, 0), (0, 0)]
    report = aws.read_json("statement-reports/2026-12-03.xml.json")
    assert (report["entries"], report["matched"], report["unmatched"]) == (7, 6, 1)
    refused = aws.read_json("statement-reports/broken.xml.json")
    assert refused["key"] == "statements/broken.xml"
    assert refused["error"]["field"] == "Document"
    assert refused["error"]["reason"]
    assert len(day.postings()) == report["postings"]


def test_a_statement_of_a_foreign_account_posts_nothing(aws: Aws) -> None:
    day = Day(aws)
    statement = bank.BankStatement(day.items, account=bank.Account(iban="DE89370400440532013000"))

    report = day.importer().run(read_statement(bank.camt053(statement)))

    assert (report.matched, report.unmatched) == (0, 7)
    assert day.postings() == {}


def test_a_sum_settling_hundreds_of_collections_is_stored_in_parts_and_reimported(
    aws: Aws,
) -> None:
    day = Day(aws)
    customers = [customer for customer, _, _ in day.invoices]
    collections = tuple(
        Collection(
            customer_id=customers[index % 4],
            item=f"X{index:05d}",
            amount=Decimal("1.00"),
            end_to_end_id=f"{customers[index % 4]}-X{index:05d}",
            mandate_reference="M",
            sequence="RCUR",
        )
        for index in range(600)
    )
    DynamoCollectionBatches(aws.dynamodb, aws.stack.table_names["Control"]).record(
        CollectionBatch(
            payment_info_id="PMT-BIG",
            file_id="DD-BIG",
            collection_date=DAY,
            collections=collections,
        )
    )
    booked = bank.Batch(
        tuple(bank.Booking(Decimal("1.00"), DAY, end_to_end_id="E") for _ in range(600)),
        payment_info_id="PMT-BIG",
        as_sum=True,
    )
    data = bank.camt053(bank.BankStatement([booked], account=bank.Account(iban=OUR_IBAN)))

    first = day.importer().run(read_statement(data))
    again = day.importer().run(read_statement(data))

    (transaction,) = read_statement(data).statements[0].transactions
    decisions = DynamoDecisions(aws.dynamodb, aws.stack.table_names["Control"])
    decision = decisions.decided([transaction.transaction_id])[transaction.transaction_id]
    parts = [i for i in aws.scan("Control") if str(i["sk"]).startswith("PART#")]
    assert (first.by_rule, first.postings) == ({"collection_batch": 1}, 600)
    assert (again.duplicates, again.postings) == (1, 0)
    assert len(decision.postings) == 600
    assert total(p.amount for p in decision.postings) == Decimal("-600.00")
    assert len(parts) == 3


@pytest.fixture
def aws_in_parts() -> Iterator[Aws]:
    """The stack with files of over 100 bytes imported in parts of at most two entries."""
    from localaws import embedded

    if os.environ.get("BILLING_TEST_TARGET") == "localstack":
        pytest.skip(LOCALSTACK_CANNOT)
    overrides = {
        "BILLING_SHARD_COUNT": str(SHARDS),
        "BILLING_STATEMENT_PARTS_FROM_BYTES": "100",
        "BILLING_STATEMENT_PART_ENTRIES": "2",
    }
    with embedded.in_process(overrides) as stack:
        yield Aws(stack)


def _poll_statements(aws: Aws) -> list[tuple[int, int]]:
    poller = QueuePoller(aws.clients, aws.stack)
    (source,) = [s for s in spec.EVENT_SOURCES if s.queue_id == spec.STATEMENTS_QUEUE.id]
    return [poller.poll_once(source) for _ in range(2)]


def _put_statement(aws: Aws, key: str, body: bytes) -> list[tuple[int, int]]:
    """Put the file as a bank upload would, deliver S3's notice, and wait for the imports."""
    aws.s3.put_object(Bucket=aws.stack.bucket_names["Work"], Key=key, Body=body)
    polled = _poll_statements(aws)
    _import_executions(aws)
    return polled


def _lock_is_free(aws: Aws) -> bool:
    return not any(i["pk"] == "PAYMENT-IMPORT" and i["sk"] == "LOCK" for i in aws.scan("Control"))


def _import_executions(aws: Aws) -> list[dict[str, Any]]:
    arn = aws.stack.state_machine_arns[spec.PAYMENT_IMPORT_RUN.id]
    listed = aws.stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    return [aws._wait(execution["executionArn"]) for execution in listed]


def test_a_large_statement_file_is_imported_in_parts_by_the_state_machine(
    aws_in_parts: Aws,
) -> None:
    aws = aws_in_parts
    day = Day(aws)

    polled = _put_statement(aws, "statements/2026-12-03.xml", day.camt())

    assert polled[0] == (1, 0)
    assert [e["status"] for e in _import_executions(aws)] == ["SUCCEEDED"]
    assert _lock_is_free(aws)
    report = aws.read_json("statement-reports/2026-12-03.xml.json")
    assert (report["entries"], report["matched"], report["unmatched"]) == (7, 6, 1)
    assert report["parts"] == 4
    assert report["missing_parts"] == []
    assert report["by_rule"] == {
        "collection_batch": 1,
        "customer_amount": 1,
        "debit_return": 1,
        "end_to_end": 1,
        "invoice_number": 2,
    }
    assert len(day.postings()) == report["postings"]


def test_the_same_large_file_again_is_one_execution_and_a_copy_posts_nothing_new(
    aws_in_parts: Aws,
) -> None:
    aws = aws_in_parts
    day = Day(aws)
    _put_statement(aws, "statements/2026-12-03.xml", day.camt())
    posted = day.postings()

    _put_statement(aws, "statements/2026-12-03.xml", day.camt())
    _put_statement(aws, "statements/2026-12-03-copy.xml", day.camt())

    assert [e["status"] for e in _import_executions(aws)] == ["SUCCEEDED", "SUCCEEDED"]
    copy = aws.read_json("statement-reports/2026-12-03-copy.xml.json")
    assert (copy["entries"], copy["duplicates"], copy["postings"]) == (7, 7, 0)
    assert day.postings() == posted


def test_a_large_file_that_is_no_statement_is_refused_by_the_import_in_parts(
    aws_in_parts: Aws,
) -> None:
    aws = aws_in_parts

    _put_statement(aws, "statements/broken.xml", b"<Document><oops" * 20)

    assert [e["status"] for e in _import_executions(aws)] == ["SUCCEEDED"]
    refused = aws.read_json("statement-reports/broken.xml.json")
    assert refused["key"] == "statements/broken.xml"
    assert refused["error"]["field"]
    assert refused["error"]["reason"]
    assert _lock_is_free(aws)
