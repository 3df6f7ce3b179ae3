"""Integration tests of the ``local`` VIM driver and the ``nfv.vnfm.vnf_resources`` module.

They create real network namespaces, bridges and veth pairs, so they need root
and iproute2. Kernel state is checked with ``ip -json`` here, independently of
the driver's own discovery code. Every test uses its own instance ids and its
own external network, and cleans up (driver removal, then brute force).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimDriver, get_driver

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "collections"

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root (or CAP_NET_ADMIN) to create network namespaces, bridges and veths",
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="needs the iproute2 'ip' command"),
]

HAVE_PING = shutil.which("ping") is not None


# -- independent kernel inspection -------------------------------------------------------------
def ip(*args: str, check: bool = True) -> str:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True).stdout


def ipj(*args: str, ns: str | None = None) -> Any:
    pre = ["-n", ns] if ns else []
    return json.loads(ip("-json", "-d", *pre, *args) or "[]")


def netns_names() -> set[str]:
    return {n["name"] for n in json.loads(ip("-json", "netns", "list") or "[]")}


def links(ns: str | None = None) -> dict[str, dict[str, Any]]:
    return {li["ifname"]: li for li in ipj("addr", "show", ns=ns)}


def v4(link: dict[str, Any]) -> list[str]:
    return [
        f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"
    ]


def ns_inode(ns: str) -> int:
    return os.stat(f"/run/netns/{ns}").st_ino


def ping(src_ns: str | None, addr: str) -> bool:
    if not HAVE_PING:
        pytest.skip("needs ping (iputils-ping)")
    cmd = ["ping", "-c1", "-W1", addr]
    if src_ns:
        cmd = ["ip", "netns", "exec", src_ns, *cmd]
    for _ in range(3):
        if subprocess.run(cmd, capture_output=True, check=False).returncode == 0:
            return True
    return False


def short(inst: str) -> str:
    return hashlib.sha256(inst.encode()).hexdigest()[:8]


# -- plans -------------------------------------------------------------------------------------
def make_plan(inst: str, webs: int = 2, vl_cidr: str = "10.10.0.0/24") -> dict[str, Any]:
    """A 2-VDU plan: lb (external CP + internal CP) and ``webs`` web VNFCs on internal_vl."""
    sid = short(inst)
    prefix = f"vnf-{sid}"
    net = ipaddress.ip_network(vl_cidr)

    def mac(vnfc: str, cpd: str) -> str:
        h = hashlib.sha256(f"{inst}/{vnfc}/{cpd}".encode()).hexdigest()
        return "fa:16:3e:" + ":".join(h[i : i + 2] for i in (0, 2, 4))

    def cp(vnfc: str, cpd: str, order: int, vl: str | None, addr: str | None) -> dict[str, Any]:
        return {
            "cpdId": cpd,
            "name": f"{prefix}-{vnfc}-{cpd}",
            "order": order,
            "virtualLinkId": vl,
            "extVirtualLinkId": None,
            "extCpdId": None if vl else cpd,
            "layerProtocols": ["ipv4"],
            "ipAddresses": [addr] if addr else [],
            "macAddress": mac(vnfc, cpd),
            "mtu": 1500 if vl is None else 1400,
        }

    vnfcs = [
        {
            "id": "lb-0",
            "vduId": "lb",
            "index": 0,
            "name": f"{prefix}-lb-0",
            "cps": [
                cp("lb-0", "lb_ext_cp", 0, None, None),
                cp("lb-0", "lb_int_cp", 1, "internal_vl", str(net[5])),
            ],
            "volumes": [],
        }
    ]
    volumes = []
    for i in range(webs):
        vid = f"web-{i}"
        vnfcs.append(
            {
                "id": vid,
                "vduId": "web",
                "index": i,
                "name": f"{prefix}-{vid}",
                "cps": [cp(vid, "web_cp", 0, "internal_vl", str(net[10 + i]))],
                "volumes": [f"{prefix}-{vid}-data"],
            }
        )
        volumes.append(
            {"name": f"{prefix}-{vid}-data", "storageId": "data", "vnfcId": vid, "sizeGb": 1}
        )
    return {
        "planVersion": 1,
        "vnfInstanceId": inst,
        "shortId": sid,
        "namePrefix": prefix,
        "vnfdId": "test-vnfd",
        "flavourId": "default",
        "virtualLinks": [
            {
                "id": "internal_vl",
                "name": f"{prefix}-internal_vl",
                "index": 0,
                "cidr": vl_cidr,
                "ipVersion": 4,
                "gatewayIp": None,
                "dhcpEnabled": False,
                "mtu": 1400,
            }
        ],
        "externalVirtualLinks": [],
        "vnfcs": vnfcs,
        "volumes": volumes,
        "extCps": [{"cpdId": "lb_ext_cp", "requirement": "virtual_link_external", "vduId": "lb"}],
    }


# -- fixtures ----------------------------------------------------------------------------------
def _free_cidr() -> str:
    used = [
        ipaddress.ip_network(r["dst"], strict=False)
        for r in ipj("route", "show", "table", "all")
        if r.get("dst", "default") not in ("default",) and ":" not in r.get("dst", "")
    ]
    for third in range(200, 250):
        cand = ipaddress.ip_network(f"172.31.{(os.getpid() + third) % 250}.0/24")
        if not any(cand.overlaps(u) for u in used):
            return str(cand)
    raise RuntimeError("no free /24 for the test external network")


def brute_force_cleanup(inst: str, ext_bridge: str) -> None:
    for ns in sorted(netns_names()):
        if ns.startswith(f"vnfm-{inst}-"):
            for pid in ip("netns", "pids", ns, check=False).split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            ip("netns", "del", ns, check=False)
    for name, link in links().items():
        if inst in str(link.get("ifalias", "")) or name.startswith(f"vx{short(inst)}"):
            ip("link", "del", "dev", name, check=False)
    host = links()
    if ext_bridge in host and not any(li.get("master") == ext_bridge for li in host.values()):
        ip("link", "del", "dev", ext_bridge, check=False)


class Env:
    """A VIM connection of its own (state dir, lock, external network) and instance ids."""

    def __init__(self, tmp: Path) -> None:
        tag = uuid.uuid4().hex[:6]
        self.ext_bridge = f"vnfmt{tag}"
        self.ext_cidr = _free_cidr()
        self.vim = {
            "vimType": "local",
            "stateDir": str(tmp / "state"),
            "lockFile": str(tmp / "local-vim.lock"),
            "defaultExternalNetwork": {"name": self.ext_bridge, "cidr": self.ext_cidr},
            "killGraceSeconds": 1,
        }
        self.driver: VimDriver = get_driver(self.vim)
        self.instances: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []

    def new_instance(self) -> str:
        inst = f"it-{uuid.uuid4()}"
        self.instances.append(inst)
        return inst

    def spawn_in(self, ns: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
        self.procs.append(proc)
        deadline = time.monotonic() + 5
        while str(proc.pid) not in ip("netns", "pids", ns).split():
            assert time.monotonic() < deadline, "process did not enter the namespace"
            time.sleep(0.02)
        return proc

    def cleanup(self) -> None:
        for inst in self.instances:
            try:
                self.driver.remove(inst, check_mode=False)
            finally:
                brute_force_cleanup(inst, self.ext_bridge)
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    try:
        yield e
    finally:
        e.cleanup()


def vnfc_ns(inst: str, vnfc: str) -> str:
    return f"vnfm-{inst}-{vnfc}"


def ext_address(result: Any) -> str:
    ext = result.resources["extCpInfo"][0]
    return str(ext["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"][0]["addresses"][0])


def wait_dead(proc: subprocess.Popen[bytes], timeout: float = 5) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


# -- tests -------------------------------------------------------------------------------------
def test_reconcile_creates_what_the_plan_says(env: Env) -> None:
    inst = env.new_instance()
    plan = make_plan(inst, webs=2)
    res = env.driver.reconcile(plan, heal=[], check_mode=False)
    assert res.changed
    assert {a.split(" (")[0] for a in res.actions} >= {
        f"create netns vnfm-{inst}-vim",
        f"create netns vnfm-{inst}-lb-0",
        f"create netns vnfm-{inst}-web-0",
        f"create netns vnfm-{inst}-web-1",
        f"create external bridge {env.ext_bridge}",
    }
    names = {n for n in netns_names() if n.startswith(f"vnfm-{inst}-")}
    assert names == {vnfc_ns(inst, v) for v in ("vim", "lb-0", "web-0", "web-1")}

    # VIM namespace: the VL bridge, up, with one enslaved peer per internal CP
    vim_links = links(f"vnfm-{inst}-vim")
    assert vim_links["vl0"]["linkinfo"]["info_kind"] == "bridge"
    assert "UP" in vim_links["vl0"]["flags"] and vim_links["vl0"]["mtu"] == 1400
    assert sorted(li["ifname"] for li in vim_links.values() if li.get("master") == "vl0") == sorted(
        p["resourceHandle"]["resourceId"]
        for p in res.resources["virtualLinkResourceInfo"][0]["vnfLinkPorts"]
    )
    assert len([li for li in vim_links.values() if li.get("master") == "vl0"]) == 3

    # every VNFC: lo up, CPs with the plan's MAC, MTU and address, up
    for vnfc in plan["vnfcs"]:
        ns_links = links(vnfc_ns(inst, vnfc["id"]))
        assert "UP" in ns_links["lo"]["flags"]
        for cp in vnfc["cps"]:
            link = ns_links[f"eth{cp['order']}"]
            assert link["address"] == cp["macAddress"]
            assert link["mtu"] == cp["mtu"]
            assert "LOWER_UP" in link["flags"]
            if cp["virtualLinkId"]:
                assert v4(link) == [f"{cp['ipAddresses'][0]}/24"]

    # the external network: host bridge with .1, lb's CP got .10 and a default route
    host = links()
    gateway = str(ipaddress.ip_network(env.ext_cidr)[1])
    assert v4(host[env.ext_bridge]) == [f"{gateway}/24"]
    ext_addr = ext_address(res)
    assert ext_addr == str(ipaddress.ip_network(env.ext_cidr)[10])
    lb_links = links(vnfc_ns(inst, "lb-0"))
    assert v4(lb_links["eth0"]) == [f"{ext_addr}/24"]
    host_port = res.resources["extCpInfo"][0]["extLinkPortId"]
    assert host_port == f"vx{short(inst)}00" and host[host_port]["master"] == env.ext_bridge
    routes = ipj("route", "show", "default", ns=vnfc_ns(inst, "lb-0"))
    assert routes[0]["gateway"] == gateway

    # volumes
    for vol in plan["volumes"]:
        assert Path(env.vim["stateDir"], inst, vol["name"]).is_dir()

    # traffic: VNFC <-> VNFC over the internal VL, host -> lb's external address
    assert ping(vnfc_ns(inst, "web-0"), "10.10.0.11")
    assert ping(vnfc_ns(inst, "lb-0"), "10.10.0.10")
    assert ping(None, ext_addr)
    assert ping(vnfc_ns(inst, "lb-0"), gateway)

    again = env.driver.reconcile(plan, heal=[], check_mode=False)
    assert not again.changed and again.actions == []
    assert again.resources == res.resources


def test_scale_out_scale_in_and_heal(env: Env) -> None:
    inst = env.new_instance()
    env.driver.reconcile(make_plan(inst, 2), heal=[], check_mode=False)
    web0 = vnfc_ns(inst, "web-0")
    inode0, ifindex0 = ns_inode(web0), links(web0)["eth0"]["ifindex"]
    lb_inode = ns_inode(vnfc_ns(inst, "lb-0"))

    out = env.driver.reconcile(make_plan(inst, 3), heal=[], check_mode=False)
    assert [a.split(" (")[0] for a in out.actions] == [
        f"create netns vnfm-{inst}-web-2",
        f"create volume vnf-{short(inst)}-web-2-data",
    ]
    assert ping(vnfc_ns(inst, "web-2"), "10.10.0.10")

    inn = env.driver.reconcile(make_plan(inst, 1), heal=[], check_mode=False)
    assert [a for a in inn.actions if "netns" in a] == [
        f"delete netns vnfm-{inst}-web-1",
        f"delete netns vnfm-{inst}-web-2",
    ]
    assert vnfc_ns(inst, "web-1") not in netns_names()
    assert vnfc_ns(inst, "web-2") not in netns_names()
    assert ns_inode(web0) == inode0 and links(web0)["eth0"]["ifindex"] == ifindex0
    assert ns_inode(vnfc_ns(inst, "lb-0")) == lb_inode
    assert len([li for li in links(f"vnfm-{inst}-vim").values() if li.get("master")]) == 2

    before = links(web0)["eth0"]
    proc = env.spawn_in(web0)
    healed = env.driver.reconcile(make_plan(inst, 1), heal=["web-0"], check_mode=False)
    assert healed.actions == [f"replace netns vnfm-{inst}-web-0 (heal)"]
    assert wait_dead(proc), "a process of the healed VNFC survived"
    assert ns_inode(web0) != inode0
    after = links(web0)["eth0"]
    assert (v4(after), after["address"], after["mtu"]) == (
        v4(before),
        before["address"],
        before["mtu"],
    )
    assert ping(web0, "10.10.0.5")
    # healing the lb keeps its dynamic external address
    ext_before = ext_address(healed)
    lb_healed = env.driver.reconcile(make_plan(inst, 1), heal=["lb-0"], check_mode=False)
    assert ext_address(lb_healed) == ext_before
    assert ping(None, ext_before)
    assert not env.driver.reconcile(make_plan(inst, 1), heal=[], check_mode=False).changed


def test_processes_die_with_their_vnfc(env: Env) -> None:
    inst = env.new_instance()
    env.driver.reconcile(make_plan(inst, 2), heal=[], check_mode=False)
    victim = env.spawn_in(vnfc_ns(inst, "web-1"))
    survivor = env.spawn_in(vnfc_ns(inst, "web-0"))
    env.driver.reconcile(make_plan(inst, 1), heal=[], check_mode=False)
    assert wait_dead(victim)
    assert survivor.poll() is None


def test_two_instances_with_the_same_cidrs_then_remove_one(env: Env) -> None:
    a, b = env.new_instance(), env.new_instance()
    ra = env.driver.reconcile(make_plan(a, 2), heal=[], check_mode=False)
    rb = env.driver.reconcile(make_plan(b, 2), heal=[], check_mode=False)
    ext_a, ext_b = ext_address(ra), ext_address(rb)
    assert ext_a != ext_b
    for inst in (a, b):
        assert ping(vnfc_ns(inst, "web-0"), "10.10.0.11")
        assert ping(vnfc_ns(inst, "lb-0"), "10.10.0.10")
    assert ping(None, ext_a) and ping(None, ext_b)
    # B's reconcile did not disturb A, and the other way round
    assert not env.driver.reconcile(make_plan(a, 2), heal=[], check_mode=False).changed
    assert not env.driver.reconcile(make_plan(b, 2), heal=[], check_mode=False).changed

    proc = env.spawn_in(vnfc_ns(a, "web-0"))
    b_inodes = {n: ns_inode(n) for n in netns_names() if n.startswith(f"vnfm-{b}-")}
    gone = env.driver.remove(a, check_mode=False)  # no plan, no records: discovery only
    assert gone.changed and gone.resources["vnfcResourceInfo"] == []
    assert wait_dead(proc)
    assert not [n for n in netns_names() if n.startswith(f"vnfm-{a}-")]
    host = links()
    assert not [n for n, li in host.items() if a in str(li.get("ifalias", ""))]
    assert not [n for n in host if n.startswith(f"vx{short(a)}")]
    assert not Path(env.vim["stateDir"], a).exists()
    assert env.ext_bridge in host  # B still uses it
    assert {n: ns_inode(n) for n in netns_names() if n.startswith(f"vnfm-{b}-")} == b_inodes
    assert ping(vnfc_ns(b, "web-0"), "10.10.0.11") and ping(None, ext_b)
    assert not env.driver.remove(a, check_mode=False).changed

    env.driver.remove(b, check_mode=False)
    assert env.ext_bridge not in links()  # the last port is gone, so is the bridge
    assert not [n for n in netns_names() if n.startswith(f"vnfm-{b}-")]


def test_check_mode_changes_nothing(env: Env) -> None:
    inst = env.new_instance()
    plan = make_plan(inst, 2)
    dry = env.driver.reconcile(plan, heal=[], check_mode=True)
    assert dry.changed and len(dry.actions) == 8
    assert not [n for n in netns_names() if n.startswith(f"vnfm-{inst}-")]
    assert env.ext_bridge not in links()
    assert not Path(env.vim["stateDir"], inst).exists()

    real = env.driver.reconcile(plan, heal=[], check_mode=False)
    assert real.actions == dry.actions
    inodes = {n: ns_inode(n) for n in netns_names() if n.startswith(f"vnfm-{inst}-")}
    dry_scale = env.driver.reconcile(make_plan(inst, 1), heal=["web-0"], check_mode=True)
    assert dry_scale.actions[0] == f"replace netns vnfm-{inst}-web-0 (heal)"
    assert f"delete netns vnfm-{inst}-web-1" in dry_scale.actions
    dry_rm = env.driver.remove(inst, check_mode=True)
    assert f"delete netns vnfm-{inst}-vim" in dry_rm.actions
    assert {n: ns_inode(n) for n in netns_names() if n.startswith(f"vnfm-{inst}-")} == inodes
    assert not env.driver.reconcile(plan, heal=[], check_mode=False).changed


def _timed(env: Env, inst: str, webs: int) -> float:
    start = time.monotonic()
    env.driver.reconcile(make_plan(inst, webs), heal=[], check_mode=False)
    return time.monotonic() - start


def test_reconcile_time_1_vs_8_webs(env: Env, record_property: Callable[[str, Any], None]) -> None:
    t1 = min(_timed(env, env.new_instance(), 1) for _ in range(2))
    t8 = min(_timed(env, env.new_instance(), 8) for _ in range(2))
    record_property("reconcile_1_web_s", round(t1, 3))
    record_property("reconcile_8_webs_s", round(t8, 3))
    print(f"\nlocal VIM reconcile: 1 web {t1:.3f}s, 8 webs {t8:.3f}s ({t8 / t1:.2f}x)")
    assert t8 < max(2 * t1, t1 + 0.5), f"8 webs took {t8:.3f}s vs {t1:.3f}s for 1"


# -- the module, through ansible-runner --------------------------------------------------------
PLAYBOOK = """\
- name: Reconcile a VNF on the local VIM
  hosts: localhost
  gather_facts: false
  vars_files:
    - plan.json
  tasks:
    - name: Reconcile
      nfv.vnfm.vnf_resources:
        plan: "{{ vnf_plan }}"
        vim: "{{ vnf_vim }}"
        state: "{{ vnf_state | default('present') }}"
        vnf_instance_id: "{{ vnf_plan.vnfInstanceId }}"
      register: reconciled
