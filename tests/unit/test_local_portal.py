"""The local front end's part for the portal: its files, config.json, headers and CORS."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from infra import spec
from localaws.http_api import (
    CorsPolicy,
    Gateway,
    HttpAnswer,
    IncomingRequest,
    LocalIssuer,
    PortalFiles,
    local_origins,
)
from tests.unit.test_http_api_events import RecordingLambda

API_URL = "http://127.0.0.1:8000"
PORTAL_ORIGIN = "http://localhost:8000"


def get(target: str, *headers: tuple[str, str], method: str = "GET") -> IncomingRequest:
    return IncomingRequest(method=method, target=target, headers=list(headers))


def header(answer: HttpAnswer, name: str) -> str | None:
    return dict(answer.headers).get(name)


@pytest.fixture
def files() -> PortalFiles:
    return PortalFiles(spec.PORTAL.source_dir, api_url=API_URL)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("portal.js", "text/javascript; charset=utf-8"),
        ("texts.js", "text/javascript; charset=utf-8"),
        ("portal.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_the_portals_files_are_served_with_their_content_types(
    files: PortalFiles, name: str, content_type: str
) -> None:
    answer = files.answer(get("/portal/" + name))

    assert answer is not None
    assert answer.status == 200
    assert header(answer, "content-type") == content_type
    on_disk = spec.PORTAL.source_dir / (name or spec.PORTAL.index_file)
    assert answer.body == on_disk.read_bytes()


def test_config_json_names_the_api_as_the_deployment_writes_it(files: PortalFiles) -> None:
    answer = files.answer(get("/portal/config.json"))

    assert answer is not None
    assert header(answer, "content-type") == "application/json"
    assert json.loads(answer.body) == spec.PORTAL.config(API_URL) == {"api_url": API_URL}


def test_every_portal_answer_has_the_security_headers_and_a_csp_naming_the_api(
    files: PortalFiles,
) -> None:
    answer = files.answer(get("/portal/"))

    assert answer is not None
    for name, value in spec.PORTAL_SECURITY_HEADERS.items():
        assert header(answer, name) == value
    assert header(answer, "content-security-policy") == spec.portal_content_security_policy(API_URL)


def test_the_bare_path_redirects_and_other_paths_are_not_the_portals(files: PortalFiles) -> None:
    redirect = files.answer(get("/portal"))

    assert redirect is not None
    assert (redirect.status, header(redirect, "location")) == (301, "/portal/")
    assert files.answer(get("/documents")) is None
    assert files.answer(get("/portalx/index.html")) is None


@pytest.mark.parametrize(
    "target",
    [
        "/portal/../infra/spec.py",
        "/portal/%2e%2e/infra/spec.py",
        "/portal/.secret",
        "/portal/sub/../../pyproject.toml",
        "/portal/missing.js",
        "/portal/a//b",
        "/portal/..%5cpyproject.toml",
    ],
)
def test_nothing_outside_the_portal_folder_is_served(tmp_path: Path, target: str) -> None:
    root = tmp_path / "portal"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html>")
    (root / ".secret").write_text("hidden")
    (tmp_path / "pyproject.toml").write_text("outside")

    answer = PortalFiles(root, api_url=API_URL).answer(get(target))

    assert answer is not None
    assert answer.status == 404
    assert b"outside" not in answer.body
    assert b"hidden" not in answer.body


def test_the_portal_is_read_only(files: PortalFiles) -> None:
    answer = files.answer(get("/portal/index.html", method="POST"))

    assert answer is not None
    assert answer.status == 405


@pytest.fixture
def gateway() -> Gateway:
    issuer = LocalIssuer.generate()
    return Gateway(
        RecordingLambda({"statusCode": 200, "body": "{}"}),
        issuer.authorizer(),
        cors=CorsPolicy(origins=local_origins(8000)),
    )


def preflight(target: str, origin: str, method: str = "GET", headers: str = "authorization"):
    return get(
        target,
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", headers),
        method="OPTIONS",
    )


def test_a_preflight_from_the_portals_origin_is_answered_like_api_gateway(
    gateway: Gateway,
) -> None:
    answer = gateway.handle(preflight("/documents", PORTAL_ORIGIN))

    assert answer.status == 204
    assert header(answer, "access-control-allow-origin") == PORTAL_ORIGIN
    assert header(answer, "access-control-allow-methods") == "GET"
    assert header(answer, "access-control-allow-headers") == "authorization,accept"
    assert header(answer, "access-control-max-age") == "600"


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(preflight("/documents", "https://evil.example"), id="other origin"),
        pytest.param(preflight("/documents", PORTAL_ORIGIN, method="DELETE"), id="method"),
        pytest.param(preflight("/documents", PORTAL_ORIGIN, headers="x-custom"), id="header"),
        pytest.param(preflight("/orders", PORTAL_ORIGIN, method="POST"), id="order api"),
    ],
)
def test_a_preflight_outside_the_policy_gets_no_cors_headers(
    gateway: Gateway, request_: IncomingRequest
) -> None:
    answer = gateway.handle(request_)

    assert answer.status == 204
    assert not any(name.startswith("access-control-") for name, _ in answer.headers)


def test_answers_to_the_portals_origin_name_it_even_when_refused(gateway: Gateway) -> None:
    refused = gateway.handle(get("/documents", ("Origin", PORTAL_ORIGIN)))
    foreign = gateway.handle(get("/documents", ("Origin", "https://evil.example")))
    missing_route = gateway.handle(get("/nowhere", ("Origin", PORTAL_ORIGIN)))

    assert refused.status == 401
    assert header(refused, "access-control-allow-origin") == PORTAL_ORIGIN
    assert header(refused, "access-control-expose-headers") == "content-disposition,apigw-requestid"
    assert header(foreign, "access-control-allow-origin") is None
    assert missing_route.status == 404
    assert header(missing_route, "access-control-allow-origin") == PORTAL_ORIGIN


def dictionary() -> dict[str, dict[str, str]]:
    """texts.js read as data: per language, key -> text."""
    source = (spec.PORTAL.source_dir / "texts.js").read_text(encoding="utf-8")
    german, english = source.split("\n  en: {\n")
    entry = re.compile(r'^    "([\w.]+)":\s*"((?:[^"\\]|\\.)*)",', re.MULTILINE)
    flat = {"de": german.split("\n  de: {\n")[1], "en": english}
    return {
        language: dict(entry.findall(re.sub(r":\n\s+", ": ", part)))
        for language, part in flat.items()
    }


class _TextedElements(HTMLParser):
    """(data-text key, the element's own text) of every element that names a text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[list[str]] = []
        self._open: list[list[str] | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        key = dict(attrs).get("data-text")
        element = [key, ""] if key else None
        if element:
            self.found.append(element)
        if tag not in {"meta", "link", "input", "br"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in {"meta", "link", "input", "br"}:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] is not None:
            self._open[-1][1] += data


def test_every_text_key_exists_in_both_languages() -> None:
    texts = dictionary()

    assert sorted(texts["de"]) == sorted(texts["en"])
    assert len(texts["de"]) > 80


def test_the_pages_own_texts_are_the_german_ones_of_the_dictionary() -> None:
    parser = _TextedElements()
    parser.feed((spec.PORTAL.source_dir / spec.PORTAL.index_file).read_text(encoding="utf-8"))
    german = dictionary()["de"]

    assert len(parser.found) > 40
    for key, shown in parser.found:
        assert key in german, key
        assert shown.strip() in {"", german[key]}, key
