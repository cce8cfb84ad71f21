"""Order intake on the embedded AWS: the real handler, the local HTTP front end, races, feeds."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from localaws.embedded import client_factory
from localaws.http_api import LocalIssuer, serve
from localaws.queue_poller import QueuePoller
from shared.orders.errors import UnavailableError
from shared.orders.requests import OrderRequest
from shared.orders.rules import shipped_rules
from shared.orders.service import OrderService, PlaceCommand
from shared.periods import Period
from shared.settings import Settings
from shared.storage.dynamodb import DynamoContracts
from shared.wiring import order_service
from tests.integration.conftest import Aws
from tests.unit.order_fakes import event, sample_order

THREADS = 12


def invoke(aws: Aws, path: str, body: Any, *, key: str | None = None) -> tuple[int, Any]:
    payload = event(path, json.dumps(body), key=key)
    result, error = aws.invoke("billing-order-intake", payload)
    assert error is None, result
    return result["statusCode"], json.loads(result["body"])


def test_an_order_through_the_handler_lands_where_the_invoice_run_reads(aws: Aws) -> None:
    status, receipt = invoke(aws, "/orders", sample_order(), key="order-0001")

    assert status == 201, receipt
    contracts = DynamoContracts(aws.dynamodb, aws.stack.table_names["Contracts"])
    customer_id = receipt["customer_id"]
    shards = [contracts.load_shard(shard, Period(2026, 11)) for shard in range(4)]
    (snapshot,) = [s for s in shards if any(c.customer_id == customer_id for c in s.customers)]
    ids = {p.position_id for p in snapshot.positions[customer_id]}
    expected = {p["position_id"] for c in receipt["contracts"] for p in c["positions"]}
    assert ids == expected
    mandates = [i for i in aws.scan("Contracts") if i.get("kind") == "mandate"]
    assert json.loads(mandates[0]["data"])["reference"] == receipt["mandate_reference"]


def test_a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing(aws: Aws) -> None:
    first = invoke(aws, "/orders", sample_order(), key="order-0002")
    items = len(aws.scan("Contracts")) + len(aws.scan("Orders"))

    again = invoke(aws, "/orders", sample_order(), key="order-0002")
    other = invoke(aws, "/orders", sample_order(shop_reference="X"), key="order-0002")

    assert first == again
    assert len(aws.scan("Contracts")) + len(aws.scan("Orders")) == items
    assert other[0] == 422
    assert other[1]["error"]["code"] == "idempotency_key_reused"
    assert len(aws.scan("Idempotency")) == 1


def test_an_upgrade_and_a_withdrawal_through_the_handler(aws: Aws) -> None:
    _, receipt = invoke(aws, "/orders", sample_order(), key="order-0003")
    package = receipt["contracts"][0]["contract_id"]

    status, changed = invoke(
        aws,
        f"/contracts/{package}/changes",
        {"type": "upgrade", "product": "HOST-L"},
        key="upgrade-0001",
    )
    assert status == 200, changed
    assert changed["contract"]["product"] == "HOST-L"
    status, withdrawn = invoke(aws, f"/orders/{receipt['order_id']}/cancel", {}, key="cancel-0001")
    assert status == 200, withdrawn
    assert withdrawn["status"] == "cancelled"
    assert invoke(aws, "/orders/ONOSUCHORDER/cancel", {})[0] == 404


def _race(work: Callable[[int], bool]) -> int:
    barrier = threading.Barrier(THREADS)
    wins: list[int] = []

    def run(index: int) -> None:
        barrier.wait()
        if work(index):
            wins.append(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(wins)


def _place(service: OrderService, index: int, order: dict[str, Any]) -> bool:
    command = PlaceCommand(
        order=OrderRequest.model_validate(order),
        order_id=f"ORACE{index:016d}",
        source="test",
        request_hash=str(index),
    )
    try:
        service.place(command)
    except UnavailableError:
        return False
    return True


def test_concurrent_orders_for_one_domain_have_exactly_one_winner(aws: Aws) -> None:
    services = [order_service(Settings(), aws.clients("dynamodb")) for _ in range(THREADS)]
    order = sample_order(items=[{"product": "DOM-DE", "domains": ["wettlauf.de"]}])

    assert _race(lambda index: _place(services[index], index, order)) == 1
    holds = [i for i in aws.scan("Orders") if i["pk"] == "DOMAIN#wettlauf.de"]
    assert len(holds) == 1


def test_concurrent_orders_for_the_last_units_never_oversell(aws: Aws) -> None:
    rules = replace_stock(3)
    services = [
        replace(order_service(Settings(), aws.clients("dynamodb")), rules=rules)
        for _ in range(THREADS)
    ]
    order = sample_order(items=[{"product": "DED-1"}])

    assert _race(lambda index: _place(services[index], index, order)) == 3
    (stock,) = [i for i in aws.scan("Orders") if i["pk"] == "STOCK#DED-1"]
    assert stock["reserved"] == 3
    assert len(stock["holders"]) == 3


def replace_stock(units: int) -> Any:
    rules = shipped_rules()
    return rules.model_copy(update={"capacity": {"DED-1": units}})


@pytest.fixture
def http_api(aws: Aws) -> Iterator[tuple[str, LocalIssuer]]:
    issuer = LocalIssuer.generate()
    server = serve(0, lambda: client_factory()("lambda"), issuer)
    try:
        yield server.url, issuer
    finally:
        server.shutdown()


def test_the_shop_orders_through_the_local_http_front_end(http_api: tuple[str, LocalIssuer]):
    url, issuer = http_api
    shop = {"Authorization": "Bearer " + issuer.shop_token()}
    customer = {"Authorization": "Bearer " + issuer.token("C0000001")}
    no_scope = {"Authorization": "Bearer " + issuer.shop_token(scope="orders/read")}
    body = sample_order(items=[{"product": "DOM-COM", "domains": ["http-weg.com"]}])

    created = requests.post(f"{url}/orders", json=body, headers=shop, timeout=30)
    assert created.status_code == 201, created.text
    assert (
        requests.post(f"{url}/orders", json=body, headers=customer, timeout=30).status_code == 401
    )
    assert (
        requests.post(f"{url}/orders", json=body, headers=no_scope, timeout=30).status_code == 403
    )
    bad = requests.post(f"{url}/orders", data=b"{", headers=shop, timeout=30)
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"][0]["field"] == "body"


def test_concurrent_http_orders_for_one_domain_get_one_201(http_api: tuple[str, LocalIssuer]):
    url, issuer = http_api
    shop = {"Authorization": "Bearer " + issuer.shop_token()}
    statuses: list[int] = []

    def post(index: int) -> bool:
        body = sample_order(
            items=[{"product": "DOM-NET", "domains": ["gleichzeitig.net"]}],
            shop_reference=f"race-{index}",
        )
        answer = requests.post(f"{url}/orders", json=body, headers=shop, timeout=60)
        statuses.append(answer.status_code)
        return answer.status_code == 201

    assert _race(post) == 1
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)


FEED = [
    {
        "source": "crm",
        "record_id": "r1",
        "type": "order",
        "ordered_on": "2026-11-12",
        "order": sample_order(items=[{"product": "HOST-S"}]),
    },
    {
        "source": "crm",
        "record_id": "r2",
        "type": "order",
        "order": sample_order(items=[{"product": "CREDIT-GOODWILL", "quantity": 2}]),
    },
    {
        "source": "crm",
        "record_id": "r3",
        "type": "order",
        "order": sample_order(items=[{"product": "HOST-XXL"}]),
    },
    {"source": "crm", "record_id": "r4", "type": "cancel_order"},
]


def test_a_feed_file_applies_each_record_alone_and_a_retry_applies_nothing(aws: Aws) -> None:
    lines = "\n".join(json.dumps(record) for record in FEED) + "\nnot json\n"
    bucket = aws.stack.bucket_names["Work"]
    poller = QueuePoller(aws.clients, aws.stack)

    aws.s3.put_object(Bucket=bucket, Key="feeds/incoming/crm-1.jsonl", Body=lines.encode())
    poller.drain()
    orders = [i for i in aws.scan("Orders") if i["pk"].startswith("ORDER#")]
    aws.s3.put_object(Bucket=bucket, Key="feeds/incoming/crm-1.jsonl", Body=lines.encode())
    poller.drain()

    assert len(orders) == 2
    assert len([i for i in aws.scan("Orders") if i["pk"].startswith("ORDER#")]) == 2
    rejects_body = aws.s3.get_object(Bucket=bucket, Key="feeds/rejects/crm-1.jsonl.rejects.jsonl")
    rejects = [json.loads(line) for line in rejects_body["Body"].read().splitlines()]
    assert [(r["line"], r["record_id"]) for r in rejects] == [(3, "r3"), (4, "r4"), (5, None)]
    assert (
        rejects[0]["errors"][0]["field"] == "order.items[0].product"
        or rejects[0]["errors"][0]["field"] == "items[0].product"
    )


def test_single_records_on_the_queue_and_their_rejects(aws: Aws) -> None:
    sqs = aws.clients("sqs")
    url = aws.stack.queue_urls["OrderFeed"]
    good = dict(FEED[0], record_id="q1")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(good))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(good))
    sqs.send_message(QueueUrl=url, MessageBody="{broken")

    QueuePoller(aws.clients, aws.stack).drain()

    assert len([i for i in aws.scan("Orders") if i["pk"].startswith("ORDER#")]) == 1
    listing = aws.s3.list_objects_v2(
        Bucket=aws.stack.bucket_names["Work"], Prefix="feeds/rejects/messages/"
    )
    assert listing["KeyCount"] == 1
    dead = aws.clients("sqs").get_queue_attributes(
        QueueUrl=aws.stack.queue_urls["OrderFeedDeadLetters"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0"
