"""Faults from the VIM, the parts that need no cloud.

The fault proxy of tests/openstack/fault_proxy.py against two small real HTTP upstreams (a
"Keystone" whose answer names the other one, as a service catalog does), with a real HTTP
client; and the OpenStack driver's handling of what such faults leave behind (a Neutron
resource created but never tagged, found by its description; a server created by a lost
answer still building on the retry).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import apply, discover, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.apply import (
    Settings,
    apply_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.connect import connect
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    compute_changes,
    removal_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import Port

from tests.openstack.fault_proxy import Fault, FaultProxy, Rule
from tests.unit.test_openstack_diff import INST, desired, observed_from


# -- the proxy ----------------------------------------------------------------------------------
class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Any) -> None:
        self.answer = answer  # callable(path) -> JSON-able
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _UpHandler)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _UpHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Upstream

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append(f"{self.command} {self.path}")
        data = json.dumps(self.server.answer(self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Location", f"{self.server.origin}{self.path}")
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_DELETE = do_GET


@pytest.fixture
def bed() -> Iterator[tuple[_Upstream, _Upstream, FaultProxy]]:
    nova = _Upstream(lambda path: {"path": path})
    keystone = _Upstream(
        lambda path: {"catalog": [{"type": "compute", "url": f"{nova.origin}/v2.1"}]}
    )
    for up in (nova, keystone):
        threading.Thread(target=up.serve_forever, daemon=True).start()
    proxy = FaultProxy(f"{keystone.origin}/v3").start()
    yield keystone, nova, proxy
    proxy.stop()
    for up in (nova, keystone):
        up.shutdown()
        up.server_close()


def _compute_url(proxy: FaultProxy) -> str:
    catalog = requests.post(f"{proxy.auth_url}/auth/tokens", json={}, timeout=5).json()
    return str(catalog["catalog"][0]["url"])


def test_the_catalog_leads_every_service_through_the_proxy(bed: Any) -> None:
    _keystone, nova, proxy = bed
    url = _compute_url(proxy)
    assert url.startswith("http://127.0.0.1:") and nova.origin not in url
    answer = requests.get(f"{url}/servers?name=x", timeout=5)
    assert answer.json() == {"path": "/v2.1/servers?name=x"}
    assert answer.headers["Location"] == f"{url}/servers?name=x"  # headers rewritten too
    assert nova.seen == ["GET /v2.1/servers?name=x"]
    assert [(c.method, c.path, c.status) for c in proxy.log()] == [
        ("POST", "/v3/auth/tokens", 200),
        ("GET", "/v2.1/servers", 200),
    ]


def test_error_on_the_nth_matching_call_only(bed: Any) -> None:
    _keystone, nova, proxy = bed
    url = _compute_url(proxy)
    rule = proxy.add(Rule("POST", r"/servers$", Fault("error", status=503), nth=2))
    codes = [requests.post(f"{url}/servers", json={}, timeout=5).status_code for _ in range(3)]
    assert codes == [200, 503, 200]
    assert requests.get(f"{url}/servers", timeout=5).status_code == 200  # GET: no match
    assert (rule.seen, rule.fired) == (3, 1)
    assert len(nova.seen) == 3  # the hurt call never reached the upstream
    (hurt,) = proxy.hurt()
    assert (hurt.path, hurt.status, hurt.fault, hurt.upstream) == (
        "/v2.1/servers",
        503,
        "error 503",
        None,
    )


def test_forward_then_error_does_the_work_and_loses_the_answer(bed: Any) -> None:
    _keystone, nova, proxy = bed
    url = _compute_url(proxy)
    proxy.add(Rule("POST", r"/servers$", Fault("error", status=500, forward=True)))
    answer = requests.post(f"{url}/servers", json={}, timeout=5)
    assert answer.status_code == 500 and "injected fault" in answer.text
    assert nova.seen == ["POST /v2.1/servers"]
    assert proxy.hurt()[0].upstream == 200


@pytest.mark.parametrize("forward", [False, True])
@pytest.mark.parametrize("kind", ["reset", "reset_after_headers"])
def test_connection_reset(bed: Any, kind: str, forward: bool) -> None:
    _keystone, nova, proxy = bed
    url = _compute_url(proxy)
    proxy.add(Rule("POST", r"/ports$", Fault(kind, forward=forward)))  # type: ignore[arg-type]
    with pytest.raises(requests.exceptions.RequestException):
        requests.post(f"{url}/ports", json={}, timeout=5)
    assert len(nova.seen) == int(forward)
    assert requests.post(f"{url}/ports", json={}, timeout=5).ok  # once only


def test_hang_until_the_client_gives_up(bed: Any) -> None:
    _keystone, nova, proxy = bed
    url = _compute_url(proxy)
    proxy.add(Rule("GET", r"/volumes", Fault("hang")))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{url}/volumes", timeout=1.5)
    assert 1.4 < time.monotonic() - started < 5
    assert nova.seen == []
    deadline = time.monotonic() + 5  # the proxy logs the hang once the client has gone
    while not proxy.hurt() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(c.fault, c.status) for c in proxy.hurt()] == [("hang", None)]


def test_slow_answer(bed: Any) -> None:
    _keystone, _nova, proxy = bed
    url = _compute_url(proxy)
    proxy.add(Rule("DELETE", r"/servers/", Fault("slow", delay=1.0), times=0))
    for _ in range(2):
        started = time.monotonic()
        assert requests.delete(f"{url}/servers/abc", timeout=5).ok
        assert time.monotonic() - started >= 1.0


def test_a_fault_of_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="fault kind 'boom'"):
        Fault("boom")  # type: ignore[arg-type]


# -- the driver: what a lost answer leaves behind -------------------------------------------------
TAG = naming.tag(INST)


class _Listing:
    """One SDK listing method: the given resources, filtered as Neutron would, except that a
    ``description`` filter may be ignored (an older Neutron lists everything)."""

    def __init__(self, items: list[dict[str, Any]], honour_description: bool = True) -> None:
        self.items, self.honour = items, honour_description

    def __call__(self, **query: Any) -> list[dict[str, Any]]:
        out = self.items
        if "tags" in query:
            out = [i for i in out if query["tags"] in (i.get("tags") or [])]
        if "description" in query and self.honour:
            out = [i for i in out if i.get("description") == query["description"]]
        return out


class _Conn:
    def __init__(
        self,
        ports: list[dict[str, Any]],
        honour_description: bool = True,
        servers: list[dict[str, Any]] | None = None,
    ) -> None:
        empty = _Listing([])
        self.network = SimpleNamespace(
            networks=empty,
            subnets=empty,
            ports=_Listing(ports, honour_description),
            security_groups=empty,
            ips=empty,
        )
        self.compute = SimpleNamespace(server_groups=empty, servers=_Listing(servers or []))
        self.image = SimpleNamespace(images=empty)
        self.block_storage = SimpleNamespace(volumes=empty)


def _port(pid: str, name: str, **kw: Any) -> dict[str, Any]:
    return {"id": pid, "name": name, "network_id": "n1", "mac_address": "fa:16:3e:00:00:01", **kw}


@pytest.mark.parametrize("honour_description", [True, False])
def test_discovery_finds_a_port_created_without_its_tag(honour_description: bool) -> None:
    """A port whose creation answer was lost has its name and description but no tag (Neutron
    takes tags only in a second call): discovery finds it by the description, nothing else."""
    prefix = naming.prefix(INST)
    ports = [
        _port("p-tagged", f"{prefix}-web-0-web_cp", tags=[TAG], description=TAG),
        _port("p-lost", f"{prefix}-lb-0-lb_int_cp", description=TAG),
        _port("p-other", f"{prefix}-lb-0-lb_ext_cp", description="someone else's"),
        _port("p-other-inst", "vnf-00000000-x", description=naming.tag("another")),
    ]
    obs = discover.discover(_Conn(ports, honour_description), INST, has_volumes=True)
    assert sorted(p.id for p in obs.ports.values()) == ["p-lost", "p-tagged"]
    assert obs.untagged == {"ports": {"p-lost"}}


def test_discovery_skips_a_deleted_server_that_nova_still_lists() -> None:
    """Nova answers a deleted server with status DELETED until it purges the record: that
    server is gone. A healed VNFC's new server (same name, created later) is the VNFC's
    server, not a stray to delete; a removal has nothing left to wait for."""
    prefix = naming.prefix(INST)

    def server(sid: str, vnfc: str, status: str, created: str) -> dict[str, Any]:
        meta = {naming.TAG_KEY: INST, naming.VNFC_KEY: vnfc}
        name = f"{prefix}-{vnfc}"
        return {"id": sid, "name": name, "status": status, "created_at": created, "metadata": meta}

    servers = [
        server("old-web-0", "web-0", "DELETED", "2026-01-01T00:00:00Z"),
        server("new-web-0", "web-0", "BUILD", "2026-01-01T00:01:00Z"),
        server("old-web-1", "web-1", "DELETED", "2026-01-01T00:00:00Z"),
        server("going-lb-0", "lb-0", "ACTIVE", "2026-01-01T00:00:00Z"),
    ]
    obs = discover.discover(_Conn([], servers=servers), INST, has_volumes=True)
    assert {n: s.id for n, s in obs.servers.items()} == {
        f"{prefix}-web-0": "new-web-0",
        f"{prefix}-lb-0": "going-lb-0",
    }
    assert obs.strays == {}
    assert removal_changes(INST, obs).actions == [
        f"delete server {prefix}-lb-0",
        f"delete server {prefix}-web-0",
    ]


def test_a_kept_untagged_port_is_tagged_not_created_again() -> None:
    d = desired()
    obs = observed_from(d)
    kept = obs.ports[f"{d.prefix}-lb-0-lb_int_cp"]
    obs.untagged["ports"] = {kept.id}
    ch = compute_changes(d, obs)
    assert ch.create_ports == [] and ch.delete_ports == []
    assert ch.tag_resources == [("ports", kept.id)]
    assert ch.actions == [
        f"tag port {kept.name} (found by its description: its creation was cut short "
        "before the tag)"
    ]
    # once tagged, nothing is left to do
    obs.untagged.clear()
    assert not compute_changes(d, obs).changed


def test_an_untagged_port_to_delete_is_only_deleted() -> None:
    d = desired()
    obs = observed_from(d)
    extra = Port("p-extra", f"{d.prefix}-web-9-web_cp", "n", "fa:16:3e:00:00:09", ())
    obs.ports[extra.name] = extra
    obs.untagged["ports"] = {extra.id}
    ch = compute_changes(d, obs)
    assert ch.delete_ports == [extra] and ch.tag_resources == []
    gone = removal_changes(INST, obs)
    assert extra in gone.delete_ports and gone.tag_resources == []


def test_apply_tags_the_port_it_found_untagged() -> None:
    d = desired()
    obs = observed_from(d)
    kept = obs.ports[f"{d.prefix}-lb-0-lb_int_cp"]
    obs.untagged["ports"] = {kept.id}
    calls: list[tuple[str, Any, Any]] = []
    conn = SimpleNamespace(
        network=SimpleNamespace(
            get_port=lambda pid: SimpleNamespace(id=pid, tags=["other"]),
            set_tags=lambda res, tags: calls.append(("set_tags", res.id, tags)),
        )
    )
    apply_changes(conn, compute_changes(d, obs), d, obs, Settings(wait=False))
    assert calls == [("set_tags", kept.id, ["other", TAG])]


@pytest.mark.parametrize("value", ["fast", 0, -1, True])
def test_api_timeout_must_be_positive_seconds(value: Any) -> None:
    with pytest.raises(VimError, match="apiTimeout must be a positive number"):
        connect({"cloud": "x", "apiTimeout": value}, None, 120)


def test_a_kept_server_still_building_is_waited_for_before_its_volume_attaches() -> None:
    """The retry of a creation whose answer was lost finds the server still BUILD: the volume
    the first run made is attached once Nova has built it, not before (Nova refuses: 409)."""
    d = desired()
    obs = observed_from(d)
    web0 = d.servers["web-0"]
    vol = next(v for v in d.volumes.values() if v.vnfc_id == "web-0")
    obs.servers[web0.name] = dataclasses.replace(obs.servers[web0.name], status="BUILD")
    obs.volumes[vol.name] = dataclasses.replace(
        obs.volumes[vol.name], status="available", attached_to=()
    )
    ch = compute_changes(d, obs)
    assert ch.keep_servers == ["lb-0", "web-0", "web-1"] and ch.create_servers == []
    assert ch.attach_volumes == [(vol.name, "web-0")]
    events: list[str] = []
    polls = iter(["BUILD", "BUILD", "ACTIVE"])

    def servers(**_query: Any) -> list[Any]:
        status = next(polls, "ACTIVE")
        events.append(f"server {status}")
        return [SimpleNamespace(id=obs.servers[web0.name].id, status=status, fault=None)]

    volume_states = iter(["available", "in-use"])
    conn = SimpleNamespace(
        network=SimpleNamespace(),
        compute=SimpleNamespace(
            servers=servers,
            create_volume_attachment=lambda sid, volume_id: events.append("attach"),
        ),
        block_storage=SimpleNamespace(
            volumes=lambda **_q: [
                SimpleNamespace(id=obs.volumes[vol.name].id, status=next(volume_states, "in-use"))
            ]
        ),
    )
    apply.POLL, saved = 0.01, apply.POLL
    try:
        apply_changes(conn, ch, d, obs, Settings(wait=True, timeout=10))
    finally:
        apply.POLL = saved
    assert events == ["server BUILD", "server BUILD", "server ACTIVE", "attach"]
