"""The local front end of the HTTP API: API Gateway's part of a request, on a local port.

moto stores HTTP APIs but never runs a Lambda proxy integration, so this server does what API
Gateway does in front of the functions: it matches ``spec.ROUTES``, verifies the bearer token like
the JWT authorizer, builds the payload format 2.0 event, invokes the function through the Lambda
Invoke API of the embedded AWS (so the function runs with its own environment) and turns the
proxy response into the HTTP answer.

``LocalIssuer`` stands in for the identity provider: it keeps an RSA key under a state folder, so
a second shell can mint tokens that a running ``local up`` accepts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra import spec
from localaws.provision import ACCOUNT

logger = logging.getLogger(__name__)

LOCAL_ISSUER_URL = "https://auth.billing.localhost"
KEY_FILE_NAME = "jwt-signing-key.pem"
API_ID = "localapi"
STAGE = "$default"
# The JWT authorizer accepts RSA signatures only.
ALGORITHMS = ("RS256", "RS384", "RS512")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_FUNCTIONS = {function.id: function for function in spec.FUNCTIONS}


class UnauthorizedError(Exception):
    """The JWT authorizer refuses the request; ``description`` is what API Gateway tells."""

    def __init__(self, description: str | None) -> None:
        super().__init__(description or "no token")
        self.description = description


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JwtAuthorizer:
    """The checks of an API Gateway JWT authorizer, against keys known by key id."""

    issuer: str
    audiences: tuple[str, ...]
    public_keys: Mapping[str, rsa.RSAPublicKey]

    def verify(
        self, authorization: str | None, *, audiences: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """The token's claims, or UnauthorizedError; ``authorization`` is the header's value.

        ``audiences`` replaces the configured ones, for a route behind another authorizer.
        """
        token = bearer_token(authorization)
        header = _unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise UnauthorizedError(f"signing method {algorithm} is invalid")
        key = self.public_keys.get(str(header.get("kid")))
        if key is None:
            raise UnauthorizedError("the token was not signed by a known key")

        claims = _decoded(token, key, str(algorithm), self.issuer)
        if not self._audience_matches(claims, audiences or self.audiences):
            raise UnauthorizedError("the token does not have a valid audience")
        return claims

    @staticmethod
    def _audience_matches(claims: dict[str, Any], audiences: tuple[str, ...]) -> bool:
        """``aud`` when present, else ``client_id``, must name one configured audience."""
        presented = claims["aud"] if "aud" in claims else claims.get("client_id")
        values = presented if isinstance(presented, list) else [presented]
        return any(value in audiences for value in values)


def has_scope(claims: Mapping[str, Any], scopes: tuple[str, ...]) -> bool:
    """A route with authorization scopes needs a token that carries one of them."""
    if not scopes:
        return True
    granted = str(claims.get("scope") or "").split()
    return any(scope in granted for scope in scopes)


def bearer_token(authorization: str | None) -> str:
    """The token of an Authorization header, which may carry the ``Bearer`` prefix or not."""
    value = (authorization or "").strip()
    scheme, _, rest = value.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else value
    if not token or " " in token:
        raise UnauthorizedError(None)
    return token


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise UnauthorizedError("the token is malformed") from error


_REFUSALS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuerError, "the token does not have a valid issuer"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token signature is invalid"),
)


def _decoded(token: str, key: rsa.RSAPublicKey, algorithm: str, issuer: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            options={"require": ["exp", "iss"], "verify_aud": False},
        )
    except jwt.InvalidTokenError as error:
        description = next(
            (text for kind, text in _REFUSALS if isinstance(error, kind)), "the token is invalid"
        )
        raise UnauthorizedError(description) from error


class LocalIssuer:
    """The local identity provider: one RSA key, tokens for customers and staff."""

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        issuer: str = LOCAL_ISSUER_URL,
        audience: str = spec.JWT_AUDIENCE,
    ) -> None:
        self._key = private_key
        self.issuer = issuer
        self.audience = audience
        public_der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = hashlib.sha256(public_der).digest()
        self.key_id = base64.urlsafe_b64encode(digest).decode().rstrip("=")[:16]

    @classmethod
    def generate(cls) -> LocalIssuer:
        """An issuer with a fresh key kept in memory only."""
        return cls(_new_private_key())

    @classmethod
    def load_or_create(cls, state_dir: Path) -> LocalIssuer:
        """The issuer whose key lives in ``state_dir``; the first caller creates the key."""
        path = Path(state_dir) / KEY_FILE_NAME
        if not path.exists():
            _write_new_key(path)
        return cls.load(state_dir)

    @classmethod
    def load(cls, state_dir: Path) -> LocalIssuer:
        pem = (Path(state_dir) / KEY_FILE_NAME).read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{KEY_FILE_NAME} does not hold an RSA private key")
        return cls(key)

    def token(self, customer_id: str, *, staff: bool = False, expires_in: int = 3600) -> str:
        now = int(time.time())
        return self.sign(
            {
                "iss": self.issuer,
                "aud": self.audience,
                spec.JWT_CUSTOMER_CLAIM: customer_id,
                spec.JWT_ROLE_CLAIM: "staff" if staff else "customer",
                "iat": now,
                "exp": now + expires_in,
            }
        )

    def sign(self, claims: Mapping[str, Any], *, algorithm: str = "RS256") -> str:
        """Any claims, signed with this issuer's key and key id."""
        return jwt.encode(
            dict(claims), self._key, algorithm=algorithm, headers={"kid": self.key_id}
        )

    def shop_token(
        self, client_id: str = spec.SHOP_CLIENT_ID, *, scope: str = spec.ORDER_SCOPE
    ) -> str:
        """An access token like a client-credentials grant gives the shop: no ``aud``."""
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": client_id, "client_id": client_id, "scope": scope}
        return self.sign(claims | {"token_use": "access", "iat": now, "exp": now + 3600})

    def authorizer(self) -> JwtAuthorizer:
        """The JWT authorizer of the deployed API, configured for this issuer."""
        return JwtAuthorizer(
            issuer=self.issuer,
            audiences=(self.audience,),
            public_keys={self.key_id: self._key.public_key()},
        )


