"""Hostile input at the API's edge, against a real ``vnfm serve`` (issue 11, items 3, 9, 10).

Each test is a regression: on the code before the edge (vnfm_runner/api/edge.py) and the
store's strict JSON it failed. Lone surrogates, NaN and Infinity, deep nesting, huge
strings are refused with a 400 naming the JSON path and leave no record behind; every
listing and ``vnfm list`` still answer. Bodies are refused by size before they are read
and anonymous ones before anything is parsed. Made-up methods add no metric series. A
500 leaves the keep-alive connection usable. The CLI cannot poison the store either.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import (
    PASSWORD,
    REPO_ROOT,
    USER,
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    zip_dir,
)

INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
PKGS = "/vnfpkgm/v1/vnf_packages"
SUBS = "/vnflcm/v2/subscriptions"
PKG_SUBS = "/vnfpkgm/v1/subscriptions"
LISTS = (INST, PKGS, SUBS, PKG_SUBS, OPS)
MB = 1024 * 1024
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Subscriptions are stored without the test GET of their callback (none listens)."""
    home: Path = tmp_path_factory.mktemp("vnfm-hostile")
    srv = make_server(home, api_page_size="1000", api_verify_callback="false").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def vnfd_id(server: Server) -> str:
    with server.client() as c:
        doc = onboard_via_api(c, zip_dir(WEBFARM))
    assert doc["onboardingState"] == "ONBOARDED" and doc["operationalState"] == "ENABLED", doc
    return str(doc["vnfdId"])


def records(c: httpx.Client) -> dict[str, set[str]]:
    """The ids in every listing (each must answer 200, with and without all_fields)."""
    out = {}
    for path in LISTS:
        for params in ({}, {"all_fields": ""}):
            r = c.get(path, params=params)
            assert r.status_code == 200, f"{path} {params}: {r.status_code} {r.text[:300]}"
        out[path] = {str(d["id"]) for d in r.json()}
    return out


def refused(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc: dict[str, Any] = r.json()
    assert doc["status"] == status and doc["detail"], doc
    if field is not None:
        assert doc["invalidParams"][0]["field"] == field, doc
        assert doc["detail"].startswith(f"{field}: "), doc
    return doc


def send_raw(c: httpx.Client, method: str, path: str, text: str, **headers: str) -> httpx.Response:
    """``text`` as the body, byte for byte (JSON escapes such as \\ud800 stay escapes)."""
    head = {"Content-Type": "application/json", **headers}
    return c.request(method, path, content=text.encode(), headers=head)


def run_cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        env={**server.env, "COLUMNS": "400"},  # rich cuts long cells to the width
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=120,
        check=False,
    )


# -- invalid Unicode ---------------------------------------------------------------------------
SURROGATES = [
    ("POST", INST, '{"vnfdId": "VNFD", "vnfInstanceName": "\\ud800"}', "vnfInstanceName"),
    (
        "POST",
        INST,
        '{"vnfdId": "VNFD", "vnfInstanceDescription": "a\\udfffb"}',
        "vnfInstanceDescription",
    ),
    ("POST", INST, '{"vnfdId": "VNFD", "metadata": {"\\udc80": 1}}', "metadata.\\udc80"),
    (
        "POST",
        INST,
        '{"vnfdId": "VNFD", "metadata": {"l": [1, {"x": "\\ude00\\ud83d"}]}}',
        "metadata.l[1].x",
    ),
    ("POST", PKGS, '{"userDefinedData": {"k": "\\ud800"}}', "userDefinedData.k"),
    (
        "POST",
        SUBS,
        '{"callbackUri": "http://127.0.0.1:9/cb", "filter": {"vnfInstanceSubscriptionFilter":'
        ' {"vnfInstanceNames": ["\\ud800"]}}}',
        "filter.vnfInstanceSubscriptionFilter.vnfInstanceNames[0]",
    ),
    (
        "POST",
        PKG_SUBS,
        '{"callbackUri": "http://127.0.0.1:9/\\udbff", "filter": {}}',
        "callbackUri",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), SURROGATES)
