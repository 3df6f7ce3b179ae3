"""Unit tests of the ``local`` VIM's power state (SOL003 operate): plan, discovery, diff, apply.

A VNFC planned ``powerState: off`` has no process and every interface (lo and
its CPs) administratively down; ``on`` has them up. The kernel is faked as in
``test_local_vim_naming.py``; :class:`PoweringKernel` also accepts the power
commands (``link set dev X up|down``, ``route replace default``) and records
the processes it is asked to kill.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import (
    _vnfc_commands,
    power_commands,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import discover
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import desired_state
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

from tests.unit.test_local_vim_naming import (
    INST,
    VIM,
    FakeKernel,
    _vnfc_link,
    changes_for,
    kernel_for,
    make_plan,
)

LB = naming.vnfc_netns(INST, "lb-0")
WEB0 = naming.vnfc_netns(INST, "web-0")
WEB1 = naming.vnfc_netns(INST, "web-1")
GATEWAY = "172.30.250.1"


def with_power(
    plan: dict[str, Any], off: Sequence[str] = (), on: Sequence[str] = ()
) -> dict[str, Any]:
    """A copy of ``plan`` with ``powerState`` off for ``off``, on for ``on``, absent otherwise."""
    out = copy.deepcopy(plan)
    for vnfc in out["vnfcs"]:
        if vnfc["id"] in off:
            vnfc["powerState"] = "off"
        elif vnfc["id"] in on:
            vnfc["powerState"] = "on"
    return out


def power_off_in_kernel(kernel: FakeKernel, vnfc: str) -> None:
    """What the driver leaves after a power off: every interface down, no route."""
    ns = naming.vnfc_netns(INST, vnfc)
    for link in kernel.ns[ns]["links"]:
        link["flags"] = ["BROADCAST"] if link["ifname"] != "lo" else ["LOOPBACK"]
    kernel.ns[ns]["routes"] = []


class PoweringKernel(FakeKernel):
    """A fake kernel that applies power commands and records kills."""

    def __init__(self) -> None:
        super().__init__()
        self.pids: dict[str, list[int]] = {}
        self.killed: list[int] = []
        self.commands: list[tuple[str | None, str]] = []

    def netns_pids(self, names: Sequence[str]) -> dict[str, list[int]]:
        return {n: list(self.pids.get(n, [])) for n in names}

    def kill_pids(self, pids: Sequence[int], grace: float) -> None:
        self.killed += list(pids)
        for found in self.pids.values():
            found[:] = [p for p in found if p not in pids]

    def query(
        self,
        commands: Sequence[str],
        *,
        netns: str | None = None,
        before: Sequence[str] = (),
        details: bool = True,
    ) -> list[Any]:
        state = self.ns[netns]
        for cmd in before:
            self.commands.append((netns, cmd))
            if m := re.fullmatch(r"link set dev (\S+) (up|down)", cmd):
                link = next(li for li in state["links"] if li["ifname"] == m[1])
                flags = [f for f in link["flags"] if f not in ("UP", "LOWER_UP")]
                link["flags"] = flags + (["UP", "LOWER_UP"] if m[2] == "up" else [])
                if m[2] == "down":  # the kernel drops the routes of a down interface
                    state["routes"] = []
            elif m := re.fullmatch(r"route replace default via (\S+)", cmd):
                state["routes"] = [{"dst": "default", "gateway": m[1]}]
            else:
                raise AssertionError(f"unexpected change {cmd!r}")
        return super().query(commands, netns=netns)


def powering_kernel_for(plan: dict[str, Any]) -> PoweringKernel:
    k, template = PoweringKernel(), kernel_for(plan)
    k.ns, k.dirs = template.ns, template.dirs
    return k


# -- plan translation ----------------------------------------------------------------------------
def test_power_state_from_plan_defaults_to_on() -> None:
    d = desired_state(with_power(make_plan(2), off=["web-1"], on=["web-0"]), VIM)
    assert {k: v.power for k, v in d.vnfcs.items()} == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    plan = make_plan(1)
    plan["vnfcs"][1]["powerState"] = "standby"
    with pytest.raises(VimError, match="powerState must be 'on' or 'off'"):
        desired_state(plan, VIM)


# -- discovery -----------------------------------------------------------------------------------
def test_discovery_reads_the_power_state_from_the_interfaces() -> None:
    k = kernel_for(make_plan(2))
    power_off_in_kernel(k, "web-1")
    _vnfc_link(k, "web-0", "lo")["flags"] = ["LOOPBACK"]  # half: lo down, eth0 up
    obs = discover(k, INST, VIM["stateDir"])
    assert {k: v.power for k, v in obs.vnfcs.items()} == {
        "lb-0": "on",
        "web-0": "mixed",
        "web-1": "off",
    }
    assert all(v.problems == () for v in obs.vnfcs.values())


# -- diff ----------------------------------------------------------------------------------------
def test_power_off_is_a_modify_of_that_vnfc_only() -> None:
    plan = make_plan(2)
    ch = changes_for(with_power(plan, off=["web-1"]), kernel_for(plan))
    assert ch.actions == [f"power off {WEB1} (kill its processes; lo, eth0 down)"]
    assert not ch.create_vnfcs and not ch.delete_vnfcs and not ch.touches_ext
    assert [v.vnfc_id for v in ch.keep_vnfcs] == ["lb-0", "web-0"]
    (web1,) = ch.power_vnfcs
    assert (web1.netns, web1.power, web1.cps[0].addresses) == (WEB1, "off", ("10.10.0.11/24",))


def test_whole_vnf_off_and_on_again() -> None:
    plan = make_plan(2)
    off_plan = with_power(plan, off=["lb-0", "web-0", "web-1"])
    ch = changes_for(off_plan, kernel_for(plan))
    assert [a.split(" (")[0] for a in ch.actions] == [f"power off {n}" for n in (LB, WEB0, WEB1)]
    assert ch.actions[0] == f"power off {LB} (kill its processes; lo, eth0, eth1 down)"
    # the kernel once off: nothing to do for the off plan (no route is expected when off) ...
    k = kernel_for(plan)
    for vnfc in ("lb-0", "web-0", "web-1"):
        power_off_in_kernel(k, vnfc)
    assert changes_for(off_plan, k).actions == []
    # ... and powering on brings the interfaces and the lb's default route back
    on = changes_for(plan, k)
    assert on.actions == [
        f"power on {LB} (lo, eth0, eth1 up; default route via {GATEWAY})",
        f"power on {WEB0} (lo, eth0 up)",
        f"power on {WEB1} (lo, eth0 up)",
    ]
    assert [v.gateway for v in on.power_vnfcs] == [GATEWAY, None, None]
    # an old plan (no powerState at all) means on
    assert changes_for(with_power(plan, on=["lb-0"]), k).actions == on.actions


def test_mixed_interfaces_go_to_the_planned_power_state() -> None:
    plan = make_plan(1)
    k = kernel_for(plan)
    _vnfc_link(k, "web-0", "lo")["flags"] = ["LOOPBACK"]
    assert changes_for(plan, k).actions == [f"power on {WEB0} (lo, eth0 up)"]
    assert changes_for(with_power(plan, off=["web-0"]), k).actions == [
        f"power off {WEB0} (kill its processes; lo, eth0 down)"
    ]


def test_a_real_difference_still_replaces_and_keeps_the_planned_power() -> None:
    plan = make_plan(2)
    k = kernel_for(plan)
    power_off_in_kernel(k, "web-1")
    _vnfc_link(k, "web-1", "eth0")["address"] = "02:aa:bb:cc:dd:ee"
    ch = changes_for(with_power(plan, off=["web-1"]), k)
    assert [a.split(" (")[0] for a in ch.actions] == [f"replace netns {WEB1}"]
    assert ch.create_vnfcs[0].power == "off"


def test_heal_of_an_off_vnfc_recreates_it_off() -> None:
    plan = with_power(make_plan(2), off=["lb-0", "web-1"])
    k = kernel_for(plan)
    power_off_in_kernel(k, "lb-0")
    power_off_in_kernel(k, "web-1")
    ch = changes_for(plan, k, heal=["lb-0", "web-1"])
    assert ch.actions == [f"replace netns {LB} (heal)", f"replace netns {WEB1} (heal)"]
    lb, web1 = ch.create_vnfcs
    assert (lb.power, web1.power) == ("off", "off")
    cmds = _vnfc_commands(INST, lb, "1")
    assert not any(c.endswith(" up") for c in cmds)
    assert not any(c.startswith("route") for c in cmds)
    on_cmds = _vnfc_commands(INST, desired_state(make_plan(1), VIM).vnfcs["lb-0"], "1")
    assert on_cmds[0].endswith(" up") and on_cmds[-1] == f"route add default via {GATEWAY}"


def test_power_commands() -> None:
    d = desired_state(make_plan(1), VIM)
    lb = d.vnfcs["lb-0"]
    assert power_commands(lb) == [
        "link set dev lo up",
        "link set dev eth0 up",
        "link set dev eth1 up",
        f"route replace default via {GATEWAY}",
    ]
    assert power_commands(dataclasses.replace(lb, power="off")) == [
        "link set dev lo down",
        "link set dev eth0 down",
        "link set dev eth1 down",
    ]


# -- driver --------------------------------------------------------------------------------------
def test_check_mode_reports_power_changes_without_making_them() -> None:
    plan = make_plan(2)
    res = LocalDriver(VIM, kernel=kernel_for(plan)).reconcile(
        with_power(plan, off=["web-1"]), heal=[], check_mode=True
    )  # FakeKernel fails the test on any change
    assert res.changed and [a.split(" (")[0] for a in res.actions] == [f"power off {WEB1}"]
    power = {v["id"]: v["metadata"]["powerState"] for v in res.resources["vnfcResourceInfo"]}
    assert power == {"lb-0": "on", "web-0": "on", "web-1": "off"}
    assert res.diff["before"]["vnfcs"]["web-1"]["power"] == "on"
    assert res.diff["after"]["vnfcs"]["web-1"]["power"] == "off"
    assert res.diff["after"]["vnfcs"]["web-1"]["cps"] == res.diff["before"]["vnfcs"]["web-1"]["cps"]


def test_reconcile_powers_off_kills_processes_and_is_idempotent() -> None:
    plan = make_plan(2)
    k = powering_kernel_for(plan)
    k.pids = {WEB1: [4242, 4243], WEB0: [5000]}
    driver = LocalDriver(VIM, kernel=k)
    off_plan = with_power(plan, off=["web-1"])
    res = driver.reconcile(off_plan, heal=[], check_mode=False)
    assert res.changed and res.actions == [f"power off {WEB1} (kill its processes; lo, eth0 down)"]
    assert k.killed == [4242, 4243]  # web-0's process lives on
    assert k.commands == [(WEB1, "link set dev lo down"), (WEB1, "link set dev eth0 down")]
    info = {v["id"]: v for v in res.resources["vnfcResourceInfo"]}
    assert info["web-1"]["metadata"] == {"powerState": "off"}
    assert info["web-0"]["metadata"] == {"powerState": "on"}
    addrs = info["web-1"]["vnfcCpInfo"][0]["cpProtocolInfo"][0]["ipOverEthernet"]
    assert addrs["ipAddresses"][0]["addresses"] == ["10.10.0.11"]

    again = driver.reconcile(off_plan, heal=[], check_mode=False)
    assert not again.changed and again.actions == []
    assert again.resources == res.resources

    k.commands.clear()
    on = driver.reconcile(plan, heal=[], check_mode=False)
    assert on.actions == [f"power on {WEB1} (lo, eth0 up)"]
    assert k.commands == [(WEB1, "link set dev lo up"), (WEB1, "link set dev eth0 up")]
    assert {v["metadata"]["powerState"] for v in on.resources["vnfcResourceInfo"]} == {"on"}
    assert not driver.reconcile(plan, heal=[], check_mode=False).changed


def test_reconcile_powers_the_lb_on_with_its_default_route() -> None:
    plan = make_plan(1)
    k = powering_kernel_for(plan)
    power_off_in_kernel(k, "lb-0")
    res = LocalDriver(VIM, kernel=k).reconcile(plan, heal=[], check_mode=False)
    assert res.actions == [f"power on {LB} (lo, eth0, eth1 up; default route via {GATEWAY})"]
    assert k.ns[LB]["routes"] == [{"dst": "default", "gateway": GATEWAY}]
    assert res.diff["after"]["vnfcs"]["lb-0"]["gateway"] == GATEWAY
