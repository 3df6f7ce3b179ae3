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
``killGraceSeconds``, ``workers``, ``cgroups`` (default true: one cgroup per VNFC,
``_local/cgroup.py``, when the host has a usable cgroup v1 or v2 tree).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import (
    Settings,
    apply_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.diff import (
    Changes,
    compute_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import (
    adopt_orphans,
    discover,
)
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
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcileResult,
    ReconcilingDriver,
)

__all__ = ["LocalDriver"]


class LocalDriver(ReconcilingDriver[Desired, Observed, Changes]):
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: local``."""

    label = "the local VIM"
    poll_interval = 0.2

    def __init__(
        self,
        vim: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 300,
        package_dir: str | None = None,
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
            # an injected kernel is a test's fake: the host's cgroups are not its to change
            cgroups=cgroup.detect() if kernel is None and self.vim.get("cgroups", True) else None,
        )
        del credentials, package_dir  # the local VIM needs no secrets and takes no images

    # -- VimDriver -----------------------------------------------------------
    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the kernel holds for the instance now, in SOL003 shapes (changes nothing)."""
        self.kernel.check_access()
        inst = naming.check_id("vnfInstanceId", vnf_instance_id)
        obs = self._discover(inst)
        return self._resources(inst, obs.vnfcs.values(), obs.bridges.values(), obs.volumes, plan)

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        """The skeleton's removal, then the instance's state and runtime directories."""
        self.kernel.check_access()
        inst = naming.check_id("vnfInstanceId", vnf_instance_id)
        dirs = [
            path
            for path in (
                os.path.join(self.settings.state_dir, inst),
                os.path.join(self.settings.run_dir, inst),
            )
            if os.path.isdir(path)
        ]
        result = super().remove(inst, check_mode=check_mode)
        if not check_mode:
            for path in dirs:
                self.kernel.remove_tree(path)
                result.changed = True
        return result

    # -- the reconcile steps (base.ReconcilingDriver) --------------------------
    def check_access(self) -> None:
        self.kernel.check_access()

    def instance_id(self, value: object) -> str:
        return naming.check_id("vnfInstanceId", value)

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[Desired, Observed, Changes]:
        obs, adopted = self._discover_adopting(inst, check_mode)
        desired = desired_state(plan, self.vim, obs.host_bridges)
        changes = compute_changes(desired, obs, heal, token)
        changes.actions[:0] = adopted
        return desired, obs, changes

    def removal(self, inst: str, check_mode: bool) -> tuple[Observed, Changes]:
        obs, adopted = self._discover_adopting(inst, check_mode)
        empty = Desired(inst, naming.short_id(inst), {}, {}, {}, {}, {})
        changes = compute_changes(empty, obs)
        changes.actions[:0] = adopted
        inst_dir = os.path.join(self.settings.state_dir, inst)
        if os.path.isdir(inst_dir) and not changes.delete_volumes:
            changes.actions.append(f"delete directory {inst_dir}")
        runtime_dir = os.path.join(self.settings.run_dir, inst)
        if os.path.isdir(runtime_dir):
            changes.actions.append(f"delete directory {runtime_dir}")
        if self.settings.cgroups is not None:
            changes.actions += [
                f"delete cgroup {n}"
                for n in self.settings.cgroups.names(naming.instance_prefix(inst))
            ]
        return obs, changes

    def apply(self, desired: Desired | None, obs: Observed, changes: Changes) -> Any:
        created = apply_changes(self.kernel, changes, desired, obs, self.settings)
        # untouched VNFCs need no new look; created ones were read back on creation
        known = {v.netns: obs.raw[v.netns] for v in changes.keep_vnfcs if v.netns in obs.raw}
        return {**known, **created}

    def observe(self, inst: str, hint: Any) -> Observed:
        return discover(
            self.kernel, inst, self.settings.state_dir, self.settings.workers, hint or {}
        )

    def remaining(self, inst: str, desired: Desired | None, final: Observed) -> list[str]:
        if desired is None:
            left = list(final.vnfcs or {}) + (["vim"] if final.vim_ns else [])
            return [f"netns {n} still present" for n in left]
        return compute_changes(desired, final).actions

    def summary(self, obs: Observed) -> dict[str, Any]:
        return summary(obs.vnfcs.values(), obs.bridges.values(), obs.volumes)

    def outcome(
        self, inst: str, desired: Desired | None, final: Observed
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return self._report(
            inst, desired, list(final.vnfcs.values()), list(final.bridges.values()), final.volumes
        )

    def created(self, changes: Changes) -> list[str]:
        return sorted(v.vnfc_id for v in changes.create_vnfcs)

    def prediction(
        self, inst: str, desired: Desired | None, obs: Observed, changes: Changes
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        vnfcs, bridges, volumes = self._predicted(desired, obs, changes)
        return self._report(inst, desired, vnfcs, bridges, volumes)

    # -- internals -----------------------------------------------------------
    def _discover(self, inst: str) -> Observed:
        return discover(self.kernel, inst, self.settings.state_dir, self.settings.workers)

    def _discover_adopting(self, inst: str, check_mode: bool) -> tuple[Observed, list[str]]:
        """Discover; first name again the VNFC namespaces whose name was deleted (not in
        check mode: the diff then shows their leftover ports instead)."""
        obs = self._discover(inst)
        adopted = [] if check_mode else adopt_orphans(self.kernel, inst, obs)
        return (self._discover(inst) if adopted else obs), adopted

    def _resources(
        self,
        inst: str,
        vnfcs: Any,
        bridges: Any,
        volumes: frozenset[str],
        plan: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return build_resources(
            inst, vnfcs, bridges, volumes, plan, lambda n: volume_dir(self.vim, inst, n)
        )

    def _report(
        self,
        inst: str,
        desired: Desired | None,
        vnfcs: list[VnfcState],
        bridges: list[BridgeState],
        volumes: frozenset[str],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        plan = desired.plan if desired is not None else None
        resources = self._resources(inst, vnfcs, bridges, volumes, plan)
        return resources, summary(vnfcs, bridges, volumes)

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
