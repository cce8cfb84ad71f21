"""The error shape every HTTP API of ours answers with, and the answers no API differs in.

Each API keeps its own table from exception type to status and code (its ``errors`` module);
this module looks a type up in such a table, builds the one JSON body
``{"error": {"code", "message", "fields"?}}``, and installs the answers for an unknown route
and for an unexpected failure, which say nothing about the cause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

ErrorBody = dict[str, dict[str, Any]]
Answers = Mapping[type[Exception], tuple[HTTPStatus, str]]


def error_response(
    status: HTTPStatus, code: str, message: str, fields: Sequence[dict[str, str]] = ()
) -> Response[ErrorBody]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = list(fields)
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error},
    )


def answer_of(error: Exception, answers: Answers) -> tuple[HTTPStatus, str]:
    """The status and code of the most specific type of ``error`` the table names."""
    return next(answers[kind] for kind in type(error).__mro__ if kind in answers)


def register_fallbacks(app: APIGatewayHttpResolver, logger: Logger) -> None:
    """404 for a route the API does not have; 500 that names nothing for anything unexpected."""

    def no_route(_: NotFoundError) -> Response[ErrorBody]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    def unexpected(error: Exception) -> Response[ErrorBody]:
        logger.error("request failed", exc_info=error, extra={"error_type": type(error).__name__})
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "the request could not be served"
        )

    app.not_found(no_route)
    app.exception_handler(Exception)(unexpected)
