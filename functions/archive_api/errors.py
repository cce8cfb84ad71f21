"""The archive API's errors and the one place that turns them into HTTP answers, by type."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from functions.http_errors import ErrorBody, answer_of, error_response, register_fallbacks
from shared.archive import ArchiveRequestError, InvalidQueryError, NotPermittedError

logger = Logger(service="archive_api", child=True)


class ArchiveApiError(Exception):
    """A request the archive API refuses; the message is safe to show to the caller."""


class NotSignedInError(ArchiveApiError):
    """The request carries no verified customer id."""


class InvalidParameterError(ArchiveApiError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DocumentNotFoundError(ArchiveApiError):
    """No such document for the signed-in customer, whether or not another customer has one."""


RefusedRequest = ArchiveApiError | ArchiveRequestError

_ANSWERS: dict[type[Exception], tuple[HTTPStatus, str]] = {
    ArchiveApiError: (HTTPStatus.BAD_REQUEST, "bad_request"),
    ArchiveRequestError: (HTTPStatus.BAD_REQUEST, "bad_request"),
    InvalidQueryError: (HTTPStatus.BAD_REQUEST, "invalid_parameter"),
    NotPermittedError: (HTTPStatus.FORBIDDEN, "forbidden"),
    NotSignedInError: (HTTPStatus.UNAUTHORIZED, "not_signed_in"),
    InvalidParameterError: (HTTPStatus.BAD_REQUEST, "invalid_parameter"),
    DocumentNotFoundError: (HTTPStatus.NOT_FOUND, "not_found"),
}


def answer_for(error: RefusedRequest) -> Response[ErrorBody]:
    status, code = answer_of(error, _ANSWERS)
    message = str(error)
    if isinstance(error, InvalidParameterError | InvalidQueryError):
        message = f"{error.field}: {message}"
    return error_response(status, code, message)


def register(app: APIGatewayHttpResolver) -> None:
    """Install the error answers on the resolver."""
    app.exception_handler([ArchiveApiError, ArchiveRequestError])(answer_for)
    app.exception_handler(RequestValidationError)(_invalid_request)
    register_fallbacks(app, logger)


def _invalid_request(error: RequestValidationError) -> Response[ErrorBody]:
    """The resolver's own validation (a parameter given twice): named, its value not echoed."""
    names = [str(problem.get("loc", ("", "?"))[-1]) for problem in error.errors()]
    field = names[0] if names else "request"
    return error_response(
        HTTPStatus.BAD_REQUEST, "invalid_parameter", field + ": must be given once, as text"
    )