def _new_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_new_key(path: Path) -> None:
    """Written aside and linked into place, so no reader sees half a key and the first wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = _new_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".jwt-key-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


# --- routes and events -------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    route: spec.RouteSpec
    path_parameters: dict[str, str]

    @property
    def route_key(self) -> str:
        return f"{self.route.method} {self.route.path}"


def _route_pattern(template: str) -> re.Pattern[str]:
    parts = []
    for segment in template.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts))


def match_route(
    method: str, raw_path: str, routes: Sequence[spec.RouteSpec] = spec.ROUTES
) -> RouteMatch | None:
    """The route API Gateway picks: literal routes before routes with path variables."""
    for route in sorted(routes, key=lambda r: r.path.count("{")):
        found = _route_pattern(route.path).fullmatch(raw_path)
        if found and route.method == method:
            parameters = {name: unquote(value) for name, value in found.groupdict().items()}
            return RouteMatch(route, parameters)
    return None


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    target: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ",".join(values) if values else None


def build_event(
    request: IncomingRequest,
    match: RouteMatch,
    claims: Mapping[str, Any] | None,
    *,
    request_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for this request.

    ``claims`` is None on a route without authorizer: the event then has no ``authorizer``.
    """
    now = now or datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": _event_headers(request),
        "requestContext": _request_context(request, match, claims, request_id, now),
        "isBase64Encoded": False,
    }
    optional = {
        "cookies": _cookies(request),
        "queryStringParameters": _query_parameters(request.raw_query),
        "pathParameters": match.path_parameters,
    }
    event |= {key: value for key, value in optional.items() if value}
    if request.body:
        event["body"], event["isBase64Encoded"] = _event_body(request)
    return event


