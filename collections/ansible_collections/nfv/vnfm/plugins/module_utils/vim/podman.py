# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The ``podman`` VIM: containerised VNFCs as podman pods on this host (the embedded
container VIM).

* VNFC ``<vnfcId>``: pod ``<namePrefix>-<vnfcId>`` (the plan's VNFC name), one
  container per container of its VDU's Kubernetes workload (``<pod>-<container>``),
  created with ``--pull never`` (images come from local tarballs) and ``--init``;
* internal virtual links: internal podman networks (the plan's VL name and cidr);
  external ones: the podman network the request names (``resourceId``), created
  from its ``cidr`` when missing (default: ``vnfm-podman-ext0``, 172.30.251.0/24);
  the host reaches external CPs through the network's gateway address;
* CPs: the pod's attachments, with the plan's address and MAC (``eth<order>``);
* plan volumes: named volumes mounted at ``/mnt/<storageId>``; PVCs: named volumes
  ``<namePrefix>-pvc-<claim>``; ConfigMaps and Secrets: volumes of their files
  (``<namePrefix>-cm-<name>``, ``-secret-``), mounted read-only; ``emptyDir``: a volume
  per pod, new with each pod;
* power state: ``off`` = the pod stopped, ``on`` = running (operate stops/starts pods).

Podman is the only record: every object carries the instance id (and VDU, VNFC ids) in
labels. VIM options (``vim`` dict): ``containersConf`` (default: the driver's own,
written to ``<stateDir>/containers.conf``), ``stateDir``, ``stopTimeout`` (seconds,
default 10), ``defaultExternalNetwork`` (``{name, cidr}``), ``podman`` (executable).
The workloads come from the package (``package_dir``): its ``Files/kubernetes`` manifests,
those the instantiation named (``additionalParams.lcm-kubernetes-def-files``, kept in the
plan's ``inputs.containerParams``) or else all.

A pod's labels cannot change: what a reconcile learns about a pod it created (its software
generation, recorded once its package-change batch completed) goes into the pod's record,
an empty volume ``<pod>.record`` labelled with the pod's id and the generation (replaced,
never edited; removed with the pod).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman import resources
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.cli import Podman
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.diff import (
    Changes,
    compute_changes,
    removal,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.engine import (
    Applier,
    discover,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.model import (
    DEFAULT_STATE_DIR,
    Desired,
    Observed,
    PodState,
    check_name,
    desired_state,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcilingDriver,
    VimError,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.stop import stop_grace

__all__ = ["PodmanDriver"]


class PodmanDriver(ReconcilingDriver[Desired, Observed, Changes]):
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: podman``."""

    label = "the podman VIM"
    poll_interval = 0.3

    def __init__(
        self,
        vim: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 300,
        package_dir: str | None = None,
        manifests: list[dict[str, Any]] | None = None,
    ) -> None:
        self.vim = dict(vim)
        self.wait = wait
        self.timeout = float(timeout or 300)
        self.package_dir = package_dir
        self._manifests = manifests
        state = str(self.vim.get("stateDir") or DEFAULT_STATE_DIR)
        conf = str(self.vim.get("containersConf") or os.path.join(state, "containers.conf"))
        self.podman = Podman(
            conf, executable=self.vim.get("podman"), timeout=min(self.timeout, 120.0)
        )
        stop = self.vim.get("stopTimeout", 10)
        if not isinstance(stop, int) or isinstance(stop, bool) or stop < 0:
            raise VimError(f"podman VIM: stopTimeout must be a non-negative integer, got {stop!r}")
        self.stop_timeout = stop
        self.token: str | None = None
        del credentials  # this host's podman needs no secrets

    # -- VimDriver -----------------------------------------------------------
    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        self.check_access()
        inst = self.instance_id(vnf_instance_id)
        obs = discover(self.podman, inst)
        return resources.build_resources(
            obs.pods.values(), obs.networks.values(), obs.volumes, plan
        )

    # -- the reconcile steps (base.ReconcilingDriver) --------------------------
    def check_access(self) -> None:
        self.podman.check_access()

    def instance_id(self, value: object) -> str:
        return check_name(value, "vnfInstanceId")

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[Desired, Observed, Changes]:
        obs = discover(self.podman, inst)
        desired = desired_state(plan, self.manifests(plan), self.vim, obs.all_networks)
        self.token = token
        return desired, obs, compute_changes(desired, obs, heal, token)

    def removal(self, inst: str, check_mode: bool) -> tuple[Observed, Changes]:
        obs = discover(self.podman, inst)
        return obs, removal(obs, inst)

    def apply(self, desired: Desired | None, obs: Observed, changes: Changes) -> Any:
        Applier(
            self.podman,
            stop_timeout=self.stop_timeout,
            token=self.token,
            power_off_timeout=stop_grace(desired.plan) if desired is not None else None,
        ).apply(changes)
        return None

    def observe(self, inst: str, hint: Any) -> Observed:
        return discover(self.podman, inst)

    def remaining(self, inst: str, desired: Desired | None, final: Observed) -> list[str]:
        if desired is None:
            left = [f"pod {p.name}" for p in [*final.pods.values(), *final.strays]]
            left += [f"network {n}" for n in final.networks]
            left += [f"volume {v}" for v in final.volumes]
            left += [f"volume {v}" for v in final.records]
            return [f"{what} still present" for what in left]
        return compute_changes(desired, final).actions

    def summary(self, obs: Observed) -> dict[str, Any]:
        return resources.summary(obs.pods.values(), obs.networks.values(), obs.volumes)

    def created(self, changes: Changes) -> list[str]:
        return sorted(p.state.vnfc_id for p in changes.create_pods)

    def outcome(
        self, inst: str, desired: Desired | None, final: Observed
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        pods = list(final.pods.values())
        return self._report(desired, pods, final)

    def prediction(
        self, inst: str, desired: Desired | None, obs: Observed, changes: Changes
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if desired is None:
            return self._report(None, [], Observed())
        if not changes.changed:
            return self._report(desired, list(obs.pods.values()), obs)
        recorded = {have.vnfc_id: gen for have, gen in changes.record_pods}
        pods: list[PodState] = [
            dataclasses.replace(p, generation=recorded[p.vnfc_id]) if p.vnfc_id in recorded else p
            for p in [*changes.keep_pods, *(have for have, _power in changes.power_pods)]
        ]
        pods += [p.state for p in changes.create_pods]
        predicted = Observed(
            networks={n: s for n, s in desired.networks.items() if s.kind == "vl"},
            volumes={v.name: v.labels for v in changes.create_volumes}
            | {n: obs.volumes[n] for n in obs.volumes if n not in changes.delete_volumes},
        )
        return self._report(desired, pods, predicted)

    def warnings(self, changes: Changes) -> list[str] | None:
        return list(changes.warnings)

    # -- internals -----------------------------------------------------------
    def manifests(self, plan: dict[str, Any]) -> list[dict[str, Any]]:
        """The package's Kubernetes objects (the files the plan names, else all)."""
        if self._manifests is not None:
            return self._manifests
        if not self.package_dir:
            raise VimError(
                "the podman VIM needs the package directory (package_dir): the VDUs' "
                "workloads are its Kubernetes manifests"
            )
        from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (
            load_manifests,
        )

        # the instantiation's additionalParams.lcm-kubernetes-def-files (docs/cnf.md)
        params = (plan.get("inputs") or {}).get("containerParams") or {}
        files = params.get("lcm-kubernetes-def-files") if isinstance(params, dict) else None
        if files is None:
            files = plan.get("kubernetesDefFiles")
        if files is not None and (
            not isinstance(files, list) or not all(isinstance(f, str) for f in files)
        ):
            raise VimError("additionalParams.lcm-kubernetes-def-files must be a list of file paths")
        try:
            return load_manifests(self.package_dir, files)
        except PackageError as exc:
            raise VimError(str(exc)) from None

    def _report(
        self, desired: Desired | None, pods: list[PodState], obs: Observed
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        plan = desired.plan if desired is not None else None
        res = resources.build_resources(pods, obs.networks.values(), obs.volumes, plan)
        return res, resources.summary(pods, obs.networks.values(), obs.volumes)
