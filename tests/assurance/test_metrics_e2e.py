"""VNFC and CP metrics end to end: the real local VIM, real processes in the VNFCs'
cgroups, the real exporter scraped by a real Prometheus (the monitoring stack's).

One instance of two VNFCs (``a-0`` with an external and an internal CP, ``b-0`` on
the internal VL), made by the local VIM from a plan (no playbook: the processes join
the VNFC's cgroup the way the ``nfv.vnfm.netns`` connection makes them join).
Every figure is read back through Prometheus' query API.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

from tests.assurance.helpers import need, need_root
from vnfm_runner.assurance.app_endpoints import write_endpoints
from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.assurance.rules import TargetGroup
from vnfm_runner.assurance.stack import PROMETHEUS_BIN, MonitoringStack, StackSettings

pytestmark = pytest.mark.timeout(180)

UDP_PAYLOAD = 200
UDP_OVERHEAD = 14 + 20 + 8  # Ethernet, IPv4, UDP headers: what a veth counts per frame


def _mac(inst: str, key: str) -> str:
    h = hashlib.sha256(f"{inst}/{key}".encode()).hexdigest()
    return "fa:16:3e:" + ":".join(h[i : i + 2] for i in (0, 2, 4))


def _cp(inst: str, vnfc: str, cpd: str, order: int, **kw: Any) -> dict[str, Any]:
    return {
        "cpdId": cpd,
        "order": order,
        "virtualLinkId": kw.get("vl"),
        "extVirtualLinkId": kw.get("evl"),
        "extCpdId": cpd if kw.get("evl") else None,
        "ipAddresses": [kw["addr"]],
        "macAddress": _mac(inst, f"{vnfc}/{cpd}"),
        "mtu": 1500,
    }


def make_plan(inst: str, bridge: str, cidr: str, ext_addr: str, with_b: bool = True):
    def vnfc(vid: str, vdu: str, cps: list[dict[str, Any]], vcpus: int) -> dict[str, Any]:
        compute = {"numVirtualCpu": vcpus, "virtualMemSizeMb": 256}
        return {"id": vid, "vduId": vdu, "index": 0, "compute": compute, "cps": cps}

    a = vnfc(
        "a-0",
        "a",
        [
            _cp(inst, "a-0", "a_ext_cp", 0, evl="ext", addr=ext_addr),
            _cp(inst, "a-0", "a_int_cp", 1, vl="int_vl", addr="10.10.0.5"),
        ],
        vcpus=1,
    )
    b = vnfc("b-0", "b", [_cp(inst, "b-0", "b_int_cp", 0, vl="int_vl", addr="10.10.0.6")], 2)
    return {
        "planVersion": 1,
        "vnfInstanceId": inst,
        "shortId": naming.short_id(inst),
        "virtualLinks": [{"id": "int_vl", "index": 0, "cidr": "10.10.0.0/24", "mtu": 1500}],
        "externalVirtualLinks": [{"id": "ext", "resourceId": bridge, "cidr": cidr}],
        "vnfcs": [a, b] if with_b else [a],
        "volumes": [],
    }


def run_in(netns: str, tree: cgroup.CgroupTree, *argv: str, **kw: Any) -> subprocess.Popen[str]:
    """A process of the VNFC, in its cgroup like every task of the netns connection."""
    return subprocess.Popen(
        [*cgroup.join_argv(netns, tree), "ip", "netns", "exec", netns, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


SINK = "import socket,sys\ns=socket.socket(2,2)\ns.bind(('0.0.0.0',9999))\nprint('ready',flush=True)\nwhile True: s.recv(65536)\n"
SEND = (
    "import socket,sys\ns=socket.socket(2,2)\nn=int(sys.argv[2])\nb=b'x'*int(sys.argv[3])\n"
    "for _ in range(n): s.sendto(b,(sys.argv[1],9999))\n"
)
# Busy 40 ms out of every 80 ms for 4 s (duty cycle 50 %), holding 48 MiB; prints its own
# CPU time and wall time at the end.
BURN = """
import os, time
hold = bytearray(48 * 1024 * 1024)
for i in range(0, len(hold), 4096): hold[i] = 1
print("held", flush=True)
t0, c0 = time.monotonic(), time.process_time()
while time.monotonic() - t0 < 4.0:
    start = time.monotonic()
    while time.monotonic() - start < 0.04: pass
    time.sleep(0.04)
