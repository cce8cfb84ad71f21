"""Integration tests run against the embedded AWS (moto in this process, handlers in process)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from cli.seed import Hoster, synthetic_hoster
from localaws import embedded
from localaws.provision import LocalStack
from shared.storage.dynamodb import DynamoContracts

SHARDS = 4
PERIOD_START = date(2026, 11, 1)
ISSUE_DATE = "2026-12-01"


class Aws:
    """The provisioned local stack plus clients and a few steps the tests share."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.clients = embedded.client_factory()
        self.dynamodb = self.clients("dynamodb")
        self.s3 = self.clients("s3")
        self.stepfunctions = self.clients("stepfunctions")
        self.lambda_ = self.clients("lambda")

    def seed(self, customers: int, *, seed: int = 7) -> Hoster:
        hoster = synthetic_hoster(
            customers, shard_count=SHARDS, period_start=PERIOD_START, seed=seed
        )
        contracts = DynamoContracts(self.dynamodb, self.stack.table_names["Contracts"])
        contracts.save_customers(hoster.customers)
        contracts.save_positions(hoster.shards, hoster.positions)
        contracts.save_mandates(hoster.shards, hoster.mandates)
        return hoster

    def run(self, name: str, *, period: str = "2026-11", dry_run: bool = False) -> dict[str, Any]:
        """Start the state machine, wait for it, and return the execution's report."""
        payload = {"period": period, "issue_date": ISSUE_DATE, "dry_run": dry_run}
        arn = self.stepfunctions.start_execution(
            stateMachineArn=self.stack.invoice_run_arn, name=name, input=json.dumps(payload)
        )["executionArn"]
        execution = self._wait(arn)
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        return self.read_json(f"runs/run-{period}/{name}/report.json")

    def read_json(self, key: str) -> Any:
        body = self.s3.get_object(Bucket=self.stack.bucket_names["Work"], Key=key)["Body"]
        return json.loads(body.read())

    def scan(self, table_id: str) -> list[dict[str, Any]]:
        from shared.storage.dynamodb import from_item

        paginator = self.dynamodb.get_paginator("scan")
        pages = paginator.paginate(TableName=self.stack.table_names[table_id])
        return [from_item(item) for page in pages for item in page["Items"]]

    def invoices(self) -> list[dict[str, Any]]:
        return [i for i in self.scan("Documents") if i.get("document_type") == "invoice"]

    def invoke(self, function: str, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        response = self.lambda_.invoke(FunctionName=function, Payload=json.dumps(event))
        return json.loads(response["Payload"].read()), response.get("FunctionError")

    def _wait(self, arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            execution = self.stepfunctions.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                return dict(execution)
            time.sleep(0.1)
        raise AssertionError("execution did not finish within 300 s")


LOCALSTACK_CANNOT = (
    "needs DynamoDB and Lambda, which LocalStack cannot run on a machine without Docker "
    "(DynamoDB Local is a download, Lambda's only executor is Docker)"
)


@pytest.fixture
def aws() -> Iterator[Aws]:
    if os.environ.get("BILLING_TEST_TARGET") == "localstack":
        pytest.skip(LOCALSTACK_CANNOT)
    with embedded.in_process({"BILLING_SHARD_COUNT": str(SHARDS)}) as stack:
        yield Aws(stack)
