"""The local HTTP API front end: routes, payload format 2.0 events, the JWT authorizer, answers."""

from __future__ import annotations

import base64
import hmac
import io
import json
import stat
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import spec
from localaws.http_api import (
    KEY_FILE_NAME,
    Gateway,
    IncomingRequest,
    LocalIssuer,
    UnauthorizedError,
    answer_from_proxy,
    build_event,
    claim_text,
    match_route,
)

NUMBER = "RE-2026-00000042"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer.generate()


def _claims(issuer: LocalIssuer, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "aud": spec.JWT_AUDIENCE,
        "sub": "C0000001",
        "billing_role": "customer",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _verify(issuer: LocalIssuer, token: str | None) -> dict[str, Any]:
    return issuer.authorizer().verify(None if token is None else f"Bearer {token}")


# --- routes ---


def test_the_list_route_matches_without_path_parameters():
    match = match_route("GET", "/documents")

    assert match is not None
    assert match.route_key == "GET /documents"
    assert match.path_parameters == {}


def test_the_pdf_route_matches_and_names_its_path_parameter():
    match = match_route("GET", f"/documents/{NUMBER}/pdf")

    assert match is not None
    assert match.route_key == "GET /documents/{number}/pdf"
    assert match.path_parameters == {"number": NUMBER}
    assert match.route.function_id == spec.ARCHIVE_API.id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/documents"),
        ("GET", "/documents/"),
        ("GET", "/documents/a/b/pdf"),
        ("GET", "/documents//pdf"),
        ("GET", f"/documents/{NUMBER}/json"),
        ("GET", "/"),
    ],
)
def test_paths_and_methods_outside_the_routes_match_nothing(method: str, path: str):
    assert match_route(method, path) is None


def test_path_parameters_are_url_decoded():
    match = match_route("GET", "/documents/RE%202026/pdf")

    assert match is not None
    assert match.path_parameters == {"number": "RE 2026"}


# --- events ---


def _event(
    target: str, headers: list[tuple[str, str]] | None = None, **kwargs: Any
) -> dict[str, Any]:
    request = IncomingRequest(
        method="GET",
        target=target,
        headers=headers or [("Host", "127.0.0.1:8000"), ("User-Agent", "pytest")],
        source_ip="10.1.2.3",
        **kwargs,
    )
    match = match_route("GET", request.raw_path)
    assert match is not None
    claims = {"sub": "C0000001", "billing_role": "customer", "exp": 1893456000}
    moment = datetime(2026, 3, 5, 7, 8, 9, 123000, tzinfo=UTC)
    return build_event(request, match, claims, request_id="req-1", now=moment)


def test_the_event_has_the_payload_format_2_0_shape():
    event = _event(f"/documents/{NUMBER}/pdf")

    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /documents/{number}/pdf"
    assert event["rawPath"] == f"/documents/{NUMBER}/pdf"
    assert event["rawQueryString"] == ""
    assert event["pathParameters"] == {"number": NUMBER}
    assert event["isBase64Encoded"] is False
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert "body" not in event


def test_the_request_context_carries_the_route_the_caller_and_the_time():
    context = _event(f"/documents/{NUMBER}/pdf")["requestContext"]

    assert context["accountId"] == "123456789012"
    assert context["routeKey"] == "GET /documents/{number}/pdf"
    assert context["stage"] == "$default"
    assert context["requestId"] == "req-1"
    assert context["domainName"] == "127.0.0.1"
    assert context["http"] == {
        "method": "GET",
        "path": f"/documents/{NUMBER}/pdf",
        "protocol": "HTTP/1.1",
        "sourceIp": "10.1.2.3",
        "userAgent": "pytest",
    }
    assert context["time"] == "05/Mar/2026:07:08:09 +0000"
    assert context["timeEpoch"] == 1772694489123


