"""Every SOL003 operation on an instantiated webfarm VNF, checked on the local VIM for real.

One instance serves the whole module (onboard + create + instantiate ``small``
once, in a module-scoped fixture); the tests run in file order and each one
starts by checking the state the previous one left (so a failure is reported
where it happens). The failing-hook test has its own instance of a webfarm
variant. Everything is checked on the host itself: ``/run/netns`` inodes,
addresses inside the namespaces, ``/proc``, HTTP from the host through the
load balancer's external address. Real CLI, real ansible-runner; no mocks.
Needs root and iproute2.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import (
    REPO_ROOT,
    RUN_DIR,
    WEBFARM,
    Lifecycle,
    daemon_processes,
    have_ip,
    host_links,
    instance_netns,
    privileged,
    requires_root,
    short_id,
    wait_until,
)
from tests.integration.test_lifecycle import (
    assert_serves,
    ext_addresses,
    netns_addresses,
    one_error_line,
)

pytestmark = [*requires_root, pytest.mark.timeout(1800)]

WEBFARM_VNFD = "8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61"
FAIL_TASK = "Fail on purpose while the flag file exists"


# -- kernel-side helpers -------------------------------------------------------------------------
def inodes(instance_id: str) -> dict[str, int]:
    """VNFC id (and ``vim``) -> inode of its /run/netns entry."""
    prefix = f"vnfm-{instance_id}-"
    return {
        n.removeprefix(prefix): os.stat(f"/run/netns/{n}").st_ino
        for n in instance_netns(instance_id)
    }


def vnfcs(instance_id: str) -> list[str]:
    return sorted(n for n in inodes(instance_id) if n != "vim")


def webs(instance_id: str) -> set[str]:
    return {n for n in vnfcs(instance_id) if n.startswith("web-")}


def addresses(instance_id: str, vnfc: str) -> set[str]:
    return netns_addresses(f"vnfm-{instance_id}-{vnfc}") - {"127.0.0.1", "::1"}


def daemons_of(instance_id: str, vnfc: str) -> dict[int, str]:
    return {pid: cmd for pid, cmd in daemon_processes(instance_id).items() if f"/{vnfc}/" in cmd}


def scale_status(doc: dict[str, Any]) -> dict[str, int]:
    info = doc["instantiatedVnfInfo"]
    return {s["aspectId"]: s["scaleLevel"] for s in info["scaleStatus"]}


def the_ext_address(doc: dict[str, Any]) -> str:
    found = ext_addresses(doc)
    assert len(found) == 1, doc["instantiatedVnfInfo"].get("extCpInfo")
    return found[0]


def op_list(lc: Lifecycle, instance_id: str) -> str:
    return lc.cli_ok("op", "list", "--instance", instance_id)


def op_doc(lc: Lifecycle, op_id: str) -> dict[str, Any]:
    return dict(json.loads(lc.cli_ok("op", "show", op_id)))


def last_op_id(lc: Lifecycle, instance_id: str) -> str:
    return str(lc.service().store.operations(instance_id)[-1].id)


def ensure_webs(lc: Lifecycle, instance_id: str, count: int) -> None:
    """Bring the instance to ``count`` webs (default flavour) unless it already has them."""
    if webs(instance_id) != {f"web-{i}" for i in range(count)}:
        lc.cli_ok("scale-to-level", instance_id, "--aspect", f"web={count - 1}", "-q")
    assert webs(instance_id) == {f"web-{i}" for i in range(count)}


# -- webfarm variants ------------------------------------------------------------------------------
def build_variant(
    dst: Path,
    *,
    vnfd_id: str | None = None,
    software_version: str | None = None,
    web_marker: str | None = None,
    fail_flag: Path | None = None,
    fail_hook: str = "scale_end",
) -> Path:
    """A copy of webfarm with some changes, its manifest regenerated.

    With ``fail_flag``, the hook playbook ``fail_hook`` first fails while that file exists.
    """
    shutil.copytree(WEBFARM, dst, ignore=shutil.ignore_patterns("__pycache__"))
    types = dst / "Definitions" / "webfarm_types.yaml"
    top = dst / "Definitions" / "webfarm_top.yaml"
    if vnfd_id:
        for path in (types, top):
            text = path.read_text()
            assert WEBFARM_VNFD in text
            path.write_text(text.replace(WEBFARM_VNFD, vnfd_id))
    if software_version:
        old = "software_version:\n        type: string\n        constraints: [valid_values: ['1.0']]\n        default: '1.0'"
        text = types.read_text()
        assert old in text
        types.write_text(text.replace(old, old.replace("'1.0'", f"'{software_version}'")))
        text = top.read_text()
        assert "software_version: '1.0'" in text
        top.write_text(
            text.replace("software_version: '1.0'", f"software_version: '{software_version}'")
        )
    if web_marker:
        web = dst / "Files" / "software" / "web.py"
        text = web.read_text()
        old = 'self._answer(200, f"{self.vnfc_id}\\n".encode())'
        assert old in text
        web.write_text(
            text.replace(old, f'self._answer(200, f"{{self.vnfc_id}} {web_marker}\\n".encode())')
        )
    if fail_flag:
        hook = dst / "Scripts" / f"{fail_hook}.yml"
        failing = (
            "---\n"
            "- name: Fail while the test's flag file exists\n"
            "  hosts: localhost\n"
            "  gather_facts: false\n"
            "  any_errors_fatal: true\n"
            "  tasks:\n"
            "    - name: Look for the flag file\n"
            "      ansible.builtin.stat:\n"
            f"        path: {fail_flag}\n"
            "      register: webfarm_test_flag\n"
            f"    - name: {FAIL_TASK}\n"
            "      ansible.builtin.fail:\n"
            "        msg: the flag file exists\n"
            "      when: webfarm_test_flag.stat.exists\n"
            "\n"
        )
        hook.write_text(failing + hook.read_text().removeprefix("---\n"))
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(dst)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dst


# -- the module's instance -------------------------------------------------------------------------
class Farm:
    def __init__(self, lc: Lifecycle, instance_id: str) -> None:
        self.lc = lc
        self.id = instance_id

    def show(self) -> dict[str, Any]:
        return self.lc.show(self.id)

    @property
    def ext(self) -> str:
        return the_ext_address(self.show())

    def serves(self, expected: set[str]) -> None:
        assert_serves(self.ext, expected)


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    """webfarm instantiated ``small`` (lb-0, web-0, web-1) for the whole module."""
    if not privileged() or not have_ip():
        pytest.skip("needs root and iproute2")
    tmp = tmp_path_factory.mktemp("operations")
    lc = Lifecycle(home=tmp / "vnfm-home", tmp=tmp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VNFM_HOME", str(lc.home))
        try:
            inst = lc.create(lc.onboard(), name="e2e-operations")
            lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
            farm = Farm(lc, inst)
            assert vnfcs(inst) == ["lb-0", "web-0", "web-1"]
            farm.serves({"web-0", "web-1"})
            yield farm
        finally:
            lc.cleanup()


# -- scale -------------------------------------------------------------------------------------------
def test_scale_out_then_in(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    assert vnfcs(inst) == ["lb-0", "web-0", "web-1"]
    before = inodes(inst)
    addr = {v: addresses(inst, v) for v in ("web-0", "web-1")}

    lc.cli_ok("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "--steps", "2", "-q")
    assert vnfcs(inst) == ["lb-0", "web-0", "web-1", "web-2", "web-3"]
    after = inodes(inst)
    for kept in ("vim", "lb-0", "web-0", "web-1"):
        assert after[kept] == before[kept], f"{kept} was recreated by a scale out"
    assert {v: addresses(inst, v) for v in ("web-0", "web-1")} == addr
    doc = farm.show()
    assert scale_status(doc) == {"web": 3}
    farm.serves({"web-0", "web-1", "web-2", "web-3"})

    removed = {v: daemons_of(inst, v) for v in ("web-1", "web-2", "web-3")}
    assert all(removed.values()), removed
    lc.cli_ok("scale", inst, "--type", "SCALE_IN", "--aspect", "web", "--steps", "3", "-q")
    assert vnfcs(inst) == ["lb-0", "web-0"]
    now = inodes(inst)
    assert now["web-0"] == before["web-0"] and now["lb-0"] == before["lb-0"]
    assert addresses(inst, "web-0") == addr["web-0"]
    assert scale_status(farm.show()) == {"web": 0}
    farm.serves({"web-0"})
    # the removed webs' runtime files went with them (local VIM runDir)
    assert sorted(p.name for p in (RUN_DIR / inst).iterdir()) == ["lb-0", "web-0"]
    left = {pid for pids in removed.values() for pid in pids}
    assert wait_until(lambda: not (left & set(daemon_processes(inst))), timeout=10), (
        f"daemons of removed webs still run: {left & set(daemon_processes(inst))}"
    )


def test_scale_refused_beyond_limits(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    assert vnfcs(inst) == ["lb-0", "web-0"]
    ops = op_list(lc, inst)
    before = inodes(inst)
    pids = daemon_processes(inst)
    for kind, steps in (("SCALE_OUT", "9"), ("SCALE_IN", "1")):
        proc = lc.cli("scale", inst, "--type", kind, "--aspect", "web", "--steps", steps, "-q")
        line = one_error_line(proc)
        assert "web" in line, line
        assert op_list(lc, inst) == ops, f"{kind} {steps} recorded an operation"
    assert inodes(inst) == before
    assert daemon_processes(inst) == pids
    assert scale_status(farm.show()) == {"web": 0}


def test_scale_to_level(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    lc.cli_ok("scale-to-level", inst, "--level", "large", "-q")
    assert webs(inst) == {"web-0", "web-1", "web-2", "web-3"}
    assert scale_status(farm.show()) == {"web": 3}
    farm.serves({"web-0", "web-1", "web-2", "web-3"})

    lc.cli_ok("scale-to-level", inst, "--aspect", "web=1", "-q")
    assert vnfcs(inst) == ["lb-0", "web-0", "web-1"]
    assert scale_status(farm.show()) == {"web": 1}
    farm.serves({"web-0", "web-1"})


def test_scale_to_current_level_changes_nothing(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 2)
    before, pids = inodes(inst), daemon_processes(inst)
    lc.cli_ok("scale-to-level", inst, "--aspect", "web=1", "-q")
    last = lc.service().store.operations(inst)[-1]
    assert (last.operation, last.state) == ("SCALE_TO_LEVEL", "COMPLETED")
    assert inodes(inst) == before
    assert daemon_processes(inst) == pids
    assert scale_status(farm.show()) == {"web": 1}
    farm.serves({"web-0", "web-1"})


# -- change flavour ----------------------------------------------------------------------------------
def test_change_flavour_compact_and_back(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    lc.cli_ok("change-flavour", inst, "--flavour", "compact", "--level", "single", "-q")
    assert vnfcs(inst) == ["lb-0", "web-0"]
    doc = farm.show()
    assert doc["instantiatedVnfInfo"]["flavourId"] == "compact"
    farm.serves({"web-0"})

    lc.cli_ok("change-flavour", inst, "--flavour", "default", "--level", "small", "-q")
    assert vnfcs(inst) == ["lb-0", "web-0", "web-1"]
    doc = farm.show()
    assert doc["instantiatedVnfInfo"]["flavourId"] == "default"
    assert scale_status(doc) == {"web": 1}
    farm.serves({"web-0", "web-1"})


# -- heal ---------------------------------------------------------------------------------------------
def test_heal_one_vnfc_then_all(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 2)
    before = inodes(inst)
    addr = {v: addresses(inst, v) for v in vnfcs(inst)}

    lc.cli_ok("heal", inst, "--vnfc", "web-0", "-q")
    after = inodes(inst)
    assert after["web-0"] != before["web-0"], "web-0 was not recreated"
    assert {k: v for k, v in after.items() if k != "web-0"} == {
        k: v for k, v in before.items() if k != "web-0"
    }
    assert addresses(inst, "web-0") == addr["web-0"]
    assert daemons_of(inst, "web-0"), "web-0 runs no web server after its heal"
    farm.serves({"web-0", "web-1"})

    ext = farm.ext
    lc.cli_ok("heal", inst, "-q")
    healed = inodes(inst)
    for vnfc in vnfcs(inst):
        assert healed[vnfc] != after[vnfc], f"{vnfc} was not recreated by heal (all)"
        assert addresses(inst, vnfc) == addr[vnfc]
    assert farm.ext == ext
    farm.serves({"web-0", "web-1"})


def test_heal_records_its_timings(farm: Farm) -> None:
    """The heal (all) just run: its per-phase profile, from the run's own events."""
    lc, inst = farm.lc, farm.id
    op_id = last_op_id(lc, inst)
    prof = json.loads(lc.cli_ok("op", "show", op_id, "--timings", "--format", "json"))
    assert prof == op_doc(lc, op_id)["vnfmTimings"]
    assert prof["runs"] == 1
    for phase in ("processStart", "planning", "vim", "hooks"):
        assert prof[phase] > 0, (phase, prof)
    phases = sum(prof[k] for k in ("processStart", "planning", "vim", "hooks", "ansible"))
    assert abs(phases - prof["run"]) < 0.01, prof
    assert prof["total"] >= prof["run"] + prof["records"]
    # webfarm's heal_end: one play on the webs, one on the lb, each VNFC's busy time
    hosts = {h for play in prof["hookPlays"] for h in play["vnfcs"]}
    for vnfc in ("web-0", "web-1", "lb-0"):
        assert any(h.endswith(f"-{vnfc}") for h in hosts), (vnfc, prof["hookPlays"])
    shown = lc.cli_ok("op", "show", op_id, "--timings")
    for label in ("process start", "planning", "VIM calls", "hooks", "records", "total"):
        assert label in shown, shown


