"""Customer A against customer B's documents, by every route and trick, through the front end.

Every attempt ends in 401, 403 or 404, and no answer tells anything about B: not a number, not
an id, not whether B's document exists. Paths go out raw (http.client), so no client library
normalises the tricks away.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import spec
from tests.integration.test_archive_api import ALICE, BOB, Archive, served_archive

BOBS_FIRST = "RE-2026-00000002"
MISSING = "RE-2026-99999999"
GATEWAY_NOT_FOUND = {"message": "Not Found"}
UNAUTHORIZED = {"message": "Unauthorized"}


@pytest.fixture(scope="module")
def api() -> Iterator[Archive]:
    yield from served_archive()


def raw_get(api: Archive, target: str, token: str | None) -> tuple[int, bytes]:
    parts = urlsplit(api.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": "Bearer " + token} if token else {}
    try:
        connection.request("GET", target, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def assert_tells_nothing_of_bob(api: Archive, body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    assert BOB not in text
    assert not [number for number in api.numbers[BOB] if number in text]
    assert "Kunde" not in text


# --- routes and parameters, with Alice's valid token ---


@pytest.mark.parametrize("suffix", ["", "/pdf", "/xml"])
def test_bobs_number_on_every_document_route_answers_like_a_missing_one(api: Archive, suffix: str):
    token = api.as_customer(ALICE)

    foreign = raw_get(api, f"/documents/{BOBS_FIRST}{suffix}", token)
    missing = raw_get(api, f"/documents/{MISSING}{suffix}", token)

    assert foreign[0] == missing[0] == 404
    assert foreign[1] == missing[1]
    assert_tells_nothing_of_bob(api, foreign[1])


def test_every_guessed_number_of_bob_is_a_404(api: Archive):
    token = api.as_customer(ALICE)

    answers = {
        number: raw_get(api, f"/documents/{number}/pdf", token) for number in api.numbers[BOB]
    }

    assert {status for status, _ in answers.values()} == {404}
    assert len({body for _, body in answers.values()}) == 1


@pytest.mark.parametrize(
    "query",
    [
        f"customer={BOB}",
        f"customer={ALICE}%2C{BOB}",
        f"customer={BOB}%00",
        f"Customer={BOB}&customer={BOB}",
        "customer=",
    ],
)
def test_naming_bob_in_the_customer_parameter_is_a_403_on_every_route(api: Archive, query: str):
    token = api.as_customer(ALICE)

    for path in (
        "/documents",
        f"/documents/{BOBS_FIRST}",
        f"/documents/{BOBS_FIRST}/xml",
        "/account",
    ):
        status, body = raw_get(api, f"{path}?{query}", token)
        assert status == 403, path
        assert json.loads(body)["error"]["code"] == "forbidden"
        assert_tells_nothing_of_bob(api, body)


def test_a_repeated_customer_parameter_is_refused_before_any_read(api: Archive):
    token = api.as_customer(ALICE)

    foreign = raw_get(api, f"/documents?customer={ALICE}&customer={BOB}", token)
    own = raw_get(api, f"/documents?customer={ALICE}&customer={ALICE}", token)

    assert foreign[0] == own[0] == 400
    assert foreign[1] == own[1]
    assert json.loads(foreign[1])["error"] == {
        "code": "invalid_parameter",
        "message": "customer: must be given once, as text",
    }


@pytest.mark.parametrize(
    "query",
    [f"sub={BOB}", f"customer_id={BOB}", f"billing_role=staff&sub={BOB}", f"pk=CUST%23{BOB}"],
)
def test_other_parameters_naming_bob_are_ignored(api: Archive, query: str):
    status, body = raw_get(api, f"/documents?{query}", api.as_customer(ALICE))

    assert status == 200
    listed = {document["number"] for document in json.loads(body)["documents"]}
    assert listed == set(api.numbers[ALICE])
    assert_tells_nothing_of_bob(api, body)


def test_alices_account_tells_nothing_of_bob(api: Archive):
    status, body = raw_get(api, "/account", api.as_customer(ALICE))

    assert status == 200
    assert json.loads(body)["customer_id"] == ALICE
    assert_tells_nothing_of_bob(api, body)


@pytest.mark.parametrize(
    "target",
    [
        f"/account/{BOB}",
        f"/account%2F{BOB}",
        f"/account?sub={BOB}",
        f"/account;customer={BOB}",
        f"/accounts/{BOB}",
    ],
)
def test_account_path_tricks_reach_nothing_of_bob(api: Archive, target: str):
    status, body = raw_get(api, target, api.as_customer(ALICE))

    assert status in (200, 404), body
    if status == 200:
        assert json.loads(body)["customer_id"] == ALICE
    assert_tells_nothing_of_bob(api, body)


@pytest.mark.parametrize(
    "target",
    [
        f"/documents/..%2F..%2Fcustomers%2F{BOB}%2Fdocuments/pdf",
        f"/documents/..%2F{BOBS_FIRST}/pdf",
        f"/documents/%2E%2E%2F{BOBS_FIRST}/xml",
        f"/documents/{BOBS_FIRST}%2Fpdf",
        f"/documents/{BOBS_FIRST}%252Fpdf",
        f"/documents/{BOBS_FIRST}%00/pdf",
        f"/documents/{BOBS_FIRST}%20/pdf",
        f"/documents/{BOBS_FIRST};customer={BOB}/pdf",
        f"/documents/{BOBS_FIRST.lower()}/pdf",
        f"/documents/{BOBS_FIRST}/pdf/..",
        f"/documents/x/../{BOBS_FIRST}/pdf",
        f"/documents/./{BOBS_FIRST}",
        f"/documents//{BOBS_FIRST}/pdf",
        f"/customers/{BOB}/documents",
        f"/documents/CUST%23{BOB}",
        f"/documents/DOC%232026-02-01%23{BOBS_FIRST}",
        f"/documents/{BOBS_FIRST}%23/xml",
    ],
)
def test_path_tricks_reach_nothing_of_bob(api: Archive, target: str):
    status, body = raw_get(api, target, api.as_customer(ALICE))

    assert status == 404, body
    assert json.loads(body) in (
        GATEWAY_NOT_FOUND,
        {"error": {"code": "not_found", "message": "no document with this number"}},
    )
    assert_tells_nothing_of_bob(api, body)


def test_a_cursor_forged_for_bobs_partition_lists_nothing_of_bob(api: Archive):
    key = {"pk": {"S": f"CUST#{BOB}"}, "sk": {"S": "DOC#9999"}}
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

    status, body = raw_get(api, f"/documents?cursor={cursor}", api.as_customer(ALICE))

    assert status == 400
    assert_tells_nothing_of_bob(api, body)


# --- tokens ---


def _claims(api: Archive, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": api.issuer.issuer,
        "aud": spec.JWT_AUDIENCE,
        "sub": ALICE,
        spec.JWT_ROLE_CLAIM: "customer",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _unsigned(api: Archive, **changes: Any) -> str:
    header = _segment({"alg": "none", "typ": "JWT", "kid": api.issuer.key_id})
    return f"{header}.{_segment(_claims(api, **changes))}."


def _hmac_with_public_key(api: Archive) -> str:
    """The old algorithm-confusion attack: HS256 keyed with the issuer's public key."""
    public = api.issuer.authorizer().public_keys[api.issuer.key_id]
    secret = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _segment({"alg": "HS256", "typ": "JWT", "kid": api.issuer.key_id})
    signed = f"{header}.{_segment(_claims(api, sub=BOB))}"
    signature = hmac.new(secret, signed.encode(), hashlib.sha256).digest()
    return signed + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")


