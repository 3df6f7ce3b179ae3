"""Proof test of the webfarm sample package's software and hook playbooks.

Builds by hand what the local VIM would build for a webfarm instance with one
lb and two web VNFCs (network namespaces, an internal bridge, an external
veth to the host), then runs the package's hook playbooks through
ansible-runner exactly as the VNFM does (import_playbook, an inventory of
``nfv.vnfm.netns`` hosts, the LCM context as extra vars) and checks the
service with real HTTP requests from the host.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "collections"
PACKAGE = REPO_ROOT / "examples" / "packages" / "webfarm"

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root to create network namespaces",
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs the iproute2 'ip' command"),
]

ansible_runner = pytest.importorskip("ansible_runner")

WEB_IDS = ["web-0", "web-1"]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Farm:
    """A hand-built local-VIM realisation of one webfarm instance."""

    instance_id: str
    ext_addr: str  # lb_ext_cp address, reachable from the host
    int_net: str  # internal_vl prefix, e.g. "10.250.101"
    namespaces: dict[str, str] = field(default_factory=dict)  # vnfc id -> netns

    @property
    def short(self) -> str:
        return self.instance_id.replace("-", "")[:8]

    def host_name(self, vnfc_id: str) -> str:
        return f"vnf-{self.short}-{vnfc_id}"

    @property
    def rundir(self) -> Path:
        return Path("/run/vnfm") / self.instance_id

    def vnfc(self, vnfc_id: str) -> dict[str, Any]:
        vdu = vnfc_id.rsplit("-", 1)[0]
        if vdu == "lb":
            cps = [
                {
                    "cpdId": "lb_ext_cp",
                    "ipAddresses": [self.ext_addr],
                    "macAddress": None,
                    "virtualLinkId": None,
                },
                {
                    "cpdId": "lb_int_cp",
                    "ipAddresses": [f"{self.int_net}.2"],
                    "macAddress": None,
                    "virtualLinkId": "internal_vl",
                },
            ]
        else:
            index = int(vnfc_id.rsplit("-", 1)[1])
            cps = [
                {
                    "cpdId": "web_cp",
                    "ipAddresses": [f"{self.int_net}.{10 + index}"],
                    "macAddress": None,
                    "virtualLinkId": "internal_vl",
                }
            ]
        return {
            "id": vnfc_id,
            "vduId": vdu,
            "name": self.host_name(vnfc_id),
            "host": self.host_name(vnfc_id),
            "cps": cps,
        }

    def context(self, operation: str, web_ids: list[str], **extra: Any) -> dict[str, Any]:
        vnfcs = [self.vnfc("lb-0")] + [self.vnfc(w) for w in web_ids]
        return {
            "vnfm_operation": operation,
            "vnfm_vnf_instance_id": self.instance_id,
            "vnfm_flavour_id": "default",
            "vnfm_instantiation_level_id": "small",
            "vnfm_scale_levels": {"web": len(web_ids) - 1},
            "vnfm_additional_params": {},
            "vnfm_package_dir": str(PACKAGE),
            "vnfm_vnfcs": vnfcs,
            "vnfm_vnfcs_by_vdu": {
                "lb": [v for v in vnfcs if v["vduId"] == "lb"],
                "web": [v for v in vnfcs if v["vduId"] == "web"],
            },
            "vnfm_ext_cps": [
                {
                    "id": "lb_ext_cp-0",
                    "cpdId": "lb_ext_cp",
                    "cpProtocolInfo": [
                        {
                            "layerProtocol": "IP_OVER_ETHERNET",
                            "ipOverEthernet": {"ipAddresses": [{"addresses": [self.ext_addr]}]},
                        }
                    ],
                }
            ],
            **extra,
        }

    def inventory(self, web_ids: list[str], context: dict[str, Any]) -> dict[str, Any]:
        """As the vnfc_inventory role builds it: the VDU groups, and the groups of the
        VNFCs the operation adds, removes or heals."""
        changes = {
            group: {self.host_name(v["id"]): {} for v in context.get(f"{group}_vnfcs") or []}
            for group in ("vnfm_added", "vnfm_removed", "vnfm_healed")
        }

        def hostvars(vnfc_id: str) -> dict[str, Any]:
            return {
                "ansible_connection": "nfv.vnfm.netns",
                "vnfm_netns": self.namespaces[vnfc_id],
                "vnfc_id": vnfc_id,
                "vnfc_vdu_id": vnfc_id.rsplit("-", 1)[0],
                "ansible_python_interpreter": sys.executable,
            }

        return {
            "all": {
                "children": {
                    "vnfcs": {
                        "children": {
                            "lb": {"hosts": {self.host_name("lb-0"): hostvars("lb-0")}},
                            "web": {"hosts": {self.host_name(w): hostvars(w) for w in web_ids}},
                            **{group: {"hosts": hosts} for group, hosts in changes.items()},
                        }
                    }
                }
            }
        }


@pytest.fixture
def farm() -> Iterator[Farm]:
    instance_id = str(uuid.uuid4())
    net = random.randrange(100, 250, 2)
    f = Farm(instance_id, ext_addr=f"10.250.{net}.2", int_net=f"10.250.{net + 1}")
    vim_ns = f"vnfm-{instance_id}-vim"
    host_if = f"vw{f.short}"
    created: list[str] = []
    try:
        for ns in [vim_ns] + [f"vnfm-{instance_id}-{v}" for v in ["lb-0", *WEB_IDS]]:
            _ip("netns", "add", ns)
            created.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        for v in ["lb-0", *WEB_IDS]:
            f.namespaces[v] = f"vnfm-{instance_id}-{v}"
        _ip("-n", vim_ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", vim_ns, "link", "set", "br0", "up")
        # internal_vl: lb eth1 and web eth0 on the bridge of the VIM namespace
        ports = {"lb-0": ("eth1", 2)} | {w: ("eth0", 10 + int(w[-1])) for w in WEB_IDS}
        for vnfc_id, (ifname, host_part) in ports.items():
            ns = f.namespaces[vnfc_id]
            peer = f"p-{vnfc_id}"
            _ip(
                "-n",
                vim_ns,
                "link",
                "add",
                peer,
                "type",
                "veth",
                "peer",
                "name",
                ifname,
                "netns",
                ns,
            )
            _ip("-n", vim_ns, "link", "set", peer, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{f.int_net}.{host_part}/24", "dev", ifname)
            _ip("-n", ns, "link", "set", ifname, "up")
        # lb_ext_cp: a veth from the host into the lb namespace
        lb_ns = f.namespaces["lb-0"]
        _ip("link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", lb_ns)
        _ip("addr", "add", f"10.250.{net}.1/24", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", lb_ns, "addr", "add", f"{f.ext_addr}/24", "dev", "eth0")
        _ip("-n", lb_ns, "link", "set", "eth0", "up")
        yield f
    finally:
        for ns in created:
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
            for pid in pids.stdout.split():
                subprocess.run(["kill", "-KILL", pid], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], check=False, capture_output=True)
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        shutil.rmtree(f.rundir, ignore_errors=True)


def run_hook(
    tmp_path: Path, farm: Farm, hook: str, context: dict[str, Any], web_ids: list[str]
) -> Any:
    """Run Scripts/<hook> the way the VNFM does: import_playbook + context."""
    pdd = tmp_path / f"runner-{hook}-{uuid.uuid4().hex[:6]}"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "operation.yml").write_text(
        f"- name: Run the {hook} hook\n"
        f"  ansible.builtin.import_playbook: {PACKAGE / 'Scripts' / hook}\n"
    )
    (pdd / "inventory.json").write_text(json.dumps(farm.inventory(web_ids, context)))
    r = ansible_runner.run(
        private_data_dir=str(pdd),
        playbook="operation.yml",
        inventory=str(pdd / "inventory.json"),
        extravars=context,
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        quiet=True,
        timeout=300,
    )
    assert r.rc == 0, r.stdout.read()
    assert r.status == "successful"
    return r


def get(addr: str, path: str = "/") -> tuple[int, str]:
    conn = http.client.HTTPConnection(addr, 80, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def bodies(addr: str, count: int) -> list[str]:
    return [get(addr)[1].strip() for _ in range(count)]


def pids(farm: Farm) -> dict[str, int]:
    out = {}
    for vnfc_id in farm.namespaces:
        svc = vnfc_id.rsplit("-", 1)[0]
        pidfile = farm.rundir / vnfc_id / f"{svc}.pid"
        out[vnfc_id] = int(pidfile.read_text())
    return out


def gone(pid: int) -> bool:
    """True when the process has exited (a zombie waiting for its reaper counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def in_netns(pid: int, netns: str) -> bool:
    return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{netns}").st_ino


def test_webfarm_hooks(farm: Farm, tmp_path: Path) -> None:
    webs = list(WEB_IDS)
    ctx = farm.context("INSTANTIATE", webs)

    # instantiate_end starts every web server and the load balancer
    r = run_hook(tmp_path, farm, "instantiate_end.yml", ctx, webs)
    assert sum(r.stats["changed"].values()) > 0
    started = pids(farm)
    for vnfc_id, pid in started.items():
        assert not gone(pid)
        assert in_netns(pid, farm.namespaces[vnfc_id]), f"{vnfc_id} runs outside its namespace"
    backends = (farm.rundir / "lb-0" / "backends").read_text().split()
    assert backends[-2:] == [f"{farm.int_net}.10:80", f"{farm.int_net}.11:80"]

    # real HTTP from the host through the lb: round robin over every web VNFC
    assert get(farm.ext_addr, "/health") == (200, "ok\n")
    seen = bodies(farm.ext_addr, 6)
    assert set(seen) == set(webs)
    assert seen[0] != seen[1] and seen[:2] * 2 == seen[2:]

    # a second run changes nothing and keeps the same processes
    r = run_hook(tmp_path, farm, "instantiate_end.yml", ctx, webs)
    assert r.stats["changed"] == {}
    assert set(r.stats["ok"]) == {farm.host_name(v) for v in farm.namespaces}
    assert pids(farm) == started

    # scale in: scale_start takes web-1 out of the lb before stopping it
    removed = [farm.vnfc("web-1")]
    ctx = farm.context("SCALE", webs, vnfm_removed_vnfcs=removed, vnfm_added_vnfcs=[])
    run_hook(tmp_path, farm, "scale_start.yml", ctx, webs)
    assert gone(started["web-1"])
    assert bodies(farm.ext_addr, 4) == ["web-0"] * 4

    # scale out again: scale_end starts web-1 and puts it back
    added = [farm.vnfc("web-1")]
    ctx = farm.context("SCALE", webs, vnfm_removed_vnfcs=[], vnfm_added_vnfcs=added)
    r = run_hook(tmp_path, farm, "scale_end.yml", ctx, webs)
    assert r.stats["changed"].get(farm.host_name("web-0"), 0) == 0
    assert set(bodies(farm.ext_addr, 4)) == set(webs)

    # heal_end restarts the software of the healed VNFC only
    before = pids(farm)
    ctx = farm.context("HEAL", webs, vnfm_healed_vnfcs=[farm.vnfc("web-0")])
    run_hook(tmp_path, farm, "heal_end.yml", ctx, webs)
    after = pids(farm)
    assert gone(before["web-0"]) and after["web-0"] != before["web-0"]
    assert {k: v for k, v in after.items() if k != "web-0"} == {
        k: v for k, v in before.items() if k != "web-0"
    }
    assert set(bodies(farm.ext_addr, 4)) == set(webs)

    # the vendor operation Custom.rotate_logs copy-truncates the daemon logs
    run_hook(tmp_path, farm, "rotate_logs.yml", farm.context("CUSTOM", webs), webs)
    assert "web-0 listening" in (farm.rundir / "web-0" / "web.log.1").read_text()
    assert "lb listening" in (farm.rundir / "lb-0" / "lb.log.1").read_text()

    # terminate_start drains the lb and stops the web servers (the run dirs go with the VNFCs:
    # the VIM removes them)
    running = pids(farm)
    ctx = farm.context("TERMINATE", webs)
    run_hook(tmp_path, farm, "terminate_start.yml", ctx, webs)
    deadline = time.monotonic() + 5
    while not all(gone(p) for p in running.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {v: gone(p) for v, p in running.items()} == dict.fromkeys(running, True)
    assert not list(farm.rundir.glob("*/*.pid")), "a daemon's pid file is left"
    with pytest.raises(OSError):
        get(farm.ext_addr)
