"""`billing local up` in one process, the CLI and HTTP clients in others, as a developer uses it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

BILLING = [sys.executable, "-c", "from cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("local")
    port, api_port = _free_port(), _free_port()
    command = [
        *BILLING,
        "local",
        "up",
        "--port",
        str(port),
        "--api-port",
        str(api_port),
        "--shards",
        "4",
        "--seed-customers",
        "12",
    ]
    env = os.environ | {"PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    server = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    exports = _read_exports(server)
    try:
        yield exports | {"API_URL": f"http://127.0.0.1:{api_port}", "WORKDIR": str(workdir)}
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


def _read_exports(server: subprocess.Popen[str]) -> dict[str, str]:
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 120
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            exports[key] = value.strip("'")
        if line.startswith("portal "):
            exports["PORTAL_URL"] = line.split()[-1]
        if "stop with Ctrl-C" in line or time.monotonic() > deadline:
            break
    assert "AWS_ENDPOINT_URL" in exports, "billing local up did not announce its environment"
    return exports


def _billing(stack: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    local_only = {"API_URL", "WORKDIR", "PORTAL_URL"}
    env = os.environ | {k: v for k, v in stack.items() if k not in local_only}
    return subprocess.run(
        [*BILLING, *arguments],
        cwd=stack["WORKDIR"],
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_finance_runs_an_invoice_run_on_the_local_stack_through_the_cli(
    local_stack: dict[str, str],
) -> None:
    started = _billing(local_stack, "run", "start", "--period", "2026-11", "--wait", "--json")

    assert started.returncode == 0, started.stderr
    report = json.loads(started.stdout[started.stdout.index("{") :])
    assert report["status"] == "succeeded"
    assert report["invoices"] == 12
    assert report["first_number"] == "RE-2026-00000001"

    again = _billing(local_stack, "run", "report", "run-2026-11", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["gross"] == report["gross"]

    status = _billing(local_stack, "run", "status", "run-2026-11", "--json")
    assert status.returncode == 0, status.stderr
    figures = json.loads(status.stdout)
    assert (figures["status"], figures["shards_done"], figures["shards_total"]) == (
        "SUCCEEDED",
        4,
        4,
    )
    assert figures["invoices"] == 12
    followed = _billing(local_stack, "run", "status", "run-2026-11")
    assert "succeeded, 4 of 4 shards, 12 invoices, 0 failed customers" in followed.stdout


def test_the_status_of_a_run_that_never_started_names_the_run(local_stack: dict[str, str]) -> None:
    missing = _billing(local_stack, "run", "status", "run-2019-01")

    assert missing.returncode == 1
    assert "no run run-2019-01 has started yet" in missing.stderr


def test_a_customer_reads_only_their_own_documents_over_the_local_http_api(
    local_stack: dict[str, str],
) -> None:
    _billing(local_stack, "run", "start", "--period", "2026-11", "--wait")
    token_a = _billing(local_stack, "local", "token", "C0000001").stdout.strip()
    token_b = _billing(local_stack, "local", "token", "C0000002").stdout.strip()

    mine = requests.get(
        f"{local_stack['API_URL']}/documents",
        headers={"Authorization": f"Bearer {token_a}"},
        timeout=30,
    )
    assert mine.status_code == 200, mine.text
    documents = mine.json()["documents"]
    assert len(documents) == 1
    number = documents[0]["number"]

    pdf = requests.get(
        f"{local_stack['API_URL']}/documents/{number}/pdf",
        headers={"Authorization": f"Bearer {token_a}"},
        timeout=30,
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    foreign = requests.get(
        f"{local_stack['API_URL']}/documents/{number}/pdf",
        headers={"Authorization": f"Bearer {token_b}"},
        allow_redirects=False,
        timeout=30,
    )
    assert foreign.status_code == 404
    assert number not in foreign.text
    unsigned = requests.get(f"{local_stack['API_URL']}/documents", timeout=30)
    assert unsigned.status_code == 401


def test_the_einvoice_staff_reads_and_the_openapi_document_over_the_local_http_api(
    local_stack: dict[str, str],
) -> None:
    _billing(local_stack, "run", "start", "--period", "2026-11", "--wait")
    api = local_stack["API_URL"]
    customer = {"Authorization": "Bearer " + _token(local_stack, "C0000001")}
    staff = {"Authorization": "Bearer " + _token(local_stack, "C0000009", "--staff")}

    (document,) = requests.get(f"{api}/documents", headers=customer, timeout=30).json()["documents"]
    number = document["number"]
    xml = requests.get(f"{api}/documents/{number}/xml", headers=customer, timeout=30)
    by_staff = requests.get(
        f"{api}/documents/{number}", headers=staff, params={"customer": "C0000001"}, timeout=30
    )
    openapi = requests.get(f"{api}/openapi.json", timeout=30)

    assert xml.status_code == 200, xml.text
    assert xml.content.lstrip().startswith(b"<?xml")
    assert number.encode() in xml.content
    assert by_staff.status_code == 200
    assert by_staff.json()["number"] == number
    assert openapi.status_code == 200
    assert "/documents/{number}/xml" in openapi.json()["paths"]


def _token(local_stack: dict[str, str], *arguments: str) -> str:
    return _billing(local_stack, "local", "token", *arguments).stdout.strip()


def test_a_token_for_a_malformed_customer_id_is_refused(local_stack: dict[str, str]) -> None:
    refused = _billing(local_stack, "local", "token", "../C1")

    assert refused.returncode == 2
    assert "CUSTOMER_ID" in refused.stderr


def test_finance_cancels_an_invoice_through_the_cli(local_stack: dict[str, str]) -> None:
    _billing(local_stack, "run", "start", "--period", "2026-11", "--wait")

    cancelled = _billing(
        local_stack, "invoices", "cancel", "RE-2026-00000003", "--reason", "Kulanz", "--json"
    )
    again = _billing(local_stack, "invoices", "cancel", "RE-2026-00000003", "--reason", "Kulanz")
    malformed = _billing(local_stack, "invoices", "cancel", "3", "--reason", "Kulanz")

    assert cancelled.returncode == 0, cancelled.stderr
    document = json.loads(cancelled.stdout)
    assert document["created"] is True
    assert document["document_type"] == "cancellation"
    assert document["correction"]["refers_to"] == "RE-2026-00000003"
    assert document["number"].startswith("GS-")
    assert f"was already cancelled by {document['number']}" in again.stdout
    assert malformed.returncode == 2
    assert "NUMBER" in malformed.stderr


def test_the_paced_sender_works_the_queue_off_beside_the_running_stack(
    local_stack: dict[str, str],
) -> None:
    """The worker's announcements reach the sender without a nested invocation (no deadlock)."""
    started = _billing(local_stack, "run", "start", "--period", "2026-11", "--wait")
    assert started.returncode == 0, started.stderr

    deadline = time.monotonic() + 60
    while True:
        shown = _billing(local_stack, "run", "delivery", "run-2026-11", "--json")
        assert shown.returncode == 0, shown.stderr
        figures = json.loads(shown.stdout)
        if figures["emails_sent"] + figures["printed"] == 12 or time.monotonic() > deadline:
            break
        time.sleep(0.5)

    assert figures["failed"] == []
    assert figures["emails_sent"] + figures["printed"] == 12
    table = _billing(local_stack, "run", "delivery", "run-2026-11")
    assert "e-mails sent" in table.stdout


def test_local_up_serves_the_portal_with_a_config_naming_its_api(
    local_stack: dict[str, str],
) -> None:
    page = requests.get(f"{local_stack['API_URL']}/portal/", timeout=30)
    config = requests.get(f"{local_stack['API_URL']}/portal/config.json", timeout=30)

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="portal.js">' in page.text
    assert config.json() == {"api_url": local_stack["API_URL"]}
    assert local_stack["PORTAL_URL"] == f"{local_stack['API_URL']}/portal/"
