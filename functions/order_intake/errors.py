"""The one place that turns order intake's errors into HTTP answers, by type."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

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

ANSWERS: dict[type[OrderError], tuple[HTTPStatus, str]] = {
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

ErrorBody = dict[str, dict[str, Any]]


def error_response(
    status: HTTPStatus, code: str, message: str, problems: tuple[Problem, ...] = ()
) -> Response[ErrorBody]:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems:
        error["fields"] = [problem.as_dict() for problem in problems]
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error},
    )


def status_of(error: OrderError) -> tuple[HTTPStatus, str]:
    return next(ANSWERS[kind] for kind in type(error).__mro__ if kind in ANSWERS)


def answer_for(error: OrderError) -> Response[ErrorBody]:
    status, code = status_of(error)
    logger.info(
        "order request refused",
        extra={"status": status.value, "code": code, "fields": [p.field for p in error.problems]},
    )
    return error_response(status, code, str(error), error.problems)


def register(app: APIGatewayHttpResolver) -> None:
    """Install the error answers on the resolver."""
    app.exception_handler(OrderError)(answer_for)
    app.exception_handler(IdempotencyValidationError)(_reused)
    app.exception_handler(IdempotencyAlreadyInProgressError)(_in_progress)
    app.not_found(_no_route)
    app.exception_handler(Exception)(_unexpected)


def _reused(_: IdempotencyValidationError) -> Response[ErrorBody]:
    problem = Problem("idempotency-key", "reused", "came before with another request")
    return answer_for(
        RequestReusedError("the idempotency key was used for another request", [problem])
    )


def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[ErrorBody]:
    return error_response(
        HTTPStatus.CONFLICT, "in_progress", "a request with this idempotency key is still running"
    )


def _no_route(_: NotFoundError) -> Response[ErrorBody]:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such resource")


def _unexpected(error: Exception) -> Response[ErrorBody]:
    logger.error("request failed", exc_info=error, extra={"error_type": type(error).__name__})
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "the request could not be served"
    )
