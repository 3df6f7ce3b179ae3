# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The ``local`` VIM: VNFCs are Linux network namespaces on this host.

* VNFC ``<vnfcId>`` of instance ``<id>``: netns ``vnfm-<id>-<vnfcId>``, lo up;
* internal VLs: bridges ``vl<index>`` in the instance's own VIM namespace
  ``vnfm-<id>-vim`` (so instances may reuse the same CIDRs);
* CPs: veth pairs, ``eth<order>`` in the VNFC (plan's MAC, MTU, address), the
  peer on the VL bridge (VIM namespace) or on an external bridge of the host
  (external CPs; the host reaches them through the bridge's ``.1`` address,
  which is also the VNFC's default gateway);
* volumes: directories ``<stateDir>/<id>/<volume name>``;
* power state (plan's ``powerState``): "off" = no process in the namespace
  (SIGTERM, SIGKILL after ``killGraceSeconds``) and every interface (lo, CPs)
  administratively down, "on" = all up; changing it is a modify (same
  namespace, addresses and MACs), reported as ``metadata.powerState`` of the
  VNFC's ``vnfcResourceInfo``.

The kernel is the only record: ownership and intent are written in interface
aliases (see ``_local/naming.py``), so a reconcile or a removal needs nothing
but the instance id. VIM options (``vim`` dict): ``stateDir``,
``defaultExternalNetwork`` (``{name, cidr}``), ``lockFile``,
``killGraceSeconds``, ``workers``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    ReconcileResult,
    VimError,
    vnfc_marks,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import (
    Settings,
    apply_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.diff import (
    Changes,
    compute_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import discover
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.iproute import Kernel
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    DEFAULT_LOCK_FILE,
    POWER_OFF,
    BridgeState,
    Desired,
    Observed,
    VnfcState,
    desired_state,
    run_dir,
    state_dir,
    volume_dir,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.resources import (
    build_resources,
    summary,
)

__all__ = ["LocalDriver"]


class LocalDriver:
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: local``."""

    def __init__(
        self,
        vim: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 300,
        kernel: Kernel | None = None,
    ) -> None:
        self.vim = dict(vim)
        self.wait = wait
        self.timeout = float(timeout or 300)
        self.kernel = kernel or Kernel(timeout=min(self.timeout, 120.0))
        self.settings = Settings(
            state_dir=state_dir(self.vim),
            lock_file=str(self.vim.get("lockFile") or DEFAULT_LOCK_FILE),
            run_dir=run_dir(self.vim),
            kill_grace=float(self.vim.get("killGraceSeconds", 2.0)),
            workers=max(1, int(self.vim.get("workers", 8))),
        )
        del credentials  # the local VIM needs none

    # -- VimDriver -----------------------------------------------------------
    def reconcile(
        self,
        plan: dict[str, Any],
        *,
        heal: list[str],
        check_mode: bool,
        heal_token: str | None = None,
    ) -> ReconcileResult:
        self.kernel.check_access()
        if not isinstance(plan, dict):
            raise VimError("plan must be a mapping")
        inst = naming.check_id("vnfInstanceId", plan.get("vnfInstanceId"))
        obs = self._discover(inst)
        desired = desired_state(plan, self.vim, obs.host_bridges)
        token = vnfc_marks.token_digest(heal_token)
        changes = compute_changes(desired, obs, list(heal or []), token)
        return self._run(inst, desired, obs, changes, check_mode)

    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the kernel holds for the instance now, in SOL003 shapes (changes nothing)."""
        self.kernel.check_access()
        inst = naming.check_id("vnfInstanceId", vnf_instance_id)
        obs = self._discover(inst)
        return build_resources(
            inst,
            obs.vnfcs.values(),
            obs.bridges.values(),
            obs.volumes,
            plan,
            lambda n: volume_dir(self.vim, inst, n),
        )

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        self.kernel.check_access()
        inst = naming.check_id("vnfInstanceId", vnf_instance_id)
        obs = self._discover(inst)
        empty = Desired(inst, naming.short_id(inst), {}, {}, {}, {}, {})
        changes = compute_changes(empty, obs)
        inst_dir = os.path.join(self.settings.state_dir, inst)
        remove_dir = os.path.isdir(inst_dir)
        if remove_dir and not changes.delete_volumes:
            changes.actions.append(f"delete directory {inst_dir}")
        runtime_dir = os.path.join(self.settings.run_dir, inst)
        remove_runtime = os.path.isdir(runtime_dir)
        if remove_runtime:
            changes.actions.append(f"delete directory {runtime_dir}")
        result = self._run(inst, None, obs, changes, check_mode)
        if check_mode:
            return result
        for path, present in ((inst_dir, remove_dir), (runtime_dir, remove_runtime)):
            if present:
                self.kernel.remove_tree(path)
                result.changed = True
        return result

    # -- internals -----------------------------------------------------------
    def _discover(self, inst: str) -> Observed:
        return discover(self.kernel, inst, self.settings.state_dir, self.settings.workers)

    def _run(
        self,
        inst: str,
        desired: Desired | None,
        obs: Observed,
        changes: Changes,
        check_mode: bool,
    ) -> ReconcileResult:
        before = summary(obs.vnfcs.values(), obs.bridges.values(), obs.volumes)
        created: dict[str, list[Any]] = {}
        if changes.changed and not check_mode:
            created = apply_changes(self.kernel, changes, desired, obs, self.settings)
        if not changes.changed or check_mode:
            vnfcs, bridges, volumes = self._predicted(desired, obs, changes)
        else:
            # untouched VNFCs need no new look; created ones were read back on creation
            known = {v.netns: obs.raw[v.netns] for v in changes.keep_vnfcs if v.netns in obs.raw}
            final = self._converge(inst, desired, {**known, **created})
            vnfcs, bridges, volumes = (
                list(final.vnfcs.values()),
                list(final.bridges.values()),
                final.volumes,
            )
        plan = desired.plan if desired is not None else None
        resources = build_resources(
            inst, vnfcs, bridges, volumes, plan, lambda n: volume_dir(self.vim, inst, n)
        )
        after = summary(vnfcs, bridges, volumes)
        return ReconcileResult(
            changed=changes.changed,
            actions=list(changes.actions),
            resources=resources,
            diff={"before": before, "after": after},
        )

    @staticmethod
    def _predicted(
        desired: Desired | None, obs: Observed, changes: Changes
    ) -> tuple[list[VnfcState], list[BridgeState], frozenset[str]]:
        if desired is None:
            return [], [], frozenset()
        if not changes.changed:
            return list(obs.vnfcs.values()), list(obs.bridges.values()), obs.volumes
        created = [
            dataclasses.replace(v, gateway=None) if v.power == POWER_OFF else v
            for v in changes.create_vnfcs
        ]
        powered = {v.vnfc_id for v in changes.power_vnfcs}
        recorded = [v for v in changes.record_vnfcs if v.vnfc_id not in powered]
        vnfcs = changes.keep_vnfcs + changes.power_vnfcs + recorded + created
        return vnfcs, list(desired.bridges.values()), frozenset(desired.volumes)

    def _converge(
        self, inst: str, desired: Desired | None, known: dict[str, list[Any]]
    ) -> Observed:
        """Rediscover (the kernel is the truth) until it matches the plan, or time out."""
        deadline = time.monotonic() + self.timeout
        while True:
            final = discover(
                self.kernel, inst, self.settings.state_dir, self.settings.workers, known
            )
            known = {}
            if desired is None:
                left = list(final.vnfcs or {}) + (["vim"] if final.vim_ns else [])
                remaining = [f"netns {n} still present" for n in left]
            else:
                remaining = compute_changes(desired, final).actions
            if not remaining or not self.wait:
                return final
            if time.monotonic() >= deadline:
                raise VimError(
                    "the local VIM did not converge to the plan: " + "; ".join(remaining)
                )
            time.sleep(0.2)