def _tampered(api: Archive, **changes: Any) -> str:
    header, _, signature = api.as_customer(ALICE).split(".")
    return f"{header}.{_segment(_claims(api, **changes))}.{signature}"


def _foreign_key_same_kid(api: Archive) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(
        _claims(api, sub=BOB), key, algorithm="RS256", headers={"kid": api.issuer.key_id}
    )


TOKENS = {
    "sub changed to bob": lambda api: _tampered(api, sub=BOB),
    "staff role added": lambda api: _tampered(api, **{spec.JWT_ROLE_CLAIM: "staff"}),
    "expired": lambda api: api.issuer.sign(_claims(api, sub=BOB, exp=int(time.time()) - 60)),
    "not valid yet": lambda api: api.issuer.sign(_claims(api, nbf=int(time.time()) + 600)),
    "no expiry": lambda api: api.issuer.sign(_claims(api, exp=None)),
    "alg none": lambda api: _unsigned(api, sub=BOB),
    "alg none staff": lambda api: _unsigned(api, **{spec.JWT_ROLE_CLAIM: "staff"}),
    "unsigned, signature cut": lambda api: api.as_customer(BOB).rsplit(".", 1)[0] + ".",
    "hs256 with the public key": _hmac_with_public_key,
    "other key, same kid": _foreign_key_same_kid,
    "wrong audience": lambda api: api.issuer.sign(_claims(api, aud="billing-portal")),
    "shop audience": lambda api: api.issuer.shop_token(),
    "no audience": lambda api: api.issuer.sign(_claims(api, aud=None)),
    "wrong issuer": lambda api: api.issuer.sign(_claims(api, iss="https://evil.example")),
    "no issuer": lambda api: api.issuer.sign(_claims(api, iss=None)),
    "garbage": lambda api: "a.b.c",
}


@pytest.mark.parametrize("make_token", TOKENS.values(), ids=TOKENS.keys())
@pytest.mark.parametrize(
    "target",
    [
        f"/documents?customer={BOB}",
        f"/documents/{BOBS_FIRST}/pdf",
        f"/documents/{BOBS_FIRST}/xml",
        "/account",
        f"/account?customer={BOB}",
    ],
)
def test_a_bad_token_is_a_401_that_tells_nothing(api: Archive, make_token: Any, target: str):
    status, body = raw_get(api, target, make_token(api))

    assert status == 401
    assert json.loads(body) == UNAUTHORIZED
    assert_tells_nothing_of_bob(api, body)


def test_the_same_tricks_with_a_good_token_would_have_been_served(api: Archive):
    """The tokens above differ from good ones only by the trick."""
    status, _ = raw_get(api, "/documents", api.issuer.sign(_claims(api)))

    assert status == 200
