"""The SSRF matrix: every outgoing request of the VNFM obeys one address policy
(vnfm_runner/outbound.py), and every transfer has a wall-clock deadline.

A real ``vnfm serve`` with ``VNFM_OUTBOUND_DENY=127.0.0.2/32`` and a trap
listener on 127.0.0.2 that counts the connections it gets: the deny list is
honoured end to end when the trap saw none. The other targets (cloud metadata
in its many spellings, link-local IPv6, 0.0.0.0) are refused whatever the
settings say; nothing listens there, the API's answer and the trap prove no
request was made. A slow-drip source proves the download deadline.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.file_server import OAUTH_CLIENT, OAUTH_SECRET, FileServer
from tests.api.server import WEBFARM, Server, make_server, onboard_via_api, zip_dir
from tests.notify.subscriber import Subscriber
from vnfm_runner.api.package_fetch import FetchError, Source, fetch
from vnfm_runner.grants import GrantClient, GrantRefused
from vnfm_runner.lcm import Vnfm
from vnfm_runner.notify.sender import Sender
from vnfm_runner.outbound import Policy, Refused, client, parse_networks
from vnfm_runner.settings import Settings

PKGS = "/vnfpkgm/v1/vnf_packages"
LCM_SUBS = "/vnflcm/v2/subscriptions"
PKG_SUBS = "/vnfpkgm/v1/subscriptions"
FETCH_TIMEOUT = 3.0  # the server's VNFM_API_FETCH_TIMEOUT
WEBFARM_ZIP = zip_dir(WEBFARM)
DENIED = "127.0.0.2"  # VNFM_OUTBOUND_DENY of the server under test

ALWAYS_REFUSED = [
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://0251.0376.0251.0376/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
]


class Trap:
    """A listener on an address the VNFM must never reach; counts connections."""

    def __init__(self, host: str = DENIED) -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self._closed = True
        self.sock.close()


class Peers(ThreadingHTTPServer):
    """A source on an allowed address: ``/to?u=URL`` redirects (302) to URL, ``/drip``
    sends a large zip one byte every 2 s, ``/slow-cb`` answers a notification likewise."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PeerHandler)
        self.daemon_threads = True
        self.drips_cut = 0  # drip connections the client closed
        self.closing = threading.Event()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def drip(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/zip")
        handler.send_header("Content-Length", str(512 * 1024))
        handler.end_headers()
        try:
            for _ in range(300):  # ten minutes at most
                handler.wfile.write(b"P")
                handler.wfile.flush()
                if self.closing.wait(2.0):
                    return
        except OSError:
            self.drips_cut += 1


class _PeerHandler(BaseHTTPRequestHandler):
    server: Peers
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/to":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["u"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts.path == "/drip":
            self.server.drip(self)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.drip(self)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = make_server(
        tmp_path_factory.mktemp("vnfm-outbound"),
        outbound_deny=f"{DENIED}/32",
        api_fetch_timeout=str(FETCH_TIMEOUT),
        package_workers="1",  # one package worker: a stuck download would hold it
        workers="1",
    ).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def trap() -> Iterator[Trap]:
    t = Trap()
    try:
        yield t
    finally:
        t.close()


@pytest.fixture(scope="module")
def peers() -> Iterator[Peers]:
    p = Peers()
    try:
        yield p
    finally:
        p.closing.set()
        p.shutdown()
        p.server_close()


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    fs = FileServer({"/webfarm.zip": WEBFARM_ZIP, "/oauth/webfarm.zip": WEBFARM_ZIP})
    try:
        yield fs
    finally:
        fs.close()


TARGETS = [*range(len(ALWAYS_REFUSED)), "deny-list"]


def target(trap: Trap, which: int | str) -> str:
    return trap.url("/x") if which == "deny-list" else ALWAYS_REFUSED[int(which)]


def new_package(client: httpx.Client) -> str:
    r = client.post(PKGS, json={})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def settled(client: httpx.Client, pkg_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc: dict[str, Any] = client.get(f"{PKGS}/{pkg_id}").json()
        if doc["onboardingState"] not in ("UPLOADING", "PROCESSING"):
            return doc
        time.sleep(0.1)
    raise AssertionError(f"package {pkg_id} never settled")


def assert_refused(r: httpx.Response, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["detail"].startswith(f"{field}: "), problem
    assert "does not connect there" in problem["detail"]


# -- upload_from_uri ------------------------------------------------------------------------------
@pytest.mark.parametrize("which", TARGETS)
def test_upload_from_uri_never_fetches_a_refused_address(
    client: httpx.Client, trap: Trap, which: int | str
) -> None:
    pkg_id = new_package(client)
    body = {"addressInformation": target(trap, which)}
    r = client.post(f"{PKGS}/{pkg_id}/package_content/upload_from_uri", json=body)
    assert_refused(r, "addressInformation")
    # refused before it was accepted: not UPLOADING, nothing to wait for
    assert client.get(f"{PKGS}/{pkg_id}").json()["onboardingState"] == "CREATED"
    assert trap.connections == 0


@pytest.mark.parametrize("which", TARGETS)
def test_package_token_endpoint_is_checked(
    client: httpx.Client, files: FileServer, trap: Trap, which: int | str
) -> None:
    pkg_id = new_package(client)
    body = {
        "addressInformation": files.url("/oauth/webfarm.zip"),
        "authType": "OAUTH2_CLIENT_CREDENTIALS",
        "paramsOauth2ClientCredentials": {
            "clientId": OAUTH_CLIENT,
            "clientPassword": OAUTH_SECRET,
            "tokenEndpoint": target(trap, which),
        },
    }
    before = len(files.requests)
    r = client.post(f"{PKGS}/{pkg_id}/package_content/upload_from_uri", json=body)
    assert_refused(r, "paramsOauth2ClientCredentials.tokenEndpoint")
    assert OAUTH_SECRET not in r.text
    assert client.get(f"{PKGS}/{pkg_id}").json()["onboardingState"] == "CREATED"
    assert len(files.requests) == before and trap.connections == 0


@pytest.mark.parametrize(
    "to",
    [
        "deny-list",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://2852039166/",
    ],
)
def test_a_redirect_to_a_refused_address_is_not_followed(
    client: httpx.Client, peers: Peers, trap: Trap, to: str
) -> None:
    hop = trap.url("/x.zip") if to == "deny-list" else to
    pkg_id = new_package(client)
    uri = str(httpx.URL(peers.url("/to"), params={"u": hop}))
    r = client.post(
        f"{PKGS}/{pkg_id}/package_content/upload_from_uri", json={"addressInformation": uri}
    )
    assert r.status_code == 202, r.text  # the first address is allowed
    doc = settled(client, pkg_id)
    assert doc["onboardingState"] == "ERROR", doc
    failure = doc["onboardingFailureDetails"]
    assert failure["status"] == 422 and failure["detail"].startswith("addressInformation: ")
    assert "does not connect there" in failure["detail"], failure
    assert trap.connections == 0


def test_a_slow_drip_source_is_cut_at_the_deadline_and_frees_the_worker(
    client: httpx.Client, peers: Peers, files: FileServer
) -> None:
    # one byte every 2 s: each read answers within any per-read timeout, the 1 MB chunk
    # never fills; only a wall-clock deadline stops it
    pkg_id = new_package(client)
    started = time.monotonic()
    body = {"addressInformation": peers.url("/drip")}
    assert (
        client.post(f"{PKGS}/{pkg_id}/package_content/upload_from_uri", json=body).status_code
        == 202
    )
    doc = settled(client, pkg_id, timeout=60)
    took = time.monotonic() - started
    assert doc["onboardingState"] == "ERROR", doc
    failure = doc["onboardingFailureDetails"]
    assert (
        failure["status"] == 504 and f"did not deliver in {FETCH_TIMEOUT:g} s" in failure["detail"]
    )
    assert FETCH_TIMEOUT - 0.5 < took < FETCH_TIMEOUT + 3, took
    wait = time.monotonic() + 5
    while peers.drips_cut == 0 and time.monotonic() < wait:
        time.sleep(0.1)
    assert peers.drips_cut >= 1  # the VNFM closed the connection
    # the only package worker is free again: the next upload goes through
    next_id = new_package(client)
    body = {"addressInformation": files.url("/webfarm.zip")}
    assert (
        client.post(f"{PKGS}/{next_id}/package_content/upload_from_uri", json=body).status_code
        == 202
    )
    doc = settled(client, next_id)
    assert doc["onboardingState"] == "ONBOARDED", doc.get("onboardingFailureDetails")


# -- subscriptions --------------------------------------------------------------------------------
def _count(client: httpx.Client, base: str) -> int:
    r = client.get(base)
    assert r.status_code == 200, r.text
    return len(r.json())


@pytest.mark.parametrize("base", [LCM_SUBS, PKG_SUBS])
@pytest.mark.parametrize("which", TARGETS)
def test_a_callback_at_a_refused_address_is_not_subscribed(
    client: httpx.Client, trap: Trap, base: str, which: int | str
) -> None:
    before = _count(client, base)
    r = client.post(base, json={"callbackUri": target(trap, which)})
    assert_refused(r, "callbackUri")
    assert _count(client, base) == before  # nothing stored
    assert trap.connections == 0


@pytest.mark.parametrize("base", [LCM_SUBS, PKG_SUBS])
@pytest.mark.parametrize("which", TARGETS)
def test_a_subscription_token_endpoint_at_a_refused_address_is_not_subscribed(
    client: httpx.Client, subscriber: Subscriber, trap: Trap, base: str, which: int | str
) -> None:
    before = _count(client, base)
    auth = {
        "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
        "paramsOauth2ClientCredentials": {
            "clientId": "c",
            "clientPassword": "Sub-Secret-never-shown-3c1",
            "tokenEndpoint": target(trap, which),
        },
    }
    r = client.post(base, json={"callbackUri": subscriber.url, "authentication": auth})
    assert_refused(r, "authentication.paramsOauth2ClientCredentials.tokenEndpoint")
    assert "Sub-Secret-never-shown-3c1" not in r.text
    assert _count(client, base) == before
    assert trap.connections == 0 and not subscriber.token_requests


def test_an_ambiguous_ipv4_spelling_is_a_400(client: httpx.Client, subscriber: Subscriber) -> None:
    # 0177.0.0.1 is 127.0.0.1 to the resolver, a bad URL to httpx (it was a 500)
    uri = subscriber.url.replace("127.0.0.1", "0177.0.0.1")
    r = client.post(LCM_SUBS, json={"callbackUri": uri})
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == "callbackUri: write the IPv4 address 0177.0.0.1 as 127.0.0.1"


def test_a_failed_test_get_does_not_tell_what_the_target_sent(
    client: httpx.Client, files: FileServer
) -> None:
    # an allowed target that answers 200 with a body: the caller learns the status only
    r = client.post(LCM_SUBS, json={"callbackUri": files.url("/webfarm.zip")})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == "callbackUri answered the test GET with 200, not 204"
    # and the test GET follows no redirect (it would go where the caller may not look)
    r = client.post(LCM_SUBS, json={"callbackUri": files.url("/redirect/webfarm.zip")})
    assert r.status_code == 422 and "with 302" in r.json()["detail"], r.text


def test_a_name_is_allowed_when_all_its_addresses_are(
    client: httpx.Client, subscriber: Subscriber
) -> None:
    uri = subscriber.url.replace("127.0.0.1", "localhost")
    r = client.post(LCM_SUBS, json={"callbackUri": uri})
    assert r.status_code == 201, r.text
    assert client.delete(f"{LCM_SUBS}/{r.json()['id']}").status_code == 204


# -- the clients, in this process -----------------------------------------------------------------
def deny_trap() -> Policy:
    return Policy(deny=parse_networks(f"{DENIED}/32", "deny"))


def test_notification_delivery_obeys_the_policy(trap: Trap) -> None:
    sender = Sender(5.0, deny_trap())
    try:
        outcome = sender.send("sub-1", trap.url("/cb"), {"id": "n1"}, None)
        assert not outcome.ok and "VNFM_OUTBOUND_DENY" in outcome.detail, outcome
        auth = {
            "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
            "paramsOauth2ClientCredentials": {
                "clientId": "c",
                "clientPassword": "p",
                "tokenEndpoint": "http://[::ffff:169.254.169.254]/token",
            },
        }
        outcome = sender.send("sub-2", trap.url("/cb"), {"id": "n2"}, auth)
        assert (
            not outcome.ok and "token endpoint" in outcome.detail and "link-local" in outcome.detail
        )
    finally:
        sender.close()
    assert trap.connections == 0


def test_a_slow_subscriber_is_cut_at_the_delivery_timeout(peers: Peers) -> None:
    sender = Sender(2.0, Policy())
    try:
        started = time.monotonic()
        outcome = sender.send("sub-3", peers.url("/slow-cb"), {"id": "n3"}, None)
        took = time.monotonic() - started
    finally:
        sender.close()
    assert not outcome.ok and "Timeout" in outcome.detail, outcome
    assert took < 2.0 + 1.5, took


def test_package_fetch_redirect_hops_are_each_checked(
    peers: Peers, trap: Trap, tmp_path: Path
) -> None:
    target_zip = tmp_path / "p.zip"
    uri = str(httpx.URL(peers.url("/to"), params={"u": trap.url("/p.zip")}))
    with pytest.raises(FetchError) as err:
        fetch(Source(uri, policy=deny_trap()), target_zip, limit=1024, timeout=10)
    assert (
        err.value.status == 422
        and f"{DENIED} is an address in VNFM_OUTBOUND_DENY" in err.value.detail
    )
    assert trap.connections == 0 and not target_zip.exists()


def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch, files: FileServer
) -> None:
    # DNS rebinding: the name answers an allowed address once, a refused one after.
    # The client resolves once per connection and connects to what it checked; the
    # Host header still names the name.
    calls: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        calls.append(host)
        address = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with client(Policy(), timeout=10) as http:
        r = http.get(f"http://rebind.example:{files.port}/webfarm.zip")
        assert r.status_code == 200 and r.content == WEBFARM_ZIP
        assert calls == ["rebind.example"]
        # a new connection resolves again, and is refused
        http.close()
    with (
        client(Policy(), timeout=10) as http,
        pytest.raises(Refused, match=r"rebind\.example resolves to 169\.254\.169\.254"),
    ):
        http.get(f"http://rebind.example:{files.port}/webfarm.zip")


def test_a_refused_nfvo_is_never_asked(tmp_path: Path, trap: Trap) -> None:
    for url in (trap.url(), "http://[::ffff:a9fe:a9fe]"):
        grants = GrantClient(
            Settings(home=tmp_path / "h", nfvo_url=url, outbound_deny=f"{DENIED}/32")
        )
        with pytest.raises(GrantRefused, match=r"VNFM_NFVO_URL: .*does not connect there"):
            grants.ask({"vnfInstanceId": "i", "vnfLcmOpOccId": "o"})
    token = GrantClient(
        Settings(
            home=tmp_path / "h",
            nfvo_url="http://127.0.0.1:9",
            nfvo_token_url=trap.url("/token"),
            nfvo_client_id="vnfm",
            nfvo_client_secret="s",
            outbound_deny=f"{DENIED}/32",
        )
    )
    with pytest.raises(GrantRefused, match="VNFM_NFVO_TOKEN_URL"):
        token.ask({"vnfInstanceId": "i", "vnfLcmOpOccId": "o"})
    assert trap.connections == 0


def test_an_operation_with_a_refused_nfvo_is_rolled_back(tmp_path: Path, trap: Trap) -> None:
    service = Vnfm.open(
        Settings(home=tmp_path / "home", nfvo_url=trap.url(), outbound_deny=f"{DENIED}/32"),
        recover=False,
    )
    pkg = service.onboard(WEBFARM)
    instance = service.create(vnfd_id=pkg.vnfd_id)
    op = service.instantiate(instance_id=instance["id"], request={"flavourId": "default"})
    assert op["operationState"] == "ROLLED_BACK", op
    assert "VNFM_OUTBOUND_DENY" in op["error"]["detail"], op["error"]
    assert service.instance(instance["id"]).instantiation_state == "NOT_INSTANTIATED"
    assert trap.connections == 0


# -- the VIM a request names ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "which"),
    [("endpoint", 0), ("endpoint", 2), ("endpoint", "deny-list"), ("authUrl", 5)],
)
def test_a_vim_at_a_refused_address_is_not_used(
    client: httpx.Client, trap: Trap, where: str, which: int | str
) -> None:
    # the VNFM would send the VIM credentials there: refused before anything is recorded
    r = client.get(PKGS, params={"filter": "(eq,onboardingState,ONBOARDED)"})
    onboarded = r.json()
    vnfd_id = (
        onboarded[0]["vnfdId"] if onboarded else onboard_via_api(client, WEBFARM_ZIP)["vnfdId"]
    )
    r = client.post("/vnflcm/v2/vnf_instances", json={"vnfdId": vnfd_id})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    vim = {
        "vim1": {
            "vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3",
            "interfaceInfo": {where: target(trap, which)},
            "accessInfo": {"username": "admin", "password": "Vim-Pa55-never-shown", "project": "p"},
        }
    }
    before = client.get("/vnflcm/v2/vnf_lcm_op_occs").json()
    body = {"flavourId": "default", "vimConnectionInfo": vim}
    r = client.post(f"/vnflcm/v2/vnf_instances/{iid}/instantiate", json=body)
    assert r.status_code == 422, r.text
    assert f"vimConnectionInfo.vim1.interfaceInfo.{where}: " in r.json()["detail"], r.text
    assert "does not connect there" in r.json()["detail"]
    assert "Vim-Pa55-never-shown" not in r.text
    assert client.get("/vnflcm/v2/vnf_lcm_op_occs").json() == before  # nothing recorded
    assert client.get(f"/vnflcm/v2/vnf_instances/{iid}").json()["instantiationState"] == (
        "NOT_INSTANTIATED"
    )
    assert trap.connections == 0