def test_claims_reach_the_function_as_strings_under_the_jwt_authorizer():
    jwt_context = _event("/documents")["requestContext"]["authorizer"]["jwt"]

    assert jwt_context["claims"] == {
        "sub": "C0000001",
        "billing_role": "customer",
        "exp": "1893456000",
    }
    assert jwt_context["scopes"] is None


def test_query_parameters_are_decoded_and_repeated_ones_joined_by_commas():
    event = _event("/documents?limit=5&cursor=ab%3D%3D&limit=6")

    assert event["rawQueryString"] == "limit=5&cursor=ab%3D%3D&limit=6"
    assert event["queryStringParameters"] == {"limit": "5,6", "cursor": "ab=="}


def test_headers_are_lower_cased_joined_and_cookies_moved_to_their_own_field():
    headers = [
        ("Host", "api.example"),
        ("X-Custom", "one"),
        ("x-custom", "two"),
        ("Cookie", "a=1; b=2"),
        ("Authorization", "Bearer abc"),
    ]

    event = _event("/documents", headers)

    assert event["headers"]["x-custom"] == "one,two"
    assert event["headers"]["authorization"] == "Bearer abc"
    assert event["headers"]["x-forwarded-for"] == "10.1.2.3"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert all(name == name.lower() for name in event["headers"])


def test_a_binary_body_is_base64_encoded_and_a_json_body_is_not():
    binary = _event("/documents", body=b"\x00\xff", headers=[("Content-Type", "image/png")])
    text = _event("/documents", body=b'{"a": 1}', headers=[("Content-Type", "application/json")])

    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"
    assert text["isBase64Encoded"] is False
    assert text["body"] == '{"a": 1}'


def test_powertools_reads_the_event_as_api_gateway_would_send_it():
    event = APIGatewayProxyEventV2(_event(f"/documents/{NUMBER}/pdf?limit=3"))

    assert event.request_context.authorizer.jwt_claim["sub"] == "C0000001"
    assert event.path_parameters == {"number": NUMBER}
    assert event.get_query_string_value("limit") == "3"
    assert event.route_key == "GET /documents/{number}/pdf"
    assert event.http_method == "GET"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1893456000, "1893456000"),
        (True, "true"),
        (["admin", "users"], "[admin users]"),
        ({"b": 1, "a": "x"}, "map[a:x b:1]"),
        ("C0000001", "C0000001"),
    ],
)
def test_claim_values_are_rendered_as_text(value: Any, text: str):
    assert claim_text(value) == text


# --- the JWT authorizer ---


def test_a_minted_token_verifies_and_carries_the_customer_and_role(issuer: LocalIssuer):
    claims = _verify(issuer, issuer.token("C0000007"))

    assert claims["sub"] == "C0000007"
    assert claims[spec.JWT_ROLE_CLAIM] == "customer"
    assert claims["aud"] == spec.JWT_AUDIENCE
    assert claims["iss"] == issuer.issuer
    assert claims["exp"] - claims["iat"] == 3600


def test_a_staff_token_says_so(issuer: LocalIssuer):
    assert _verify(issuer, issuer.token("C0000007", staff=True))[spec.JWT_ROLE_CLAIM] == "staff"


@pytest.mark.parametrize("header", ["bearer {}", "Bearer   {}  ", "{}"])
def test_the_bearer_prefix_is_optional_as_in_api_gateway(issuer: LocalIssuer, header: str):
    token = issuer.token("C0000001")

    assert issuer.authorizer().verify(header.format(token))["sub"] == "C0000001"


def test_client_id_counts_as_audience_only_without_aud(issuer: LocalIssuer):
    authorizer = issuer.authorizer()
    with_client_id = issuer.sign(_claims(issuer, aud=None, client_id=spec.JWT_AUDIENCE))
    both = issuer.sign(_claims(issuer, aud="someone-else", client_id=spec.JWT_AUDIENCE))

    assert authorizer.verify(with_client_id)["client_id"] == spec.JWT_AUDIENCE
    with pytest.raises(UnauthorizedError, match="audience"):
        authorizer.verify(both)


