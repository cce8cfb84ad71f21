"""schemathesis against the archive API, from the /openapi.json the local front end serves.

Every operation, as a signed-in customer and as staff, with schema-valid requests (half of them
for a document the reader really has) and with schema-invalid ones: no answer is a 5xx, every
status, content type, header and body is one the document states, and invalid requests are
refused. Bounded by ``EXAMPLES`` per operation, reader and mode, and derandomized, so that a
run is repeatable (a random seed found the empty cursor, see the README).

``positive_data_acceptance`` is left out on purpose: some schema-valid requests are refused by
rules no schema states (an opaque cursor the API did not hand out, ``from`` after ``to``, a
staff token that names no customer), and those answers are 400s that the document lists; and
no case adds parameters the document does not name, which the API ignores by design.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from infra import spec
from tests.integration.test_archive_api import ALICE, BOB, TIMEOUT, Archive, served_archive

pytestmark = pytest.mark.xdist_group("archive-schema")

EXAMPLES = 30
ARCHIVE_ROUTES = [route for route in spec.ROUTES if route.api == "archive"]
STAFF_ID = "anna.schmidt"


@pytest.fixture(scope="module")
def archive_api() -> Iterator[Archive]:
    yield from served_archive()


@pytest.fixture(scope="module")
def api_schema(archive_api: Archive) -> Any:
    answer = requests.get(archive_api.url + "/openapi.json", timeout=TIMEOUT)
    assert answer.status_code == 200
    schema = schemathesis.openapi.from_dict(answer.json())
    # The API ignores parameters it does not know (test_archive_authorization checks that
    # they name nobody), so a request with one is no schema-violating request to refuse.
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


def test_the_document_describes_every_archive_route(api_schema: Any) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in api_schema.raw_schema["paths"].items()
        for method in operations
    }

    assert documented == {(route.method, route.path) for route in ARCHIVE_ROUTES}


# Negative cases need a parameter to break: the OpenAPI document's route has none.
ROUTES_AND_MODES = [
    pytest.param(route, mode, id=f"{route.path} {mode.value}")
    for route in ARCHIVE_ROUTES
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if route.authorized or mode is GenerationMode.POSITIVE
]


@pytest.mark.parametrize("reader", ["customer", "staff"])
@pytest.mark.parametrize(("route", "mode"), ROUTES_AND_MODES)
def test_every_answer_conforms_to_the_openapi_document(
    archive_api: Archive,
    api_schema: Any,
    route: spec.RouteSpec,
    mode: GenerationMode,
    reader: str,
) -> None:
    operation = api_schema[route.path][route.method]
    staff = reader == "staff"
    token = (
        archive_api.issuer.token(STAFF_ID, staff=True) if staff else archive_api.as_customer(BOB)
    )
    cases = _cases(operation, mode, staff=staff, own_number=archive_api.numbers[BOB][0])
    calls: list[int] = []

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Any) -> None:
        response = case.call_and_validate(
            base_url=archive_api.url,
            headers={"Authorization": f"Bearer {token}"},
            allow_redirects=False,
            timeout=TIMEOUT,
            excluded_checks=[positive_data_acceptance],
        )
        calls.append(response.status_code)

    answers_as_documented()

    assert calls, "schemathesis sent no request"
    assert all(status < 500 for status in calls)


def _cases(operation: Any, mode: GenerationMode, *, staff: bool, own_number: str) -> Any:
    """Generated cases; positive ones also for a real document, staff always naming Bob."""
    query = {"customer": BOB} if staff and mode is GenerationMode.POSITIVE else None
    generated = operation.as_strategy(mode, query=query)
    if mode is GenerationMode.NEGATIVE or "{number}" not in operation.path:
        return generated
    real = operation.as_strategy(mode, query=query, path_parameters={"number": own_number})
    return st.one_of(generated, real)


def test_a_real_document_is_served_as_documented_to_both_readers(
    archive_api: Archive, api_schema: Any
) -> None:
    """The generated cases above reach real documents by chance only; these always do."""
    number = archive_api.numbers[ALICE][1]
    readers = {
        "customer": (archive_api.as_customer(ALICE), {}),
        "staff": (archive_api.issuer.token(STAFF_ID, staff=True), {"customer": ALICE}),
    }
    for route in ARCHIVE_ROUTES:
        for token, query in readers.values():
            operation = api_schema[route.path][route.method]
            case = operation.Case(
                path_parameters={"number": number} if "{number}" in route.path else {},
                query=query if route.authorized else {},
            )
            response = case.call_and_validate(
                base_url=archive_api.url,
                headers={"Authorization": f"Bearer {token}"},
                allow_redirects=False,
                timeout=TIMEOUT,
                excluded_checks=[positive_data_acceptance],
            )
            assert response.status_code in {200, 302}, (route.path, response.text)