def test_a_heal_restarts_a_vnfc_the_vim_rebuilt_unasked(farm: Farm) -> None:
    """web-1's namespace vanishes behind the VNFM's back; healing web-0 rebuilds web-1 too
    (the VIM reconciles to the plan), and web-1 counts as healed: heal_end (a play on
    lb:vnfm_healed) starts its web server, and never visits web-2, left untouched."""
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 3)
    before = inodes(inst)
    web2 = daemons_of(inst, "web-2")
    # gone for good: no process left to hold the namespace (the VIM would adopt it back)
    for pid in daemons_of(inst, "web-1"):
        os.kill(pid, signal.SIGKILL)
    subprocess.run(["ip", "netns", "del", f"vnfm-{inst}-web-1"], check=True)

    lc.cli_ok("heal", inst, "--vnfc", "web-0", "-q")
    after = inodes(inst)
    assert after["web-0"] != before["web-0"] and after["web-1"] != before["web-1"]
    assert (after["lb-0"], after["web-2"]) == (before["lb-0"], before["web-2"])
    assert daemons_of(inst, "web-1"), "web-1 runs no web server after the heal rebuilt it"
    assert daemons_of(inst, "web-2") == web2
    prof = op_doc(lc, last_op_id(lc, inst))["vnfmTimings"]
    visited = {
        h.rsplit("-", 2)[-2] + "-" + h.rsplit("-", 1)[-1]
        for p in prof["hookPlays"]
        for h in p["vnfcs"]
    }
    assert visited == {"lb-0", "web-0", "web-1"}, prof["hookPlays"]
    farm.serves({"web-0", "web-1", "web-2"})


