"""The edgefw sample VNF (a firewall/router pair) on the local VIM, with real traffic.

One edgefw instance serves the module: its inside and outside legs are two host
bridges of their own (extVirtualLinks with their CIDRs), a client namespace sits on
the inside (default route: the inside floating address), a server namespace on the
outside (route to the inside: the outside floating address), and both run a small TCP
service on ports 80 and 8080. Every check sends real TCP through the active VNFC's
nftables rules; the tests run in file order, each starting from the state the previous
one left: rules at instantiation, a live modification keeping an established flow, a
bad modification refused, the vendor operation block_address, scale out and a
switchover to the new VNFC, scale in of the active, heal of the active (failover).
The module's cleanup terminates through the VIM driver. Real CLI, real ansible-runner, real kernel; needs root, iproute2 and nft
(or iptables).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    REPO_ROOT,
    Lifecycle,
    have_ip,
    instance_netns,
    privileged,
    requires_root,
)

pytestmark = [
    *requires_root,
    pytest.mark.skipif(
        not (shutil.which("nft") or shutil.which("iptables")),
        reason="needs nftables (or iptables): scripts/setup.sh installs it",
    ),
    pytest.mark.timeout(900),
]

EDGEFW = REPO_ROOT / "examples" / "packages" / "edgefw"
VIP_HOST = 254  # the default floating address: the last host of each /24
HOST = 100  # client (inside) and server (outside) addresses

# A TCP service answering each line with "<name> <port> <line>"; run in a namespace.
SERVICE = textwrap.dedent(
    """
    import socket, socketserver, sys, threading
    name, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            port = self.server.server_address[1]
            for line in self.rfile:
                self.wfile.write(f"{name} {port} {line.decode().strip()}\\n".encode())
    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
    servers = [Server(("0.0.0.0", p), Echo) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()
    """
)

# Try TCP connections at once; print {"addr:port": true|false} (answered in time or not).
PROBE = textwrap.dedent(
    """
    import json, socket, sys
    from concurrent.futures import ThreadPoolExecutor
    def one(target):
        host, port = target.rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=1.5) as s:
                s.settimeout(1.5)
                s.sendall(b"hello\\n")
                return s.makefile().readline().startswith("server") or "client" in target
        except OSError:
            return False
    targets = sys.argv[1:]
    with ThreadPoolExecutor(len(targets)) as pool:
        print(json.dumps(dict(zip(targets, pool.map(one, targets)))))
    """
)

# One long-lived connection: each stdin line is sent, the answer (or ERROR) printed.
FLOW = textwrap.dedent(
    """
    import socket, sys
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    f = s.makefile()
    print("connected", flush=True)
    for line in sys.stdin:
        try:
            s.sendall(line.encode())
            print(f.readline().strip() or "ERROR closed", flush=True)
        except OSError as exc:
            print(f"ERROR {exc}", flush=True)
    """
)


def _ip(*args: str, check: bool = True) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check).stdout


def _free_cidrs(count: int) -> list[str]:
    """/24s no route of this host overlaps (another test may hold some)."""
    used = [
        ipaddress.ip_network(r["dst"], strict=False)
        for r in json.loads(_ip("-json", "route", "show", "table", "all") or "[]")
        if r.get("dst", "default") != "default" and ":" not in r.get("dst", "")
    ]
    found: list[str] = []
    for third in range(256):
        cand = ipaddress.ip_network(f"172.29.{(os.getpid() + third) % 256}.0/24")
        if not any(cand.overlaps(u) for u in used) and str(cand) not in found:
            found.append(str(cand))
            if len(found) == count:
                return found
    raise RuntimeError("no free /24 for the edgefw test networks")


def _addr(cidr: str, host: int) -> str:
    return str(ipaddress.ip_network(cidr)[host])


@dataclass
class Edge:
    """The edgefw instance, its two networks and the client and server around it."""

    lc: Lifecycle
    id: str
    inside: str  # CIDRs
    outside: str
    client_ns: str
    server_ns: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def server(self) -> str:
        return _addr(self.outside, HOST)

    @property
    def client(self) -> str:
        return _addr(self.inside, HOST)

    def ns(self, vnfc: str) -> str:
        return f"vnfm-{self.id}-{vnfc}"

    def vnfcs(self) -> list[str]:
        prefix = f"vnfm-{self.id}-"
        return sorted(
            n.removeprefix(prefix) for n in instance_netns(self.id) if n != prefix + "vim"
        )

    def holders(self) -> list[str]:
        """The VNFCs holding the inside floating address."""
        vip = _addr(self.inside, VIP_HOST)
        return [v for v in self.vnfcs() if vip in _ip("-n", self.ns(v), "-4", "-o", "addr")]

    def active(self) -> str:
        holders = self.holders()
        assert len(holders) == 1, f"floating address on {holders}, expected exactly one VNFC"
        return holders[0]

    def rules(self, vnfc: str) -> str:
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(vnfc), "nft", "list", "table", "inet", "edgefw"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def reach(self, *batches: tuple[str, list[str]]) -> list[dict[str, bool]]:
        """Per (namespace, targets): which targets a new TCP connection from there reaches.

        The batches run at once (a blocked target costs the probe's timeout)."""
        procs = [
            subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-c", PROBE, *targets],
                stdout=subprocess.PIPE,
                text=True,
            )
            for ns, targets in batches
        ]
        return [dict(json.loads(proc.communicate(timeout=30)[0])) for proc in procs]

    def outbound(self, *ports: int) -> dict[int, bool]:
        """Which of the server's ports a new connection from the client reaches."""
        (got,) = self.reach((self.client_ns, [f"{self.server}:{p}" for p in ports]))
        return {p: got[f"{self.server}:{p}"] for p in ports}

    def assert_policy(self, allowed: set[int], blocked: set[int]) -> None:
        ports = sorted(allowed | blocked)
        out, inbound = self.reach(
            (self.client_ns, [f"{self.server}:{p}" for p in ports]),
            # nothing from the outside opens a flow to the inside
            (self.server_ns, [f"{self.client}:80"]),
        )
        got = {p: out[f"{self.server}:{p}"] for p in ports}
        assert got == {p: p in allowed for p in ports}, f"client -> server ports: {got}"
        assert inbound == {f"{self.client}:80": False}

    def neighbour_mac(self) -> str:
        """The MAC the client sends to for its gateway (the inside floating address)."""
        vip = _addr(self.inside, VIP_HOST)
        entries = json.loads(_ip("-n", self.client_ns, "-json", "neigh", "show", vip) or "[]")
        return str(entries[0].get("lladdr", "")) if entries else ""

    def inside_mac(self, vnfc: str) -> str:
        vip, net = _addr(self.inside, VIP_HOST), ipaddress.ip_network(self.inside)
        for link in json.loads(_ip("-n", self.ns(vnfc), "-json", "addr") or "[]"):
            if any(
                ipaddress.ip_address(a["local"]) in net and a["local"] != vip
                for a in link.get("addr_info", [])
                if a.get("family") == "inet"
            ):
                return str(link["address"])
        raise AssertionError(f"{vnfc} has no inside leg")

    def flow(self, port: int) -> subprocess.Popen[str]:
        """A TCP connection from the client to the server's port, kept open."""
        args = [self.server, str(port)]
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.client_ns, sys.executable, "-u", "-c", FLOW, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "connected"
        return proc

    def modify(self, props: dict[str, Any], tmp: Path) -> subprocess.CompletedProcess[str]:
        params = tmp / f"modify-{uuid.uuid4().hex[:6]}.json"
        params.write_text(json.dumps({"vnfConfigurableProperties": props}))
        return self.lc.cli("modify", self.id, "--params", str(params), "-q")

    def run_op(self, name: str, params: dict[str, Any], tmp: Path) -> str:
        path = tmp / f"{name}-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(params))
        return self.lc.cli_ok("run-operation", self.id, name, "--params", str(path), "-q")