def test_an_audience_list_needs_to_name_ours(issuer: LocalIssuer):
    token = issuer.sign(_claims(issuer, aud=["other", spec.JWT_AUDIENCE]))

    assert _verify(issuer, token)["sub"] == "C0000001"


def _foreign_key_same_kid(issuer: LocalIssuer) -> str:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(issuer), stranger, algorithm="RS256", headers={"kid": issuer.key_id})


def _unsigned(issuer: LocalIssuer) -> str:
    return jwt.encode(_claims(issuer), "", algorithm="none", headers={"kid": issuer.key_id})


def _public_key_as_hmac_secret(issuer: LocalIssuer) -> str:
    public_pem = (
        issuer.authorizer()
        .public_keys[issuer.key_id]
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.key_id}).encode()
    )
    payload = base64.urlsafe_b64encode(json.dumps(_claims(issuer)).encode())
    signing_input = header.rstrip(b"=") + b"." + payload.rstrip(b"=")
    signature = hmac.new(public_pem, signing_input, "sha256").digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _flipped_signature(issuer: LocalIssuer) -> str:
    header, payload, signature = issuer.token("C0000001").split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


REFUSED = [
    pytest.param(lambda i: None, "no token", id="missing bearer"),
    pytest.param(lambda i: "", "no token", id="empty bearer"),
    pytest.param(lambda i: "not.a.jwt", "malformed", id="garbage"),
    pytest.param(_flipped_signature, "signature", id="bad signature"),
    pytest.param(_foreign_key_same_kid, "signature", id="signed by another key"),
    pytest.param(lambda i: LocalIssuer.generate().token("C0000001"), "known key", id="unknown kid"),
    pytest.param(_unsigned, "signing method none", id="alg none"),
    pytest.param(_public_key_as_hmac_secret, "signing method HS256", id="alg confusion"),
    pytest.param(lambda i: i.sign(_claims(i, aud="other")), "audience", id="wrong audience"),
    pytest.param(lambda i: i.sign(_claims(i, aud=None)), "audience", id="no audience"),
    pytest.param(lambda i: i.token("C0000001", expires_in=-5), "expired", id="expired"),
    pytest.param(lambda i: i.sign(_claims(i, exp=None)), "required claim", id="no exp"),
    pytest.param(lambda i: i.sign(_claims(i, iss="https://evil")), "issuer", id="wrong issuer"),
    pytest.param(lambda i: i.sign(_claims(i, iss=None)), "required claim", id="no issuer"),
    pytest.param(
        lambda i: i.sign(_claims(i, nbf=int(time.time()) + 300)), "not valid yet", id="nbf ahead"
    ),
    pytest.param(
        lambda i: i.sign(_claims(i, iat=int(time.time()) + 300)), "not valid yet", id="iat ahead"
    ),
]


@pytest.mark.parametrize(("make_token", "reason"), REFUSED)
def test_the_authorizer_refuses(issuer: LocalIssuer, make_token: Any, reason: str):
    with pytest.raises(UnauthorizedError, match=reason):
        _verify(issuer, make_token(issuer))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"])
def test_other_authorization_schemes_are_refused(issuer: LocalIssuer, header: str):
    with pytest.raises(UnauthorizedError):
        issuer.authorizer().verify(header)


# --- the issuer's key on disk ---


def test_the_key_is_created_once_and_shared_between_shells(tmp_path):
    state = tmp_path / ".local"

    up = LocalIssuer.load_or_create(state)
    token_shell = LocalIssuer.load_or_create(state)

    assert up.key_id == token_shell.key_id
    assert up.authorizer().verify(token_shell.token("C0000001"))["sub"] == "C0000001"
    key_file = state / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in state.iterdir()] == [KEY_FILE_NAME]


def test_loading_without_a_key_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        LocalIssuer.load(tmp_path)


# --- answers ---


