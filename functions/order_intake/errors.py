"""The one place that turns order intake's errors into HTTP answers, by type."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from functions.http_errors import ErrorBody, answer_of, error_response, register_fallbacks
from shared.orders.errors import (
    ChangeRefusedError,
    ConcurrentChangeError,
    ContractNotFoundError,
    ImplausibleOrderError,
    MalformedRequestError,
    OrderError,
    OrderNotFoundError,
    Problem,
    RequestReusedError,
    RequestTooLargeError,
    UnavailableError,
)

logger = Logger(service="order_intake", child=True)

ANSWERS: dict[type[Exception], tuple[HTTPStatus, str]] = {
    OrderError: (HTTPStatus.BAD_REQUEST, "bad_request"),
    RequestTooLargeError: (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request_too_large"),
    MalformedRequestError: (HTTPStatus.BAD_REQUEST, "malformed_request"),
    ImplausibleOrderError: (HTTPStatus.UNPROCESSABLE_ENTITY, "implausible_order"),
    ChangeRefusedError: (HTTPStatus.UNPROCESSABLE_ENTITY, "change_refused"),
    RequestReusedError: (HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
    UnavailableError: (HTTPStatus.CONFLICT, "unavailable"),
    ConcurrentChangeError: (HTTPStatus.CONFLICT, "concurrent_change"),
    OrderNotFoundError: (HTTPStatus.NOT_FOUND, "order_not_found"),
    ContractNotFoundError: (HTTPStatus.NOT_FOUND, "contract_not_found"),
}


def status_of(error: OrderError) -> tuple[HTTPStatus, str]:
    return answer_of(error, ANSWERS)


def answer_for(error: OrderError) -> Response[ErrorBody]:
    status, code = status_of(error)
    logger.info(
        "order request refused",
        extra={"status": status.value, "code": code, "fields": [p.field for p in error.problems]},
    )
    return error_response(status, code, str(error), [p.as_dict() for p in error.problems])


def register(app: APIGatewayHttpResolver) -> None:
    """Install the error answers on the resolver."""
    app.exception_handler(OrderError)(answer_for)
    app.exception_handler(IdempotencyValidationError)(_reused)
    app.exception_handler(IdempotencyAlreadyInProgressError)(_in_progress)
    register_fallbacks(app, logger)


def _reused(_: IdempotencyValidationError) -> Response[ErrorBody]:
    problem = Problem("idempotency-key", "reused", "came before with another request")
    return answer_for(
        RequestReusedError("the idempotency key was used for another request", [problem])
    )


def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[ErrorBody]:
    return error_response(
        HTTPStatus.CONFLICT, "in_progress", "a request with this idempotency key is still running"
    )
