"""Lambda entry point of the order API: orders, withdrawals and contract changes from the shop.

The shop authenticates with an OAuth 2.0 client-credentials token that API Gateway's JWT
authorizer verifies (audience: the shop's client id, scope ``orders/write``); the client id from
the verified claims names the caller. Everything else happens in ``OrderApi``.
"""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.order_intake import errors
from functions.order_intake.api import Caller, OrderApi
from shared.orders.errors import MalformedRequestError, Problem
from shared.settings import load_settings
from shared.wiring import client, contract_changes, order_service

IDEMPOTENCY_HOURS = 24

logger = Logger(service="order_intake")
metrics = Metrics(service="order_intake")
tracer = Tracer(service="order_intake")
copy_config_to_registered_loggers(source_logger=logger, include={"shared"})

app = APIGatewayHttpResolver()
errors.register(app)
idempotency = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="request",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_HOURS * 3600,
)


@cache
def order_api() -> OrderApi:
    load_settings.cache_clear()
    settings = load_settings()
    dynamodb = client("dynamodb")
    store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=dynamodb)
    once = idempotent_function(
        data_keyword_argument="command", persistence_store=store, config=idempotency
    )(_run)
    return OrderApi(
        service=order_service(settings, dynamodb),
        changes=contract_changes(settings, dynamodb),
        once=once,
    )


def _run(*, command: dict[str, Any], action: Any) -> dict[str, Any]:
    answer: dict[str, Any] = action()
    return answer


@app.post("/orders")
def place_order() -> Response[dict[str, Any]]:
    receipt = order_api().place(caller(), body())
    logger.append_keys(order_id=receipt["order_id"], customer_id=receipt["customer_id"])
    logger.info("order answered", extra={"contracts": len(receipt["contracts"])})
    metrics.add_metric(name="OrdersAccepted", unit=MetricUnit.Count, value=1)
    return _json(HTTPStatus.CREATED, receipt)


@app.post("/orders/<order_id>/cancel")
def withdraw_order(order_id: str) -> Response[dict[str, Any]]:
    logger.append_keys(order_id=order_id)
    receipt = order_api().withdraw(caller(), order_id, body())
    metrics.add_metric(name="OrdersWithdrawn", unit=MetricUnit.Count, value=1)
    return _json(HTTPStatus.OK, receipt)


@app.post("/contracts/<contract_id>/changes")
def change_contract(contract_id: str) -> Response[dict[str, Any]]:
    logger.append_keys(contract_id=contract_id)
    answer = order_api().change(caller(), contract_id, body())
    metrics.add_metric(name="ContractsChanged", unit=MetricUnit.Count, value=1)
    return _json(HTTPStatus.OK, answer)


@logger.inject_lambda_context(
    clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_HTTP
)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    answer = app.resolve(event, context)
    if answer["statusCode"] >= HTTPStatus.BAD_REQUEST:
        metrics.add_metric(name="OrderRequestsRefused", unit=MetricUnit.Count, value=1)
    return answer


def caller() -> Caller:
    """The shop's client id from the verified token, and its Idempotency-Key."""
    claims = app.current_event.request_context.authorizer.jwt_claim or {}
    client_id = claims.get("client_id") or claims.get("sub")
    if not isinstance(client_id, str) or not client_id:
        raise MalformedRequestError(
            "the request carries no verified client",
            [Problem("authorization", "client", "missing")],
        )
    key = app.current_event.headers.get("idempotency-key")
    return Caller.checked(client_id, key)


def body() -> str | None:
    event = app.current_event
    if event.body is None:
        return None
    if not event.is_base64_encoded:
        return event.body
    try:
        return event.decoded_body
    except (UnicodeDecodeError, ValueError):
        problem = Problem("body", "encoding", "must be JSON in UTF-8")
        raise MalformedRequestError("the body is not UTF-8 text", [problem]) from None


def _json(status: HTTPStatus, document: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(
        status_code=status.value, content_type=content_types.APPLICATION_JSON, body=document
    )