def exchange(proc: subprocess.Popen[str], word: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(word + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def _host_end(ns: str, bridge: str, address: str, route: list[str]) -> None:
    """A namespace with one leg on a host bridge (eth0: address/24) and a route."""
    veth = "v" + ns[-12:]
    _ip("netns", "add", ns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _ip("link", "set", veth, "master", bridge, "up")
    _ip("-n", ns, "addr", "add", address, "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    _ip("-n", ns, "route", "add", *route)


def _start_service(edge: Edge, ns: str, name: str) -> None:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-u", "-c", SERVICE, name, "80", "8080"],
        stdout=subprocess.PIPE,
        text=True,
    )
    edge.procs.append(proc)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    """edgefw instantiated (fw-0, fw-1) allowing tcp/80, with a client and a server."""
    if not privileged() or not have_ip():
        pytest.skip("needs root and iproute2")
    tmp = tmp_path_factory.mktemp("edgefw")
    lc = Lifecycle(home=tmp / "vnfm-home", tmp=tmp)
    inside, outside = _free_cidrs(2)
    tag = uuid.uuid4().hex[:8]
    bridges = {"inside": f"efi{tag}", "outside": f"efo{tag}"}
    edge_ns = (f"edgefw-client-{tag}", f"edgefw-server-{tag}")
    request = {
        "flavourId": "default",
        "instantiationLevelId": "pair",
        "extVirtualLinks": [
            {
                "id": leg,
                "resourceId": bridges[leg],
                "cidr": cidr,
                "extCps": [{"cpdId": f"fw_{leg}_cp"}],
            }
            for leg, cidr in (("inside", inside), ("outside", outside))
        ],
        "vnfConfigurableProperties": {"allowedPorts": ["tcp/80"]},
    }
    (tmp / "instantiate.json").write_text(json.dumps(request))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VNFM_HOME", str(lc.home))
        edge = Edge(lc, "", inside, outside, *edge_ns)
        try:
            edge.id = lc.create(lc.onboard(EDGEFW), name="e2e-edgefw")
            lc.cli_ok("instantiate", edge.id, "--params", str(tmp / "instantiate.json"), "-q")
            _host_end(
                edge.client_ns,
                bridges["inside"],
                f"{edge.client}/24",
                ["default", "via", _addr(inside, VIP_HOST)],
            )
            _host_end(
                edge.server_ns,
                bridges["outside"],
                f"{edge.server}/24",
                [inside, "via", _addr(outside, VIP_HOST)],
            )
            _start_service(edge, edge.client_ns, "client")
            _start_service(edge, edge.server_ns, "server")
            yield edge
        finally:
            for proc in edge.procs:
                proc.kill()
                proc.wait()
            for ns in edge_ns:
                _ip("netns", "del", ns, check=False)
            lc.cleanup()
            for bridge in bridges.values():
                _ip("link", "del", "dev", bridge, check=False)


# -- the tests, in order --------------------------------------------------------------------------
def test_instantiated_pair_routes_and_filters(edge: Edge) -> None:
    assert edge.vnfcs() == ["fw-0", "fw-1"]
    assert edge.active() == "fw-0"
    # both VNFCs carry the same rules (the standby is ready), from the properties
    assert edge.rules("fw-0") == edge.rules("fw-1")
    assert "tcp dport 80 accept" in edge.rules("fw-0")
    edge.assert_policy(allowed={80}, blocked={8080})
    assert edge.neighbour_mac() == edge.inside_mac("fw-0")


def test_modify_changes_the_live_rules_and_keeps_established_flows(
    edge: Edge, tmp_path: Path
) -> None:
    flow = edge.flow(80)
    assert exchange(flow, "before") == "server 80 before"
    namespaces = {v: os.stat(f"/run/netns/{edge.ns(v)}").st_ino for v in edge.vnfcs()}

    proc = edge.modify({"allowedPorts": ["tcp/8080"]}, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    edge.assert_policy(allowed={8080}, blocked={80})
    # port 80 is closed to new flows, but the one established before goes on
    assert exchange(flow, "after") == "server 80 after"
    # no VNFC was restarted or recreated: same namespaces
    assert {v: os.stat(f"/run/netns/{edge.ns(v)}").st_ino for v in edge.vnfcs()} == namespaces
    assert edge.lc.show(edge.id)["vnfConfigurableProperties"]["allowedPorts"] == ["tcp/8080"]
    flow.stdin.close()  # type: ignore[union-attr]


def test_a_bad_property_is_refused_naming_it_and_changes_nothing(
    edge: Edge, tmp_path: Path
) -> None:
    before = edge.rules("fw-0")
    proc = edge.modify({"allowedPorts": ["tcp/8080", "tcp/99999"]}, tmp_path)
    assert proc.returncode != 0
    ops = edge.lc.service().store.operations(edge.id)
    op = json.loads(edge.lc.cli_ok("op", "show", str(ops[-1].id)))
    assert op["operationState"] == "FAILED_TEMP"
    assert (
        "vnfConfigurableProperties.allowedPorts[1]: '99999' is not a port"
        in (op["error"]["detail"])
    ), op["error"]
    assert edge.rules("fw-0") == before
    edge.lc.cli_ok("op", "fail", str(ops[-1].id), "-q")
    assert edge.lc.show(edge.id)["vnfConfigurableProperties"]["allowedPorts"] == ["tcp/8080"]
    edge.assert_policy(allowed={8080}, blocked={80})


def test_block_address_cuts_the_server_off_until_unblocked(edge: Edge, tmp_path: Path) -> None:
    flow = edge.flow(8080)
    assert exchange(flow, "one") == "server 8080 one"
    edge.run_op("block_address", {"address": edge.server}, tmp_path)
    # blocked both ways, the established flow included
    assert edge.outbound(8080) == {8080: False}
    assert exchange(flow, "two").startswith("ERROR")
    assert edge.rules("fw-0") == edge.rules("fw-1")  # every VNFC got it

    edge.run_op("unblock_address", {"address": edge.server}, tmp_path)
    edge.assert_policy(allowed={8080}, blocked={80})


def test_scale_out_then_switchover_to_the_new_vnfc(edge: Edge, tmp_path: Path) -> None:
    edge.lc.cli_ok("scale", edge.id, "--type", "SCALE_OUT", "--aspect", "fw", "-q")
    assert edge.vnfcs() == ["fw-0", "fw-1", "fw-2"]
    assert edge.active() == "fw-0"  # a scale out leaves the active alone
    assert edge.rules("fw-2") == edge.rules("fw-0")

    edge.run_op("switchover", {"vnfcId": "fw-2"}, tmp_path)
    assert edge.active() == "fw-2"
    assert edge.neighbour_mac() == edge.inside_mac("fw-2")  # gratuitous ARP
    edge.assert_policy(allowed={8080}, blocked={80})


def test_scale_in_of_the_active_moves_the_addresses_first(edge: Edge) -> None:
    flow = edge.flow(8080)
    assert exchange(flow, "x") == "server 8080 x"
    edge.lc.cli_ok("scale", edge.id, "--type", "SCALE_IN", "--aspect", "fw", "-q")
    assert edge.vnfcs() == ["fw-0", "fw-1"]
    assert edge.active() == "fw-0"
    assert edge.neighbour_mac() == edge.inside_mac("fw-0")
    edge.assert_policy(allowed={8080}, blocked={80})


def test_heal_of_the_active_fails_over_and_restores_its_rules(edge: Edge) -> None:
    old = os.stat(f"/run/netns/{edge.ns('fw-0')}").st_ino
    edge.lc.cli_ok("heal", edge.id, "--vnfc", "fw-0", "-q")
    assert os.stat(f"/run/netns/{edge.ns('fw-0')}").st_ino != old  # recreated
    # heal_start moved the floating addresses to the peer before fw-0 went
    assert edge.active() == "fw-1"
    assert edge.neighbour_mac() == edge.inside_mac("fw-1")
    edge.assert_policy(allowed={8080}, blocked={80})
    # the new fw-0 has its rules again, as a standby
    assert edge.rules("fw-0") == edge.rules("fw-1")
