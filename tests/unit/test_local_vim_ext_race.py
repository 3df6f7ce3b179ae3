"""Unit test: the shared external bridge released by another instance between diff and apply.

Two VNFM processes share ``vnfm-ext0``. One computes its changes while the bridge is there
(so it plans no creation); the other deletes the bridge with its last port; the first then
takes the lock. It must look again and create the bridge rather than attach a port to a
bridge that is gone (seen in CI as ``Device does not exist`` on ``link set ... master``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import apply as local_apply
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import (
    Settings,
    apply_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import discover
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import desired_state

from tests.unit.test_local_vim_naming import INST, VIM, FakeKernel, _link, changes_for, make_plan


class Created(Exception):
    """Raised where the VNFCs would be created: everything before it has been decided."""


def test_a_bridge_released_after_the_diff_is_created_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plan = make_plan(1)
    k = FakeKernel()
    ext = desired_state(plan, VIM).ext_networks["vnfm-ext0"]
    k.ns[None]["links"].append(
        _link(
            2, ext.name, alias=naming.EXT_BRIDGE_ALIAS, kind="bridge", addrs=[f"{ext.gateway}/24"]
        )
    )
    ch = changes_for(plan, k)
    assert not ch.create_ext  # the bridge was there when the changes were computed
    obs = discover(k, INST, VIM["stateDir"])
    desired = desired_state(plan, VIM, obs.host_bridges)
    del k.ns[None]["links"][1]  # another instance released it meanwhile

    batches: list[list[str]] = []

    def batch(commands: Sequence[str], *, netns: str | None = None) -> None:
        batches.append(list(commands))

    def create_vnfcs(*_args: object, **_kw: object) -> None:
        raise Created

    k.batch = batch  # type: ignore[method-assign]
    monkeypatch.setattr(local_apply, "create_vnfcs", create_vnfcs)
    settings = Settings(state_dir=VIM["stateDir"], lock_file=str(tmp_path / "lock"))
    with pytest.raises(Created):
        apply_changes(k, ch, desired, obs, settings)
    assert f"link add name {ext.name} type bridge" in [c for b in batches for c in b]