def test_lone_surrogates_are_refused_and_nothing_is_stored(
    server: Server, vnfd_id: str, method: str, path: str, body: str, field: str | None
) -> None:
    with server.client() as c:
        before = records(c)
        r = send_raw(c, method, path, body.replace("VNFD", vnfd_id))
        doc = refused(r, 400, field)
        assert "lone surrogate" in doc["detail"], doc
        assert records(c) == before
    assert "Traceback" not in run_cli(server, "list").stderr


def test_a_surrogate_pair_is_a_character(server: Server, vnfd_id: str) -> None:
    """The check is not a blunt one: an escaped pair is one astral character, taken."""
    with server.client() as c:
        body = '{"vnfdId": "%s", "vnfInstanceName": "\\ud83d\\ude00 \\u200f\\u0301\\uffff\\u0000"}'
        r = send_raw(c, "POST", INST, body % vnfd_id)
        assert r.status_code == 201, r.text
        assert r.json()["vnfInstanceName"] == "\U0001f600 \u200f\u0301\uffff\x00"
        shown = c.get(f"{INST}/{r.json()['id']}").json()["vnfInstanceName"]
        assert shown == "\U0001f600 \u200f\u0301\uffff\x00"
        assert c.delete(f"{INST}/{r.json()['id']}").status_code == 204


# -- numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_non_finite_numbers_are_refused(server: Server, vnfd_id: str, number: str) -> None:
    with server.client() as c:
        before = records(c)
        body = f'{{"vnfdId": "{vnfd_id}", "metadata": {{"x": {number}}}}}'
        refused(send_raw(c, "POST", INST, body), 400, "metadata.x")
        pkg = c.post(PKGS, json={}).json()["id"]
        patch = f'{{"userDefinedData": {{"a": [{number}]}}}}'
        merge = {"Content-Type": "application/merge-patch+json"}
        refused(send_raw(c, "PATCH", f"{PKGS}/{pkg}", patch, **merge), 400, "userDefinedData.a[0]")
        assert c.get(f"{PKGS}/{pkg}").json()["userDefinedData"] == {}
        assert c.delete(f"{PKGS}/{pkg}").status_code == 204
        assert records(c) == before


# -- depth and size ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [65, 500, 999, 200_000])
def test_deep_nesting_is_refused_before_parsing(server: Server, vnfd_id: str, depth: int) -> None:
    with server.client() as c:
        before = records(c)
        nested = "[" * depth + "]" * depth
        body = f'{{"vnfdId": "{vnfd_id}", "metadata": {{"x": {nested}}}}}'
        doc = refused(send_raw(c, "POST", INST, body), 400, "body")
        assert "nested deeper than 64" in doc["detail"], doc
        assert records(c) == before
        # brackets inside strings are text, not depth
        text = json.dumps({"vnfdId": vnfd_id, "metadata": {"x": "[" * 5000}})
        r = send_raw(c, "POST", INST, text)
        assert r.status_code == 201, r.text
        assert c.delete(f"{INST}/{r.json()['id']}").status_code == 204


def test_huge_strings_are_refused(server: Server, vnfd_id: str) -> None:
    with server.client() as c:
        before = records(c)
        twelve = json.dumps({"vnfdId": vnfd_id, "vnfInstanceName": "n" * (12 * MB)})
        doc = refused(send_raw(c, "POST", INST, twelve), 413)
        assert "larger than 1048576 bytes" in doc["detail"], doc
        long_name = {"vnfdId": vnfd_id, "vnfInstanceName": "n" * 256}
        refused(c.post(INST, json=long_name), 400, "vnfInstanceName")
        blob = {"vnfdId": vnfd_id, "metadata": {"blob": "b" * 70_000}}
        doc = refused(c.post(INST, json=blob), 400, "metadata.blob")
        assert "longer than 65536 characters" in doc["detail"]
        wide = {"vnfdId": vnfd_id, "metadata": {str(i): i for i in range(1001)}}
        refused(c.post(INST, json=wide), 400, "metadata")
        assert records(c) == before


