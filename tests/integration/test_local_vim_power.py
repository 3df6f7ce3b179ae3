"""Integration tests of the ``local`` VIM's power state (SOL003 operate) on real namespaces.

Power off: every process of the VNFC's namespace dies, lo and the CPs go
administratively down (the VNFC answers nothing); power on: they come back up
with the same addresses and MACs, in the same namespace. Kernel state is read
with ``ip -json`` and ``/run/netns`` here, independently of the driver.
Needs root and iproute2 (the ``env`` fixture of ``test_local_vim.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from tests.integration.test_local_vim import (
    Env,
    env,
    ext_address,
    ipj,
    links,
    make_plan,
    netns_names,
    ns_inode,
    ping,
    pytestmark,
    v4,
    vnfc_ns,
    wait_dead,
)

__all__ = ["env", "pytestmark"]  # the fixture and the root/iproute2 skips of test_local_vim


def with_power(plan: dict[str, Any], off: Sequence[str]) -> dict[str, Any]:
    out = copy.deepcopy(plan)
    for vnfc in out["vnfcs"]:
        vnfc["powerState"] = "off" if vnfc["id"] in off else "on"
    return out


def is_up(ns: str, ifname: str) -> bool:
    return "UP" in links(ns)[ifname]["flags"]


def cp_view(ns: str) -> dict[str, tuple[list[str], str, int]]:
    """Address, MAC and MTU of every interface of ``ns`` (what a power change must keep)."""
    return {n: (v4(li), li["address"], li["mtu"]) for n, li in links(ns).items()}


def power(result: Any) -> dict[str, str]:
    return {v["id"]: v["metadata"]["powerState"] for v in result.resources["vnfcResourceInfo"]}


def test_power_off_and_on_one_vnfc(env: Env) -> None:
    inst = env.new_instance()
    plan = make_plan(inst, webs=2)
    env.driver.reconcile(plan, heal=[], check_mode=False)
    web0, web1, lb = (vnfc_ns(inst, v) for v in ("web-0", "web-1", "lb-0"))
    inode, view = ns_inode(web1), cp_view(web1)
    victim, survivor = env.spawn_in(web1), env.spawn_in(web0)
    assert ping(lb, "10.10.0.11")

    off_plan = with_power(plan, off=["web-1"])
    res = env.driver.reconcile(off_plan, heal=[], check_mode=False)
    assert res.actions == [f"power off {web1} (kill its processes; lo, eth0 down)"]
    assert power(res) == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    assert wait_dead(victim), "a process of the powered-off VNFC survived"
    assert survivor.poll() is None, "a process of another VNFC was killed"
    assert not is_up(web1, "eth0") and not is_up(web1, "lo")
    assert ns_inode(web1) == inode and cp_view(web1) == view  # same namespace, addresses, MACs
    assert not ping(lb, "10.10.0.11")
    assert ping(lb, "10.10.0.10")

    again = env.driver.reconcile(off_plan, heal=[], check_mode=False)
    assert not again.changed and again.actions == [] and again.resources == res.resources

    on = env.driver.reconcile(plan, heal=[], check_mode=False)
    assert on.actions == [f"power on {web1} (lo, eth0 up)"]
    assert set(power(on).values()) == {"on"}
    assert is_up(web1, "eth0") and is_up(web1, "lo")
    assert ns_inode(web1) == inode and cp_view(web1) == view
    assert ping(lb, "10.10.0.11") and ping(web1, "10.10.0.5")
    assert not env.driver.reconcile(plan, heal=[], check_mode=False).changed
    # a plan from before power states (no powerState) means on
    legacy = copy.deepcopy(plan)
    for vnfc in legacy["vnfcs"]:
        vnfc.pop("powerState", None)
    assert not env.driver.reconcile(legacy, heal=[], check_mode=False).changed


def test_whole_vnf_off_then_on_keeps_the_external_address(env: Env) -> None:
    inst = env.new_instance()
    plan = make_plan(inst, webs=1)
    first = env.driver.reconcile(plan, heal=[], check_mode=False)
    ext = ext_address(first)
    names = [vnfc_ns(inst, v) for v in ("lb-0", "web-0")]
    inodes = {n: ns_inode(n) for n in names}
    lb = names[0]
    assert ping(None, ext)

    off_plan = with_power(plan, off=["lb-0", "web-0"])
    checked = env.driver.reconcile(off_plan, heal=[], check_mode=True)
    assert checked.changed and set(power(checked).values()) == {"off"}
    assert is_up(lb, "eth0"), "check mode changed the kernel"

    off = env.driver.reconcile(off_plan, heal=[], check_mode=False)
    assert [a.split(" (")[0] for a in off.actions] == [f"power off {n}" for n in names]
    assert ext_address(off) == ext
    assert not ping(None, ext)
    assert ipj("route", "show", "default", ns=lb) == []
    assert all(not is_up(n, i) for n in names for i in links(n))
    assert not env.driver.reconcile(off_plan, heal=[], check_mode=False).changed

    on = env.driver.reconcile(plan, heal=[], check_mode=False)
    assert ext_address(on) == ext and on.resources["extCpInfo"] == first.resources["extCpInfo"]
    assert on.resources == first.resources
    assert ping(None, ext) and ping(lb, "10.10.0.10")
    gateway = ipj("route", "show", "default", ns=lb)[0]["gateway"]
    assert ext.rsplit(".", 1)[0] == gateway.rsplit(".", 1)[0]
    assert {n: ns_inode(n) for n in names} == inodes
    assert not env.driver.reconcile(plan, heal=[], check_mode=False).changed


def test_heal_and_scale_out_while_off_keep_the_planned_power(env: Env) -> None:
    inst = env.new_instance()
    env.driver.reconcile(make_plan(inst, webs=1), heal=[], check_mode=False)
    web0 = vnfc_ns(inst, "web-0")
    inode = ns_inode(web0)
    off_plan = with_power(make_plan(inst, webs=2), off=["web-0", "web-1"])
    scaled = env.driver.reconcile(off_plan, heal=[], check_mode=False)
    assert sorted(a.split(" (")[0] for a in scaled.actions if "netns" in a or "power" in a) == [
        f"create netns {vnfc_ns(inst, 'web-1')}",
        f"power off {web0}",
    ]
    web1 = vnfc_ns(inst, "web-1")
    assert web1 in netns_names()
    assert not is_up(web1, "eth0") and not is_up(web1, "lo")
    assert v4(links(web1)["eth0"]) == ["10.10.0.11/24"]

    healed = env.driver.reconcile(off_plan, heal=["web-0"], check_mode=False)
    assert healed.actions == [f"replace netns {web0} (heal)"]
    assert ns_inode(web0) != inode
    assert not is_up(web0, "eth0") and v4(links(web0)["eth0"]) == ["10.10.0.10/24"]
    assert power(healed) == {"lb-0": "on", "web-0": "off", "web-1": "off"}
    assert not env.driver.reconcile(off_plan, heal=[], check_mode=False).changed

    on = env.driver.reconcile(make_plan(inst, webs=2), heal=[], check_mode=False)
    assert [a.split(" (")[0] for a in on.actions] == [f"power on {web0}", f"power on {web1}"]
    assert ping(web1, "10.10.0.10") and ping(vnfc_ns(inst, "lb-0"), "10.10.0.11")