print(time.process_time() - c0, time.monotonic() - t0, flush=True)
"""


class Env:
    def __init__(self, tmp: Path) -> None:
        self.inst = str(uuid.uuid4())
        n = int(self.inst[:2], 16) % 200 + 20
        self.bridge = f"vmt{self.inst[:8]}"[:15]
        self.cidr = f"10.253.{n}.0/24"
        self.ext_addr = f"10.253.{n}.20"
        self.vim = {
            "vimType": "local",
            "stateDir": str(tmp / "state"),
            "runDir": str(tmp / "run"),
            "lockFile": str(tmp / "lock"),
            "killGraceSeconds": 0.5,
        }
        self.driver = LocalDriver(self.vim)
        tree = self.driver.settings.cgroups
        assert tree is not None
        self.tree = tree
        self.procs: list[subprocess.Popen[str]] = []

    def netns(self, vnfc: str) -> str:
        return naming.vnfc_netns(self.inst, vnfc)

    def plan(self, with_b: bool = True) -> dict[str, Any]:
        return make_plan(self.inst, self.bridge, self.cidr, self.ext_addr, with_b)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    need_root()
    need(cgroup.detect() is not None, "needs a cgroup v1 (cpuacct, memory) or v2 tree")
    e = Env(tmp_path)
    try:
        yield e
    finally:
        for p in e.procs:
            p.kill()
        e.driver.remove(e.inst, check_mode=False)
        for p in e.procs:
            p.wait(timeout=5)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[MonitoringStack]:
    need(os.path.exists(PROMETHEUS_BIN), "needs Prometheus")
    s = MonitoringStack(
        StackSettings(
            home=tmp_path / "monitoring",
            webhook_url="http://127.0.0.1:9/unused",
            scrape_interval_s=1.0,
            file_sd_refresh_s=1.0,
            exporter_port=0,
        )
    ).start()
    try:
        s.write_targets("vnfm-exporter", [TargetGroup([s.exporter_url.removeprefix("http://")])])
        yield s
    finally:
        s.stop()


def scraped(prom: PromClient, expr: str, after: float, timeout: float = 20.0) -> float:
    """The value of ``expr`` from a scrape that happened after ``after`` (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stamp = prom.value(f"timestamp({expr})")
        if stamp is not None and stamp > after:
            value = prom.value(expr)
            if value is not None:
                return value
        time.sleep(0.2)
    raise AssertionError(f"no scrape of {expr} after {after}")


def quiet(prom: PromClient, expr: str, timeout: float = 30.0) -> float:
    """The counter once two scrapes 1.5 s apart agree: the interface's start-up
    traffic (IPv6 DAD, router solicitation) is over before a count starts."""
    deadline = time.monotonic() + timeout
    last = scraped(prom, expr, time.time())
    while time.monotonic() < deadline:
        time.sleep(1.5)
        now = scraped(prom, expr, time.time())
        if now == last:
            return now
        last = now
    raise AssertionError(f"{expr} never settled")


def test_vnfc_and_cp_metrics_through_prometheus(
    env: Env, stack: MonitoringStack, tmp_path: Path
) -> None:
    res = env.driver.reconcile(env.plan(), heal=[], check_mode=False)
    assert res.changed
    a, b = env.netns("a-0"), env.netns("b-0")
    # no IPv6 chatter (DAD, router solicitations, MLD) inside the instance: only the
    # test's datagrams are counted
    for ns in (a, b, naming.vim_netns(env.inst)):
        subprocess.run(
            ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"],
            check=True,
        )
    # one cgroup per VNFC, named like its namespace, with the VDU's sizing on it
    assert env.tree.names(naming.instance_prefix(env.inst)) == [a, b]
    assert env.tree.info(b) == {
        "vnfInstanceId": env.inst,
        "vnfcId": "b-0",
        "vduId": "b",
        "vcpus": 2.0,
        "memorySizeBytes": 256 * 1024 * 1024,
    }
    prom = PromClient(stack.prometheus_url)
    sel = f'vnf_instance_id="{env.inst}"'

    # sizing and static labels
    assert scraped(prom, f'vnfm_vnfc_vcpus{{{sel},vnfc_id="b-0",vdu_id="b"}}', 0) == 2
    size = scraped(prom, f'vnfm_vnfc_memory_size_bytes{{{sel},vnfc_id="a-0"}}', 0)
    assert size == 256 * 1024 * 1024

    # -- traffic of a known size into a-0's external CP, from the host ------------------------
    ext_mac = _mac(env.inst, "a-0/a_ext_cp")
    subprocess.run(
        [
            "ip",
            "neigh",
            "replace",
            env.ext_addr,
            "lladdr",
            ext_mac,
            "dev",
            env.bridge,
            "nud",
            "permanent",
        ],
        check=True,
    )  # no ARP in the window: only our datagrams reach the CP
    sink = run_in(a, env.tree, sys.executable, "-c", SINK)
    env.procs.append(sink)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    # the host's own IPv6 chatter (router solicitations, MLD) on the test's bridge: off
    subprocess.run(["sysctl", "-qw", f"net.ipv6.conf.{env.bridge}.disable_ipv6=1"], check=False)
    ext_rx = f'{sel},vnfc_id="a-0",cpd_id="a_ext_cp",cp_type="ext"'
    before_p = quiet(prom, f"vnfm_cp_received_packets_total{{{ext_rx}}}")
    before_b = scraped(prom, f"vnfm_cp_received_bytes_total{{{ext_rx}}}", 0)
    count = 1000
    subprocess.run(
        [sys.executable, "-c", SEND, env.ext_addr, str(count), str(UDP_PAYLOAD)], check=True
    )
    after = time.time()
    got_p = scraped(prom, f"vnfm_cp_received_packets_total{{{ext_rx}}}", after)
    got_b = scraped(prom, f"vnfm_cp_received_bytes_total{{{ext_rx}}}", after)
    assert got_p - before_p == count
    want_b = count * (UDP_PAYLOAD + UDP_OVERHEAD)
    assert abs((got_b - before_b) - want_b) <= want_b * 0.001

    # -- internal CPs: b-0 sends to a-0 over the internal VL ----------------------------------
    subprocess.run(
        [
            "ip",
            "-n",
            b,
            "neigh",
            "replace",
            "10.10.0.5",
            "lladdr",
            _mac(env.inst, "a-0/a_int_cp"),
            "dev",
            "eth0",
            "nud",
            "permanent",
        ],
        check=True,
    )
    int_rx = f'{sel},vnfc_id="a-0",cpd_id="a_int_cp",cp_type="int"'
    int_tx = f'{sel},vnfc_id="b-0",cpd_id="b_int_cp",cp_type="int"'
    now = time.time()
    rx0 = quiet(prom, f"vnfm_cp_received_packets_total{{{int_rx}}}")
    tx0 = scraped(prom, f"vnfm_cp_sent_packets_total{{{int_tx}}}", now)
    sender = run_in(b, env.tree, sys.executable, "-c", SEND, "10.10.0.5", "500", "100")
    assert sender.wait(timeout=30) == 0
    after = time.time()
    assert scraped(prom, f"vnfm_cp_received_packets_total{{{int_rx}}}", after) - rx0 == 500
    assert scraped(prom, f"vnfm_cp_sent_packets_total{{{int_tx}}}", after) - tx0 == 500

    # -- a CPU burner of known duty cycle in a-0 ------------------------------------------
    cpu = f'vnfm_vnfc_cpu_seconds_total{{{sel},vnfc_id="a-0"}}'
    cpu0 = scraped(prom, cpu, time.time())
    burner = run_in(a, env.tree, sys.executable, "-c", BURN)
    env.procs.append(burner)
    assert burner.stdout is not None and burner.stdout.readline().strip() == "held"
    mem = scraped(prom, f'vnfm_vnfc_memory_bytes{{{sel},vnfc_id="a-0"}}', time.time())
    assert mem >= 48 * 1024 * 1024
    own_cpu, wall = (float(x) for x in burner.stdout.readline().split())
    assert burner.wait(timeout=30) == 0
    used = scraped(prom, cpu, time.time()) - cpu0
    # the cgroup saw the burner's own CPU time (plus its start-up and the idle sink);
    # as a usage of the VDU's one vCPU over the burner's run, within 5 points
    assert abs(used / wall - own_cpu / wall) <= 0.05, (used, own_cpu, wall)
    # (the burner's own share is not asserted against its 50 % duty cycle: on a loaded
    # machine it gets less than it asks for; the cgroup must see what it did get)
    print(f"duty 0.50: burner's own {own_cpu / wall:.3f}, cgroup {used / wall:.3f}")

    # -- application metrics: b-0's endpoint, fetched inside it, with the VNFC labels ------
    app = tmp_path / "app"
    app.mkdir()
    (app / "metrics").write_text(
        "# TYPE app_requests_total counter\napp_requests_total 7\n"
        'vnfm_vnfc_vcpus{vnfc_id="b-0"} 99\n'  # a VNF cannot overwrite our series
    )
    server = run_in(
        b,
        env.tree,
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        "127.0.0.1",
        "--directory",
        str(app),
        "8080",
    )
    env.procs.append(server)
    write_endpoints(stack.endpoints_file, {env.inst: {"b": {"port": 8080, "path": "/metrics"}}})
    app_sel = f'{sel},vnfc_id="b-0",vdu_id="b"'
    assert scraped(prom, f"app_requests_total{{{app_sel}}}", time.time()) == 7
    assert prom.value(f'count(vnfm_vnfc_vcpus{{{sel},vnfc_id="b-0"}})') == 1
    assert prom.value(f"vnfm_vnfc_vcpus{{{app_sel}}}") == 2

    # -- scale in: b-0's cgroup goes with it (its process killed) ---------------------------
    idle = run_in(b, env.tree, "sleep", "300")
    env.procs.append(idle)
    deadline = time.monotonic() + 5
    while idle.pid not in env.tree.pids(b) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert idle.pid in env.tree.pids(b)  # sh (joins) -> ip netns exec -> sleep: one pid
    env.driver.reconcile(env.plan(with_b=False), heal=[], check_mode=False)
    assert env.tree.names(naming.instance_prefix(env.inst)) == [a]
    assert idle.wait(timeout=10) is not None
    # terminate: nothing of the instance left
    removal = env.driver.remove(env.inst, check_mode=True)
    assert f"delete cgroup {a}" in removal.actions
    env.driver.remove(env.inst, check_mode=False)
    assert env.tree.names(naming.instance_prefix(env.inst)) == []
    assert json.dumps(env.tree.info(a)) == "null"