def _event_headers(request: IncomingRequest) -> dict[str, str]:
    """Lower-cased names, repeated headers joined by commas; cookies go to their own field."""
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = name.lower()
        if key != "cookie":
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", _trace_id())
    return headers


def _cookies(request: IncomingRequest) -> list[str]:
    cookie_headers = [value for name, value in request.headers if name.lower() == "cookie"]
    return [part.strip() for value in cookie_headers for part in value.split(";") if part.strip()]


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _event_body(request: IncomingRequest) -> tuple[str, bool]:
    content_type = (request.header("content-type") or "").lower()
    if content_type.startswith(_TEXT_TYPES):
        with contextlib.suppress(UnicodeDecodeError):
            return request.body.decode("utf-8"), False
    return base64.b64encode(request.body).decode("ascii"), True


def _request_context(
    request: IncomingRequest,
    match: RouteMatch,
    claims: Mapping[str, Any] | None,
    request_id: str,
    now: datetime,
) -> dict[str, Any]:
    domain = (request.header("host") or "localhost").rsplit(":", 1)[0]
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": match.route_key,
        "stage": STAGE,
        "time": _request_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        jwt_claims = {name: claim_text(value) for name, value in claims.items()}
        context["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return context


def claim_text(value: Any) -> str:
    """Claims reach the function as strings; lists and objects in API Gateway's (Go) notation."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{key}:{claim_text(item)}" for key, item in sorted(value.items()))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _request_time(now: datetime) -> str:
    moment = now.astimezone(UTC)
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"


def new_request_id() -> str:
    """Shaped like API Gateway's: 11 random bytes in base64."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def gateway_answer(status: HTTPStatus, *, headers: Sequence[tuple[str, str]] = ()) -> HttpAnswer:
    """An answer API Gateway gives itself: ``{"message": <reason phrase>}``."""
    body = json.dumps({"message": status.phrase}, separators=(",", ":")).encode()
    return HttpAnswer(status.value, [("content-type", "application/json"), *headers], body)


def unauthorized_answer(refusal: UnauthorizedError) -> HttpAnswer:
    challenge = "Bearer"
    if refusal.description:
        challenge = (
            f'Bearer scope="" error="invalid_token" error_description="{refusal.description}"'
        )
    return gateway_answer(HTTPStatus.UNAUTHORIZED, headers=[("www-authenticate", challenge)])


def answer_from_proxy(result: Any) -> HttpAnswer:
    """The HTTP answer for a function's payload format 2.0 response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode()
        return HttpAnswer(200, [("content-type", "application/json")], body)
    try:
        status = int(result["statusCode"])
        headers = _proxy_headers(result)
        body = _proxy_body(result)
    except (TypeError, ValueError, AttributeError):
        logger.error("function response is malformed", extra={"keys": sorted(result)})
        return gateway_answer(HTTPStatus.INTERNAL_SERVER_ERROR)
    return HttpAnswer(status, headers, body)


def _proxy_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(str(name), str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or ())
    return headers


def _proxy_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return str(body).encode("utf-8")


# --- CORS and the portal's files --------------------------------------------------------------


@dataclass(frozen=True)
class CorsPolicy:
    """The CORS configuration of the archive API, answered as API Gateway answers it: a
    preflight from an allowed origin gets 204 with the allowed methods and headers; any other
    answer to an allowed origin names it in ``access-control-allow-origin``."""

    origins: tuple[str, ...]
    portal: spec.PortalSpec = spec.PORTAL

    def preflight(self, request: IncomingRequest) -> HttpAnswer | None:
        """The answer to a preflight, or None when the request is none."""
        method = request.header("access-control-request-method")
        if request.method != "OPTIONS" or not method or not request.header("origin"):
            return None
        answer = HttpAnswer(HTTPStatus.NO_CONTENT.value)
        if self._allows(request) and self._grants(method, request):
            answer.headers.extend(
                [
                    ("access-control-allow-origin", str(request.header("origin"))),
                    ("access-control-allow-methods", ",".join(self.portal.cors_allow_methods)),
                    ("access-control-allow-headers", ",".join(self.portal.cors_allow_headers)),
                    ("access-control-max-age", str(self.portal.cors_max_age_seconds)),
                    ("vary", "origin"),
                ]
            )
        return answer

    def decorate(self, request: IncomingRequest, answer: HttpAnswer) -> HttpAnswer:
        if self._allows(request):
            answer.headers.extend(
                [
                    ("access-control-allow-origin", str(request.header("origin"))),
                    ("access-control-expose-headers", ",".join(self.portal.cors_expose_headers)),
                    ("vary", "origin"),
                ]
            )
        return answer

    def _allows(self, request: IncomingRequest) -> bool:
        """An allowed origin, on a path of the archive API (the order API serves a server)."""
        if request.header("origin") not in self.origins:
            return False
        return not any(
            _route_pattern(route.path).fullmatch(request.raw_path)
            for route in spec.ROUTES
            if route.api != "archive"
        )

    def _grants(self, method: str, request: IncomingRequest) -> bool:
        wanted = request.header("access-control-request-headers") or ""
        headers = {name.strip().lower() for name in wanted.split(",") if name.strip()}
        return method.upper() in self.portal.cors_allow_methods and headers <= set(
            self.portal.cors_allow_headers
        )


def local_origins(port: int) -> tuple[str, ...]:
    """The origins a browser on this machine gives the local front end's own pages."""
    return (f"http://127.0.0.1:{port}", f"http://localhost:{port}")


_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


class PortalFiles:
    """The portal's static files under ``spec.PORTAL.local_path``, with the ``config.json``
    the deployment writes (here: naming this front end) and CloudFront's security headers."""

    def __init__(self, root: Path, *, api_url: str, portal: spec.PortalSpec = spec.PORTAL) -> None:
        self._root = root.resolve()
        self._portal = portal
        self._config = json.dumps(portal.config(api_url)).encode()
        origin = urlsplit(api_url)
        self._headers = [
            *spec.PORTAL_SECURITY_HEADERS.items(),
            (
                "content-security-policy",
                spec.portal_content_security_policy(f"{origin.scheme}://{origin.netloc}"),
            ),
            ("cache-control", "no-cache"),
        ]

    def answer(self, request: IncomingRequest) -> HttpAnswer | None:
        """The answer for a path of the portal, or None for any other path."""
        prefix = self._portal.local_path
        if request.raw_path == prefix.rstrip("/"):
            return HttpAnswer(HTTPStatus.MOVED_PERMANENTLY.value, [("location", prefix)])
        if not request.raw_path.startswith(prefix):
            return None
        if request.method not in {"GET", "HEAD"}:
            return gateway_answer(HTTPStatus.METHOD_NOT_ALLOWED)

        name = unquote(request.raw_path.removeprefix(prefix)) or self._portal.index_file
        body = self._config if name == self._portal.config_file else self._read(name)
        if body is None:
            return gateway_answer(HTTPStatus.NOT_FOUND)
        content_type = _CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
        return HttpAnswer(200, [("content-type", content_type), *self._headers], body)

    def _read(self, name: str) -> bytes | None:
        """A file inside the portal folder; no hidden names, no way out of the folder."""
        parts = name.split("/")
        if any(not part or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
            return None
        path = (self._root / name).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            return None
        return path.read_bytes()


# --- the gateway -------------------------------------------------------------------------------


class Gateway:
    """API Gateway's part of one request, without sockets; with ``portal``, CloudFront's too."""

    def __init__(
        self,
        lambda_client: Any,
        authorizer: JwtAuthorizer,
        routes: Sequence[spec.RouteSpec] = spec.ROUTES,
        *,
        cors: CorsPolicy | None = None,
        portal: PortalFiles | None = None,
    ) -> None:
        self._lambda = lambda_client
        self._authorizer = authorizer
        self._routes = routes
        self.cors = cors
        self.portal = portal

    def handle(self, request: IncomingRequest) -> HttpAnswer:
        static = self.portal.answer(request) if self.portal else None
        if static is not None:
            return static
        request_id = new_request_id()
        preflight = self.cors.preflight(request) if self.cors else None
        answer = preflight or self._answer(request, request_id)
        answer.headers.append(("apigw-requestid", request_id))
        if self.cors and preflight is None:
            self.cors.decorate(request, answer)
        return answer

    def _answer(self, request: IncomingRequest, request_id: str) -> HttpAnswer:
        match = match_route(request.method, request.raw_path, self._routes)
        if match is None:
            return gateway_answer(HTTPStatus.NOT_FOUND)
        if not match.route.authorized:
            event = build_event(request, match, None, request_id=request_id)
            return self._invoke(_FUNCTIONS[match.route.function_id], event)

        auth = spec.API_AUTH[match.route.api]
        try:
            claims = self._authorizer.verify(
                request.header("authorization"), audiences=(auth.audience,)
            )
        except UnauthorizedError as refusal:
            logger.info("request refused", extra={"reason": str(refusal), "path": request.raw_path})
            return unauthorized_answer(refusal)
        if not has_scope(claims, auth.scopes):
            return gateway_answer(HTTPStatus.FORBIDDEN)

        event = build_event(request, match, claims, request_id=request_id)
        return self._invoke(_FUNCTIONS[match.route.function_id], event)

    def _invoke(self, function: spec.FunctionSpec, event: dict[str, Any]) -> HttpAnswer:
        try:
            response = self._lambda.invoke(
                FunctionName=function.local_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(event).encode(),
            )
            payload = response["Payload"].read()
            result = json.loads(payload) if payload else None
        except Exception:
            logger.exception("function invocation failed", extra={"function": function.local_name})
            return gateway_answer(HTTPStatus.INTERNAL_SERVER_ERROR)

        if response.get("FunctionError"):
            logger.error(
                "function failed", extra={"function": function.local_name, "error": result}
            )
            return gateway_answer(HTTPStatus.INTERNAL_SERVER_ERROR)
        return answer_from_proxy(result)


# --- the server --------------------------------------------------------------------------------


class _GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        super().__init__(address, _RequestHandler)
        self.gateway = gateway


class _RequestHandler(BaseHTTPRequestHandler):
    server: _GatewayServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "local-apigateway"

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET  # noqa: N815

    def _serve(self) -> None:
        length = self.headers.get("content-length") or "0"
        if not (length.isascii() and length.isdigit()):
            self._send(gateway_answer(HTTPStatus.BAD_REQUEST))
            return
        request = IncomingRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=self.rfile.read(int(length)),
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        self._send(self.server.gateway.handle(request))

    def _send(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http server message", extra={"detail": format % args})


class LocalHttpApi:
    """A running local HTTP API; ``shutdown()`` stops it."""

    def __init__(self, server: _GatewayServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="local-http-api", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}"

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(
    port: int,
    lambda_client_factory: Callable[[], Any],
    issuer: LocalIssuer,
    *,
    host: str = "127.0.0.1",
    portal_dir: Path | None = spec.PORTAL.source_dir,
    cors_origins: Sequence[str] = (),
) -> LocalHttpApi:
    """Serve ``spec.ROUTES`` on ``host:port`` (0 picks a free port) in a background thread,
    and the portal from ``portal_dir`` (None: no portal) at ``spec.PORTAL.local_path``.

    The archive API answers CORS for this server's own origins and ``cors_origins``.
    """
    gateway = Gateway(lambda_client_factory(), issuer.authorizer())
    server = _GatewayServer((host, port), gateway)
    bound = int(server.server_address[1])
    gateway.cors = CorsPolicy(origins=(*local_origins(bound), *cors_origins))
    if portal_dir is not None:
        gateway.portal = PortalFiles(portal_dir, api_url=f"http://{host}:{bound}")
    api = LocalHttpApi(server)
    logger.info("local http api listening", extra={"url": api.url})
    return api