def test_heal_retry_does_not_recreate_what_the_failed_attempt_healed(
    lifecycle: Lifecycle, tmp_path: Path
) -> None:
    """The heal token (the operation id) is recorded on the VNFCs a heal recreates: a retry
    of the same operation leaves them, a new heal operation recreates them again."""
    lc = lifecycle
    flag_dir = Path(f"/tmp/vnfm-test-flag-{uuid.uuid4().hex[:12]}")
    flag = flag_dir / "fail"
    flag_dir.mkdir()
    try:
        pkg = build_variant(tmp_path / "webfarm-heal-end", fail_flag=flag, fail_hook="heal_end")
        inst = lc.create(lc.onboard(pkg), name="e2e-heal-retry")
        lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
        before = inodes(inst)

        # -- the heal_end hook fails after web-0 was recreated
        flag.touch()
        proc = lc.cli("heal", inst, "--vnfc", "web-0", "-q")
        assert proc.returncode != 0, proc.stdout
        op_id = last_op_id(lc, inst)
        op = op_doc(lc, op_id)
        assert op["operationState"] == "FAILED_TEMP"
        assert FAIL_TASK in op["error"]["detail"], op["error"]
        healed = inodes(inst)
        assert healed["web-0"] != before["web-0"], "web-0 was not recreated"
        assert {k: v for k, v in healed.items() if k != "web-0"} == {
            k: v for k, v in before.items() if k != "web-0"
        }
        assert not daemons_of(inst, "web-0")  # heal_end (which starts it) did not get there

        # -- retry: web-0 is not recreated again, the hook starts its software, COMPLETED
        flag.unlink()
        lc.cli_ok("op", "retry", op_id, "-q")
        assert op_doc(lc, op_id)["operationState"] == "COMPLETED"
        assert inodes(inst) == healed, "the retry recreated what the failed attempt healed"
        assert daemons_of(inst, "web-0"), "web-0 runs no web server after the retry"
        ext = the_ext_address(lc.show(inst))
        assert_serves(ext, {"web-0", "web-1"})

        # -- another heal operation recreates it again
        lc.cli_ok("heal", inst, "--vnfc", "web-0", "-q")
        again = inodes(inst)
        assert again["web-0"] != healed["web-0"], "a new heal operation did not recreate web-0"
        assert {k: v for k, v in again.items() if k != "web-0"} == {
            k: v for k, v in healed.items() if k != "web-0"
        }
        assert_serves(ext, {"web-0", "web-1"})
    finally:
        shutil.rmtree(flag_dir, ignore_errors=True)