# -- authentication before the body, size before reading ---------------------------------------------
def raw_exchange(port: int, head: str, body: bytes = b"", timeout: float = 10.0) -> bytes:
    """Send a request head (and maybe part of a body); what the server answers at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        return read_response(sock)


def read_response(sock: socket.socket) -> bytes:
    """One response (by its Content-Length), leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the body")
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length]


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_anonymous_body_is_never_parsed(server: Server) -> None:
    r = httpx.post(
        f"{server.url}{INST}", content=b'{"vnfdId": ', headers={"Content-Type": "application/json"}
    )
    refused(r, 401)
    # 50 MB announced, none sent: the answer comes without waiting for it
    head = (
        f"POST {INST} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * MB}\r\n\r\n"
    )
    answer = raw_exchange(server.port, head)
    assert status_of(answer) == 401, answer
    assert b"connection: close" in answer.lower(), answer


def peak_rss_kb(pid: int, reset: bool = False) -> int:
    """The process's peak resident size (VmHWM); ``reset`` starts a new peak."""
    if reset:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_anonymous_50_mb_is_refused_unread_and_rss_stays_flat(server: Server) -> None:
    assert server.proc is not None
    before = peak_rss_kb(server.proc.pid, reset=True)
    head = f"POST {PKGS} HTTP/1.1\r\nHost: x\r\nContent-Length: {50 * MB}\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        try:
            while sent < 50 * MB:
                sock.sendall(b"x" * MB)
                sent += MB
        except OSError:
            pass  # refused and closed before it was all sent: what should happen
    assert sent < 50 * MB, "the server read all of an anonymous 50 MB body"
    time.sleep(0.5)
    grown = peak_rss_kb(server.proc.pid) - before
    assert grown < 20 * 1024, f"server peak RSS grew by {grown} kB for an anonymous 50 MB body"


def test_bodies_are_refused_by_size_before_they_are_read(server: Server) -> None:
    auth = f"Host: x\r\nAuthorization: {BASIC}\r\nVersion: 2.0.0\r\n"
    # by Content-Length: nothing needs to be sent
    head = f"POST {INST} HTTP/1.1\r\n{auth}Content-Type: application/json\r\n"
    answer = raw_exchange(server.port, head + f"Content-Length: {50 * MB}\r\n\r\n")
    assert status_of(answer) == 413, answer
    # chunked: counted while read, refused once past the limit
    chunk = b"x" * 65536
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 17  # 1.06 MB, no last chunk
    answer = raw_exchange(server.port, head + "Transfer-Encoding: chunked\r\n\r\n", body)
    assert status_of(answer) == 413, answer
    assert b"larger than 1048576 bytes" in answer
    # a package upload has its own limit (VNFM_API_MAX_PACKAGE_MB), checked up front too
    with server.client() as c:
        pkg = c.post(PKGS, json={}).json()["id"]
        upload = (
            f"PUT {PKGS}/{pkg}/package_content HTTP/1.1\r\n{auth}"
            f"Content-Type: application/zip\r\nContent-Length: {600 * MB}\r\n\r\n"
        )
        answer = raw_exchange(server.port, upload)
        assert status_of(answer) == 413 and b"larger than 512 MB" in answer, answer
        assert c.get(f"{PKGS}/{pkg}").json()["onboardingState"] == "CREATED"
        assert c.delete(f"{PKGS}/{pkg}").status_code == 204


# -- metrics ---------------------------------------------------------------------------------------------
def test_made_up_methods_add_no_metric_series(server: Server) -> None:
    with server.client() as c:
        for i in range(40):
            assert c.request(f"X{uuid.uuid4().hex[:8].upper()}{i}", INST).status_code < 500
        text = c.get("/metrics").text
    methods = {
        line.split('method="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("vnfm_api_request") and 'method="' in line
    }
    assert "OTHER" in methods
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}


