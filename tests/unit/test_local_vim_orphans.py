"""Unit tests: a VNFC namespace deleted by name while its processes run (``ip netns del``).

The namespace lives on unnamed with its interfaces; their peers stay in the VIM
namespace and on the host. Discovery sees the peers; the driver names the namespace
again when its ``lo`` record says it is that VNFC's, and otherwise deletes the peers
before creating the VNFC anew (their names would clash). The kernel is faked as in
``test_local_vim_naming.py``; the real thing is tests/integration/test_heal_orphaned.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import (
    adopt_orphans,
    discover,
    orphaned_vnfcs,
)

from tests.unit.test_local_vim_naming import (
    INST,
    VIM,
    FakeKernel,
    changes_for,
    kernel_for,
    make_plan,
)

WEB1 = naming.vnfc_netns(INST, "web-1")


class OrphanKernel(FakeKernel):
    """A fake kernel with unnamed namespaces (pid -> lo alias) that records attachments."""

    def __init__(self) -> None:
        super().__init__()
        self.unnamed: dict[int, str | None] = {}
        self.attached: list[tuple[str, int]] = []

    def unnamed_netns_pids(self) -> dict[int, int]:
        return {1000 + pid: pid for pid in self.unnamed}

    def lo_alias_of(self, pid: int) -> str | None:
        return self.unnamed.get(pid)

    def netns_attach(self, name: str, pid: int) -> None:
        self.attached.append((name, pid))


def orphaned(vnfc: str = "web-1") -> tuple[OrphanKernel, dict[str, Any]]:
    """webfarm's kernel after ``ip netns del`` of ``vnfc``: its peers stay, its name goes."""
    plan = make_plan(2)
    full = kernel_for(plan)
    k = OrphanKernel()
    k.ns, k.dirs = full.ns, full.dirs
    netns = naming.vnfc_netns(INST, vnfc)
    lo = next(li for li in k.ns[netns]["links"] if li["ifname"] == "lo")
    del k.ns[netns]
    k.unnamed = {4242: lo["ifalias"]}
    return k, plan


def test_the_peers_of_a_vnfc_without_its_netns_show_an_orphan() -> None:
    k, plan = orphaned()
    obs = discover(k, INST, VIM["stateDir"])
    assert "web-1" not in obs.vnfcs
    assert orphaned_vnfcs(obs) == {"web-1"}
    assert orphaned_vnfcs(discover(kernel_for(plan), INST, VIM["stateDir"])) == set()


def test_the_orphan_is_named_again_only_when_its_record_says_so() -> None:
    k, _plan = orphaned()
    k.unnamed[7] = None  # someone else's namespace (no record on lo)
    k.unnamed[8] = naming.vnfc_alias(INST + "-x", "web-1", "web")  # another instance's
    actions = adopt_orphans(k, INST, discover(k, INST, VIM["stateDir"]))
    assert k.attached == [(WEB1, 4242)]
    assert actions == [f"name netns {WEB1} again (its name was deleted, its processes ran on)"]


def test_nothing_is_looked_for_when_every_vnfc_has_its_netns() -> None:
    k, plan = orphaned()
    full = kernel_for(plan)
    k.ns = full.ns

    def no_scan() -> dict[int, int]:
        raise AssertionError("scanned /proc without a sign of an orphan")

    k.unnamed_netns_pids = no_scan  # type: ignore[method-assign]
    assert adopt_orphans(k, INST, discover(k, INST, VIM["stateDir"])) == []


def test_left_over_peers_are_deleted_before_the_vnfc_is_created_again() -> None:
    k, plan = orphaned()
    ch = changes_for(plan, k, heal=["web-1"])
    vim_ns = naming.vim_netns(INST)
    peers = sorted(
        li["ifname"]
        for li in k.ns[vim_ns]["links"]
        if str(li.get("ifalias", "")).startswith(f"vnfm:port:{INST}:web-1:")
    )
    assert peers and ch.stale_vl_ports == peers
    assert [v.vnfc_id for v in ch.create_vnfcs] == ["web-1"]
    assert not ch.delete_vnfcs
    assert f"delete port {vim_ns}/{peers[0]} of web-1 (its netns is gone)" in ch.actions


def test_apply_deletes_the_stale_peers_first() -> None:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import (
        Settings,
        apply_changes,
    )
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import desired_state

    k, plan = orphaned()
    calls: list[tuple[str | None, list[str]]] = []

    class Stop(Exception):
        pass

    def batch(commands: Sequence[str], *, netns: str | None = None) -> None:
        calls.append((netns, list(commands)))
        if any(c.startswith("netns add") for c in commands):
            raise Stop

    k.batch = batch  # type: ignore[method-assign]
    k.netns_pids = lambda names: {n: [] for n in names}  # type: ignore[method-assign]
    obs = discover(k, INST, VIM["stateDir"])
    desired = desired_state(plan, VIM, obs.host_bridges)
    ch = changes_for(plan, k)
    settings = Settings(state_dir=VIM["stateDir"], lock_file="/tmp/vnfm-test-orphans.lock")
    with pytest.raises(Stop):  # stopped at the creation: what came before is what counts
        apply_changes(k, ch, desired, obs, settings)
    first = calls[0]
    assert first == (naming.vim_netns(INST), [f"link del dev {p}" for p in ch.stale_vl_ports])
    assert any(c.startswith("netns add") for _ns, cmds in calls for c in cmds)