# -- modify, custom operations ------------------------------------------------------------------------
def test_modify_info_changes_no_vim_resource(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    before, pids = inodes(inst), daemon_processes(inst)
    lc.cli_ok("modify", inst, "--name", "new", "--set", "owner=ops", "-q")
    doc = farm.show()
    assert doc["vnfInstanceName"] == "new"
    assert (doc.get("metadata") or {}).get("owner") == "ops", doc.get("metadata")
    assert inodes(inst) == before
    assert daemon_processes(inst) == pids


def test_run_custom_operation(farm: Farm) -> None:
    lc, inst = farm.lc, farm.id
    lc.cli_ok("run-operation", inst, "rotate_logs", "-q")
    for vnfc in vnfcs(inst):
        vdu = vnfc.split("-")[0]
        rotated = RUN_DIR / inst / vnfc / f"{vdu}.log.1"
        assert rotated.is_file(), f"{rotated} is missing"

    ops = op_list(lc, inst)
    line = one_error_line(lc.cli("run-operation", inst, "nope", "-q"))
    assert "nope" in line and "rotate_logs" in line, line
    assert op_list(lc, inst) == ops


# -- change package --------------------------------------------------------------------------------------
def test_change_package_to_v2(farm: Farm, tmp_path: Path) -> None:
    lc, inst = farm.lc, farm.id
    ensure_webs(lc, inst, 2)
    new_vnfd = str(uuid.uuid4())
    v2 = build_variant(
        tmp_path / "webfarm-v2", vnfd_id=new_vnfd, software_version="2.0", web_marker="v2"
    )
    assert lc.onboard(v2) == new_vnfd
    before = inodes(inst)
    lc.cli_ok("change-package", inst, "--vnfd-id", new_vnfd, "-q")
    doc = farm.show()
    assert doc["vnfdId"] == new_vnfd
    assert doc["vnfSoftwareVersion"] == "2.0"
    # the web software changed: the webs are replaced (rolling), the lb is kept
    # (tests/integration/test_change_package.py checks the rolling update in depth)
    after = inodes(inst)
    assert after["lb-0"] == before["lb-0"], "the package change recreated the lb"
    assert after["web-0"] != before["web-0"] and after["web-1"] != before["web-1"]
    assert_serves(farm.ext, {"web-0 v2", "web-1 v2"})


# -- change external connectivity (last: it moves the service address) -------------------------------
EXT2_BRIDGE_PREFIX = "vnfmt2"
# not 172.30.251.0/24: that is the podman VIM's default external network, whose LB may
# answer on the same address while the CNF tests run alongside
EXT2_CIDR = "172.30.247.0/24"


def bridge_ports(bridge: str) -> list[str]:
    return sorted(
        link["ifname"]
        for link in host_links()
        if link.get("master") == bridge and link["ifname"] != bridge
    )


def test_change_ext_conn_moves_the_service_address(farm: Farm, tmp_path: Path) -> None:
    lc, inst = farm.lc, farm.id
    old_doc = farm.show()
    old_ext = the_ext_address(old_doc)
    old_bridge = "vnfm-ext0"
    ours = f"vx{short_id(inst)}"
    assert any(p.startswith(ours) for p in bridge_ports(old_bridge))
    bridge = f"{EXT2_BRIDGE_PREFIX}{uuid.uuid4().hex[:8]}"  # 14 chars: an interface name
    params = tmp_path / "ext.json"
    params.write_text(
        json.dumps(
            {
                "extVirtualLinks": [
                    {
                        "id": "ext2",
                        "resourceId": bridge,
                        "cidr": EXT2_CIDR,
                        "extCps": [{"cpdId": "lb_ext_cp"}],
                    }
                ]
            }
        )
    )
    try:
        lc.cli_ok("change-ext-conn", inst, "--params", str(params), "-q")
        doc = farm.show()
        new_ext = the_ext_address(doc)
        assert new_ext != old_ext
        assert ipaddress.ip_address(new_ext) in ipaddress.ip_network(EXT2_CIDR)
        assert new_ext in addresses(inst, "lb-0")
        assert old_ext not in addresses(inst, "lb-0")
        assert any(p.startswith(ours) for p in bridge_ports(bridge)), bridge_ports(bridge)
        # the old bridge: none of our ports remain; gone if nobody else uses it
        old_ports = bridge_ports(old_bridge)
        assert not any(p.startswith(ours) for p in old_ports), old_ports
        if not old_ports:
            assert not any(link["ifname"] == old_bridge for link in host_links())
        # webfarm maps change_external_connectivity_end to instantiate_end, which restarts
        # the load balancer in its moved namespace: the new address serves every web
        marker = " v2" if doc["vnfSoftwareVersion"] == "2.0" else ""
        assert_serves(new_ext, {f"{web}{marker}" for web in webs(inst)})
    finally:
        # whatever happened, hand the instance back to the default external network
        subprocess.run(["ip", "link", "del", "dev", bridge], capture_output=True, check=False)


# -- a failing hook: retry, then rollback ------------------------------------------------------------------
def test_failing_hook_retry_then_rollback(lifecycle: Lifecycle, tmp_path: Path) -> None:
    lc = lifecycle
    flag_dir = Path(f"/tmp/vnfm-test-flag-{uuid.uuid4().hex[:12]}")
    flag = flag_dir / "fail"
    flag_dir.mkdir()
    try:
        pkg = build_variant(tmp_path / "webfarm-failing", fail_flag=flag)
        inst = lc.create(lc.onboard(pkg), name="e2e-failing-hook")
        lc.cli_ok("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1"]

        # -- the hook fails: FAILED_TEMP, naming the task
        flag.touch()
        proc = lc.cli("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "-q")
        assert proc.returncode != 0, proc.stdout
        op_id = last_op_id(lc, inst)
        op = op_doc(lc, op_id)
        assert op["operationState"] == "FAILED_TEMP"
        assert FAIL_TASK in op["error"]["detail"], op["error"]
        assert scale_status(lc.show(inst)) == {"web": 1}  # only a completed op changes the record

        # -- retry without the flag: COMPLETED, every web answers
        flag.unlink()
        lc.cli_ok("op", "retry", op_id, "-q")
        assert op_doc(lc, op_id)["operationState"] == "COMPLETED"
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1", "web-2"]
        doc = lc.show(inst)
        assert scale_status(doc) == {"web": 2}
        assert_serves(the_ext_address(doc), {"web-0", "web-1", "web-2"})

        # -- fails again, rolled back: the previous web count and level
        before = inodes(inst)
        flag.touch()
        proc = lc.cli("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "-q")
        assert proc.returncode != 0
        op_id = last_op_id(lc, inst)
        assert op_doc(lc, op_id)["operationState"] == "FAILED_TEMP"
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1", "web-2", "web-3"]  # the VIM did change
        lc.cli_ok("op", "rollback", op_id, "-q")
        assert op_doc(lc, op_id)["operationState"] == "ROLLED_BACK"
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1", "web-2"]
        assert inodes(inst) == before
        doc = lc.show(inst)
        assert scale_status(doc) == {"web": 2}
        assert_serves(the_ext_address(doc), {"web-0", "web-1", "web-2"})

        # -- a scale in fails after the VIM removed web-2 and its volume: the rollback brings
        # them back, but not the volume's data, and its result says so
        volumes = doc["instantiatedVnfInfo"]["virtualStorageResourceInfo"]
        (web2_volume,) = [v for v in volumes if "web-2" in v["id"]]
        data_dir = Path(web2_volume["storageResource"]["resourceId"])
        (data_dir / "precious").write_text("written before the scale in")
        proc = lc.cli("scale", inst, "--type", "SCALE_IN", "--aspect", "web", "-q")
        assert proc.returncode != 0
        op_id = last_op_id(lc, inst)
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1"] and not data_dir.exists()
        lc.cli_ok("op", "rollback", op_id, "-q")
        op = op_doc(lc, op_id)
        assert op["operationState"] == "ROLLED_BACK"
        assert vnfcs(inst) == ["lb-0", "web-0", "web-1", "web-2"]
        assert data_dir.is_dir() and not (data_dir / "precious").exists()
        lost = op["resourceChanges"]["affectedVirtualStorages"]
        assert [(v["id"], v["changeType"], v["metadata"]["contentRestored"]) for v in lost] == [
            (web2_volume["id"], "ADDED", False)
        ], lost
    finally:
        shutil.rmtree(flag_dir, ignore_errors=True)