# -- a broken record: a 500 keeps the connection, the CLI lists it ------------------------------------
@pytest.fixture
def broken_instance(server: Server, vnfd_id: str) -> Iterator[str]:
    """An instance row as the old server wrote it from {"vnfInstanceName": "\\ud800"}:
    JSON text the database takes, whose document no response can encode."""
    db = sqlite3.connect(server.home / "vnfm.db", timeout=30)
    try:
        (package_id,) = db.execute("SELECT id FROM vnf_packages LIMIT 1").fetchone()
        instance_id = str(uuid.uuid4())
        doc = (
            f'{{"id": "{instance_id}", "vnfInstanceName": "bad-\\udc80-name", '
            f'"vnfdId": "{vnfd_id}", "instantiationState": "NOT_INSTANTIATED"}}'
        )
        with db:
            db.execute(
                "INSERT INTO vnf_instances (id, vnfd_id, package_id, instantiation_state, doc,"
                " created_at) VALUES (?, ?, ?, 'NOT_INSTANTIATED', ?, '2000-01-01 00:00:00')",
                (instance_id, vnfd_id, package_id, doc),
            )
        yield instance_id
    finally:
        with db:
            db.execute("DELETE FROM vnf_instances WHERE doc LIKE '%bad-%'")
        db.close()


def test_a_500_keeps_the_connection_alive(server: Server, broken_instance: str) -> None:
    auth = f"Host: x\r\nAuthorization: {BASIC}\r\nVersion: 2.0.0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(f"GET {INST}/{broken_instance} HTTP/1.1\r\n{auth}".encode())
        first = read_response(sock)
        assert status_of(first) == 500, first
        assert b"application/problem+json" in first and b"internal error" in first, first
        # one request at a time on the same connection (not pipelined: how uvicorn
        # schedules pipelined requests under load is not what this test is about)
        sock.sendall(f"GET {INST}/api_versions HTTP/1.1\r\n{auth}".encode())
        assert status_of(read_response(sock)) == 404  # on the same connection
        sock.sendall(f"GET /vnflcm/v2/api_versions HTTP/1.1\r\n{auth}".encode())
        assert status_of(read_response(sock)) == 200
    assert "Exception in ASGI application" not in server.log()


def test_cli_lists_a_record_it_cannot_print_plainly(server: Server, broken_instance: str) -> None:
    done = run_cli(server, "list")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "bad-\\udc80-name" in done.stdout


# -- the store refuses what it could not give back --------------------------------------------------------
def test_the_cli_cannot_poison_the_store(server: Server, vnfd_id: str) -> None:
    with server.client() as c:
        before = records(c)
    done = run_cli(server, "create", "--vnfd-id", vnfd_id, "--name", "bad-\udc80")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "vnfInstanceName is not valid Unicode" in done.stderr, done.stderr
    with server.client() as c:
        assert records(c) == before
    assert "bad-" not in run_cli(server, "list").stdout


def test_the_store_refuses_non_finite_and_invalid_unicode(server: Server, vnfd_id: str) -> None:
    from vnfm_runner.errors import LcmError

    svc = server.service()
    doc = svc.create(vnfd_id=vnfd_id, name="store-check")
    try:
        for bad, where in (
            ({**doc, "metadata": {"x": float("nan")}}, "metadata.x"),
            ({**doc, "metadata": {"x": [float("inf")]}}, "metadata.x[0]"),
            ({**doc, "vnfInstanceName": "a\ud800"}, "vnfInstanceName"),
        ):
            with pytest.raises(LcmError, match=f"^not stored: {re.escape(where)} is"):
                svc.store.update_instance(doc["id"], doc=bad)
        row = svc.store.instance(doc["id"])
        assert row is not None and row.doc == doc
    finally:
        svc.store.delete_instance(doc["id"])