def test_a_proxy_response_becomes_status_headers_cookies_and_body():
    answer = answer_from_proxy(
        {
            "statusCode": 302,
            "headers": {"Location": "https://example.org/x"},
            "multiValueHeaders": {"X-Many": ["a", "b"]},
            "cookies": ["s=1; Secure"],
            "body": base64.b64encode(b"%PDF").decode(),
            "isBase64Encoded": True,
        }
    )

    assert answer.status == 302
    assert ("Location", "https://example.org/x") in answer.headers
    assert ("X-Many", "a") in answer.headers
    assert ("X-Many", "b") in answer.headers
    assert ("set-cookie", "s=1; Secure") in answer.headers
    assert answer.body == b"%PDF"


def test_a_response_without_status_code_is_inferred_as_json_200():
    answer = answer_from_proxy({"documents": []})

    assert answer.status == 200
    assert json.loads(answer.body) == {"documents": []}
    assert ("content-type", "application/json") in answer.headers


def test_a_malformed_response_is_api_gateways_500():
    answer = answer_from_proxy({"statusCode": "abc"})

    assert answer.status == 500
    assert json.loads(answer.body) == {"message": "Internal Server Error"}


# --- the gateway, with a recording Lambda client ---


class RecordingLambda:
    def __init__(self, result: Any, *, function_error: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self._result = result
        self._function_error = function_error

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        response: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(self._result).encode())}
        if self._function_error:
            response["FunctionError"] = "Unhandled"
        return response


def _request(token: str | None, target: str = "/documents") -> IncomingRequest:
    headers = [("Host", "localhost")]
    if token:
        headers.append(("Authorization", f"Bearer {token}"))
    return IncomingRequest(method="GET", target=target, headers=headers)


def test_an_authorized_request_invokes_the_routes_function_with_the_event(issuer: LocalIssuer):
    client = RecordingLambda({"statusCode": 200, "body": "[]"})

    answer = Gateway(client, issuer.authorizer()).handle(
        _request(issuer.token("C0000009"), f"/documents/{NUMBER}/pdf")
    )

    assert answer.status == 200
    assert answer.body == b"[]"
    assert [call["FunctionName"] for call in client.calls] == [spec.ARCHIVE_API.local_name]
    event = json.loads(client.calls[0]["Payload"])
    assert event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "C0000009"
    assert event["pathParameters"] == {"number": NUMBER}
    request_id = dict(answer.headers)["apigw-requestid"]
    assert event["requestContext"]["requestId"] == request_id


def test_an_unauthorized_request_never_reaches_the_function(issuer: LocalIssuer):
    client = RecordingLambda({"statusCode": 200})

    answer = Gateway(client, issuer.authorizer()).handle(_request("forged"))

    assert answer.status == 401
    assert json.loads(answer.body) == {"message": "Unauthorized"}
    assert dict(answer.headers)["www-authenticate"].startswith("Bearer")
    assert client.calls == []


def test_an_unknown_route_is_404_before_authorization(issuer: LocalIssuer):
    client = RecordingLambda({"statusCode": 200})

    answer = Gateway(client, issuer.authorizer()).handle(_request(None, "/invoices"))

    assert answer.status == 404
    assert json.loads(answer.body) == {"message": "Not Found"}
    assert client.calls == []


def test_a_failing_function_is_api_gateways_500(issuer: LocalIssuer):
    client = RecordingLambda({"errorType": "KeyError"}, function_error=True)

    answer = Gateway(client, issuer.authorizer()).handle(_request(issuer.token("C0000001")))

    assert answer.status == 500
    assert json.loads(answer.body) == {"message": "Internal Server Error"}


def test_a_public_route_gets_an_event_without_authorizer():
    request = IncomingRequest(method="GET", target="/openapi.json")
    match = match_route("GET", request.raw_path)
    assert match is not None
    assert not match.route.authorized

    event = build_event(request, match, None, request_id="r")

    assert "authorizer" not in event["requestContext"]
