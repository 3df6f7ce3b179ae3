# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The ``kubernetes`` VIM: a CNF's VNFCs are pods of any conformant cluster.

* desired state = the pure renderer's objects (``cnf/render.py``) from the plan and the
  package's manifests (``Files/kubernetes``, the selection and namespace the
  instantiation gave: ``plan.inputs.containerParams``); every object carries the
  instance and VDU ids as labels, so discovery is a label selector per kind;
* writes are server-side apply (field manager ``vnfm-toolkit``); whether an existing
  object changes is asked of the server (the same apply as a dry run), so a second
  reconcile changes nothing; replicas go through the ``scale`` subresource;
* heal deletes the VNFC's pod and waits for its replacement (a bare Pod is created
  again); change of software is the controller's rollout, waited for like
  kubernetes.core's ``wait``; check mode applies nothing (its diff uses dry runs);
* terminate deletes every labelled object (workloads first), found by discovery alone.

VIM connection keys: ``kubeconfig`` (path; default ``$KUBECONFIG``/``~/.kube/config``),
``context``, ``namespace`` (default ``default``), or SOL003 ``interfaceInfo.endpoint``,
``interfaceInfo.ssl_ca_cert`` (PEM or path) and ``accessInfo.bearer_token``;
``apiTimeout`` (seconds per call). Helm charts need the ``helm`` binary (refused without).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf import helm
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (
    WORKLOAD_KINDS,
    load_manifests,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (
    render,
    vnfcs_by_vdu,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.api import (
    RESOURCES,
    Api,
    api_client,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.state import (
    Changes,
    Desired,
    Observed,
    build_resources,
    compute_changes,
    instance_selector,
    not_ready,
    predicted_summary,
    removal_changes,
    summary,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcilingDriver,
    VimError,
)

__all__ = ["KubernetesDriver"]

_DNS_LABEL_MAX = 63


class KubernetesDriver(ReconcilingDriver[Desired, Observed, Changes]):
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: kubernetes``."""

    label = "the Kubernetes VIM"
    poll_interval = 1.0

    def __init__(
        self,
        vim: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 300,
        package_dir: str | None = None,
        api_client: Any = None,
    ) -> None:
        self.vim = dict(vim)
        self.timeout = float(timeout or 300)
        self.wait = wait
        self.package_dir = package_dir or self.vim.get("packageDir") or None
        self.conn_id = str(self.vim.get("vimId") or self.vim.get("id") or "kubernetes")
        self._credentials = credentials  # never returned nor logged
        self._client = api_client
        self._apis: dict[str, Api] = {}
        self._healed: set[str] = set()
        self._vdu_names: dict[str, str] | None = None

    # -- VimDriver -----------------------------------------------------------------------------
    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the cluster holds for the instance now, in SOL003 shapes (changes nothing)."""
        inst = self.instance_id(vnf_instance_id)
        desired = None
        if isinstance(plan, dict) and plan.get("vnfcs") is not None:
            if plan.get("vnfInstanceId") not in (None, inst):
                raise VimError("plan.vnfInstanceId is not the instance's id")
            desired = self.desired_state(plan) if self.package_dir else None
        ns = desired.namespace if desired else self._namespace(plan or {})
        return build_resources(self.conn_id, desired, self._discover(inst, ns))

    # -- the reconcile steps (base.ReconcilingDriver) ------------------------------------------
    def instance_id(self, value: object) -> str:
        if not isinstance(value, str) or not value or len(value) > _DNS_LABEL_MAX:
            raise VimError("vnfInstanceId must be a non-empty string of at most 63 characters")
        if not all(c.isalnum() or c in "-_." for c in value):
            raise VimError(f"vnfInstanceId {value!r} cannot be a Kubernetes label value")
        return value

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[Desired, Observed, Changes]:
        desired = self.desired_state(plan)
        obs = self._discover(inst, desired.namespace)
        api = self.api(desired.namespace)

        def dry_run(obj: dict[str, Any]) -> dict[str, Any]:
            return api.apply(obj, dry_run=True)

        return desired, obs, compute_changes(desired, obs, dry_run, heal)

    def removal(self, inst: str, check_mode: bool) -> tuple[Observed, Changes]:
        obs = self._discover(inst, self._namespace({}))
        return obs, removal_changes(obs)

    def apply(self, desired: Desired | None, obs: Observed, changes: Changes) -> Any:
        api = self.api(desired.namespace if desired else self._namespace({}))
        for kind, name, replicas in changes.scale:
            api.scale(kind, name, replicas)
        for obj in changes.apply:
            api.apply(obj)
        pods = {p["metadata"]["name"]: p for p in obs.pods}
        for name in changes.heal:
            uid = pods.get(name, {}).get("metadata", {}).get("uid")
            if uid:
                self._healed.add(str(uid))
            api.delete("Pod", name, grace_seconds=0)
        for kind, name in changes.delete:
            api.delete(kind, name)
        if changes.recreate:
            # a bare Pod comes back only when we create it, once the old one is gone
            self.converge_deleted(api, [o["metadata"]["name"] for o in changes.recreate])
            for obj in changes.recreate:
                api.apply(obj)
        return None

    def observe(self, inst: str, hint: Any) -> Observed:
        return self._discover(inst, self._last_namespace)

    def remaining(self, inst: str, desired: Desired | None, final: Observed) -> list[str]:
        if desired is None:
            return removal_changes(final).actions
        return not_ready(desired, final, self._healed)

    def summary(self, obs: Observed) -> dict[str, Any]:
        return summary(obs)

    def outcome(
        self, inst: str, desired: Desired | None, final: Observed
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        self._healed.clear()
        return build_resources(self.conn_id, desired, final), summary(final)

    def prediction(
        self, inst: str, desired: Desired | None, obs: Observed, changes: Changes
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if desired is None:
            after = {"objects": [], "pods": []} if changes.changed else summary(obs)
        else:
            after = predicted_summary(desired) if changes.changed else summary(obs)
        return build_resources(self.conn_id, desired, obs), after

    def warnings(self, changes: Changes) -> list[str] | None:
        return list(dict.fromkeys(changes.warnings))

    # -- internals -----------------------------------------------------------------------------
    _last_namespace = "default"

    def api(self, namespace: str) -> Api:
        if namespace not in self._apis:
            if self._client is None:
                self._client = api_client(self.vim, self._credentials)
            timeout = float(self.vim.get("apiTimeout") or 30)
            self._apis[namespace] = Api(self._client, namespace, timeout)
        self._last_namespace = namespace
        return self._apis[namespace]

    def converge_deleted(self, api: Api, pod_names: list[str]) -> None:
        """Wait until the named pods are gone (bounded by the driver's timeout)."""
        import time

        deadline = time.monotonic() + self.timeout
        while any(api.get("Pod", n) is not None for n in pod_names):
            if time.monotonic() >= deadline:
                raise VimError(f"pods {', '.join(pod_names)} were not deleted in time")
            time.sleep(self.poll_interval)

    def _namespace(self, plan: dict[str, Any]) -> str:
        params = (plan.get("inputs") or {}).get("containerParams") or {}
        ns = params.get("namespace") or self.vim.get("namespace") or "default"
        if not isinstance(ns, str) or not ns or len(ns) > _DNS_LABEL_MAX:
            raise VimError(f"namespace {ns!r} is not a Kubernetes namespace name")
        return ns

    def _discover(self, inst: str, namespace: str) -> Observed:
        api = self.api(namespace)
        selector = instance_selector(inst)
        objects: dict[tuple[str, str], dict[str, Any]] = {}
        pods: list[dict[str, Any]] = []
        for kind in RESOURCES:
            for item in api.list(kind, selector):
                name = str((item.get("metadata") or {}).get("name") or "")
                if kind == "Pod":
                    pods.append(item)
                objects[(kind, name)] = item
        return Observed(objects, pods)

    def desired_state(self, plan: dict[str, Any]) -> Desired:
        """The objects the plan asks for (rendered from the package's manifests)."""
        if not isinstance(plan.get("namePrefix"), str) or not isinstance(plan.get("vnfcs"), list):
            raise VimError("the plan has no namePrefix or vnfcs")
        params = (plan.get("inputs") or {}).get("containerParams") or {}
        if helm.is_helm(params):
            helm.helm_binary()  # refuses clearly when helm is not installed
            raise VimError(
                "Helm charts (additionalParams.helm_chart_path) are not run by this driver "
                "yet: give the chart's rendered manifests under Files/kubernetes/"
            )
        if not self.package_dir:
            raise VimError("the Kubernetes VIM needs the package directory (package_dir)")
        namespace = self._namespace(plan)
        try:
            files = params.get("lcm-kubernetes-def-files")
            manifests = load_manifests(self.package_dir, list(files) if files else None)
            objects = render(plan, manifests, namespace=namespace, vdu_names=self._names(plan))
        except PackageError as exc:
            raise VimError("the package's Kubernetes manifests:\n" + str(exc)) from None
        except PlanError as exc:
            raise VimError(str(exc)) from None
        by_vdu = vnfcs_by_vdu(plan)
        names = self._names(plan)
        workloads: dict[str, dict[str, Any]] = {}
        for obj in objects:
            if obj["kind"] in WORKLOAD_KINDS:
                vdu = obj["metadata"]["labels"]["vnfm.etsi.org/vdu-id"]
                workloads[vdu] = obj
        for vdu in names:
            by_vdu.setdefault(vdu, [])
        self._last_namespace = namespace
        return Desired(namespace, objects, by_vdu, workloads)

    def _names(self, plan: dict[str, Any]) -> dict[str, str]:
        """VDU id -> workload name, from the package's VNFD (read once per driver)."""
        if self._vdu_names is None:
            self._vdu_names = {}
            if self.package_dir and Path(self.package_dir).is_dir():
                from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import vdu_names
                from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf

                try:
                    model, _warnings = load_vnf(self.package_dir)
                except PackageError as exc:
                    raise VimError("the package cannot be read:\n" + str(exc)) from None
                self._vdu_names = vdu_names(model, str(plan.get("flavourId")))
        return self._vdu_names