"""


def _run_playbook(tmp: Path, extravars: dict[str, Any] | None = None, diff: bool = False) -> Any:
    ansible_runner = pytest.importorskip("ansible_runner")
    return ansible_runner.run(
        private_data_dir=str(tmp),
        playbook="site.yml",
        inventory="localhost ansible_connection=local",
        extravars={
            "ansible_python_interpreter": sys.executable,
            **(extravars or {}),
        },
        envvars={
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
        cmdline="--diff" if diff else None,
        quiet=True,
        timeout=300,
    )


def _task_result(runner: Any) -> dict[str, Any]:
    for ev in runner.events:
        done = ev.get("event") in ("runner_on_ok", "runner_on_failed")
        if done and ev["event_data"]["task"] == "Reconcile":
            return dict(ev["event_data"]["res"])
    raise AssertionError(runner.stdout.read())


def test_module_through_ansible_runner(env: Env, tmp_path: Path) -> None:
    inst = env.new_instance()
    pdd = tmp_path / "runner"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "site.yml").write_text(PLAYBOOK)
    (pdd / "project" / "plan.json").write_text(
        json.dumps({"vnf_plan": make_plan(inst, 2), "vnf_vim": env.vim})
    )
    first = _run_playbook(pdd, diff=True)
    assert first.status == "successful", first.stdout.read()
    res = _task_result(first)
    assert res["changed"] is True
    assert len(res["resources"]["vnfcResourceInfo"]) == 3
    assert res["diff"]["before"]["vnfcs"] == {}
    assert vnfc_ns(inst, "web-1") in netns_names()

    second = _run_playbook(pdd)
    assert second.status == "successful", second.stdout.read()
    res2 = _task_result(second)
    assert res2["changed"] is False and res2["actions"] == []
    assert second.stats["changed"].get("localhost", 0) == 0

    bad = _run_playbook(pdd, {"vnf_vim": {"vimType": "nope"}})
    assert bad.status == "failed"
    failed = _task_result(bad)
    assert "unsupported vimType 'nope'" in failed["msg"]
    assert "Traceback" not in json.dumps(failed)

    gone = _run_playbook(pdd, {"vnf_state": "absent"})
    assert gone.status == "successful", gone.stdout.read()
    assert _task_result(gone)["changed"] is True
    assert not [n for n in netns_names() if n.startswith(f"vnfm-{inst}-")]


def _run_module_file(tmp: Path, args: dict[str, Any]) -> dict[str, Any]:
    """nfv.vnfm.vnf_resources run as a module (its file, arguments in a JSON file): what a
    task on another host runs, and what localhost ran before the action plugin."""
    module = COLLECTIONS / "ansible_collections/nfv/vnfm/plugins/modules/vnf_resources.py"
    args_file = tmp / "module-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    done = subprocess.run(
        [sys.executable, str(module), str(args_file)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(COLLECTIONS)},
        timeout=120,
    )
    assert done.stdout.strip().startswith("{"), done.stdout + done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_action_plugin_answers_as_the_module(env: Env, tmp_path: Path) -> None:
    """On localhost the task runs in the controller's worker (plugins/action/vnf_resources.py,
    issue 17): the module, given the same arguments, sees the same resources, refuses the
    same bad request with the same message, and neither lets a credential out."""
    inst = env.new_instance()
    plan = make_plan(inst, 1)
    pdd = tmp_path / "runner"
    (pdd / "project").mkdir(parents=True)
    (pdd / "project" / "site.yml").write_text(PLAYBOOK)
    (pdd / "project" / "plan.json").write_text(json.dumps({"vnf_plan": plan, "vnf_vim": env.vim}))
    try:
        applied = _task_result(_run_playbook(pdd))
        module = _run_module_file(
            tmp_path,
            {"plan": plan, "vim": env.vim, "vnf_instance_id": inst, "_ansible_check_mode": True},
        )
        assert module["changed"] is False and module["actions"] == []
        assert applied["changed"] is True and applied["actions"]
        assert json.dumps(applied["resources"], sort_keys=True) == json.dumps(
            module["resources"], sort_keys=True
        )

        # a request both refuse, with a secret among the arguments
        secret = "s3cr3t-never-shown-\u00e9"
        bad = {"plan": plan, "vim": {"vimType": "nope"}, "vim_credentials": {"password": secret}}
        failed_module = _run_module_file(tmp_path, {**bad, "vnf_instance_id": inst})
        playbook = PLAYBOOK.replace(
            "        state: \"{{ vnf_state | default('present') }}\"\n",
            "        state: \"{{ vnf_state | default('present') }}\"\n"
            '        vim_credentials: {password: "{{ vnf_secret }}"}\n',
        )
        (pdd / "project" / "site.yml").write_text(playbook)
        runner = _run_playbook(pdd, {"vnf_vim": {"vimType": "nope"}, "vnf_secret": secret})
        failed = _task_result(runner)
        assert failed_module["failed"] is True and runner.status == "failed"
        assert failed["msg"] == failed_module["msg"]
        events = json.dumps(list(runner.events), ensure_ascii=False)
        assert secret not in events and secret not in json.dumps(failed_module)
    finally:
        env.driver.remove(inst, check_mode=False)
