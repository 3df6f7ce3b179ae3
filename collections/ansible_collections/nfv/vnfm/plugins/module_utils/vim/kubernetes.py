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
  again); check mode applies nothing (its diff uses dry runs);
* change of software goes batch by batch (the heal list of each batch of a package
  change): StatefulSets and DaemonSets are applied with ``updateStrategy: OnDelete``, so a
  new template restarts nothing and each batch's pods are deleted and come back from
  it; a Deployment's controller replaces all its pods in the first batch (the batch size
  at a time); the pods a reconcile creates get the heal token's digest and the plan's
  software generation as labels;
* operate: a pod cannot be stopped, so a VDU whose VNFCs are all ``off`` is scaled to 0
  and its workload keeps the VNFC count in an annotation (discovery reports the VNFCs
  ``off``); a FORCEFUL stop (or a GRACEFUL one with a timeout) then deletes their pods
  with that grace; start scales it back to the plan's count; one VNFC of several is
  refused;
* CPs: with the VIM option ``multus`` the pods join the CPs' networks through Multus'
  ``k8s.v1.cni.cncf.io/networks`` annotation (a bare Pod with the plan's IP and MAC);
  otherwise pods take the cluster network's addresses (warned about);
* terminate deletes every labelled object (workloads first), found by discovery alone in
  every namespace (a cluster-wide list; the VIM's namespace when that is forbidden).

VIM connection keys: ``kubeconfig`` (path; default ``$KUBECONFIG``/``~/.kube/config``),
``context``, ``namespace`` (default ``default``), or SOL003 ``interfaceInfo.endpoint``,
``interfaceInfo.ssl_ca_cert`` (PEM or path) and ``accessInfo.bearer_token``;
``apiTimeout`` (seconds per call); ``multus`` (bool), ``multusNetworks`` (virtual link
id -> NetworkAttachmentDefinition name; default: an external link's ``resourceId``, an
internal link's plan name). Helm charts need the ``helm`` binary (refused without).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf import helm
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (
    WORKLOAD_KINDS,
    load_manifests,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (
    LABEL_GENERATION,
    LABEL_VDU,
    render,
    vnfcs_by_vdu,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.api import (
    RESOURCES,
    SCALABLE,
    Api,
    ApiError,
    api_client,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.state import (
    ANNOTATION_STOPPED,
    LABEL_TOKEN,
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
    vnfc_pods,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcilingDriver,
    VimError,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.stop import stop_grace

__all__ = ["KubernetesDriver"]

_DNS_LABEL_MAX = 63
MULTUS_NETWORKS = "k8s.v1.cni.cncf.io/networks"


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
        self._before: set[str] = set()  # uids of the pods there before this reconcile
        self._removing = False  # observe() looks where removal() found the instance
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
        desired.token = token
        self._removing = False
        obs = self._discover(inst, desired.namespace)
        self._before = {str(p["metadata"].get("uid")) for p in obs.pods}
        api = self.api(desired.namespace)

        def dry_run(obj: dict[str, Any]) -> dict[str, Any]:
            return api.apply(obj, dry_run=True)

        return desired, obs, compute_changes(desired, obs, dry_run, heal)

    def removal(self, inst: str, check_mode: bool) -> tuple[Observed, Changes]:
        self._removing = True
        obs, warning = self._discover_everywhere(inst)
        changes = removal_changes(obs)
        if warning:
            changes.warnings.append(warning)
        return obs, changes

    def apply(self, desired: Desired | None, obs: Observed, changes: Changes) -> Any:
        api = self.api(desired.namespace if desired else self._namespace({}))
        for kind, name, replicas in changes.scale:
            api.scale(kind, name, replicas)
        for obj in changes.apply:
            api.apply(obj)
        for name, labels in changes.label:
            api.label("Pod", name, labels)
        for name, grace in changes.stop:  # after the scale to 0: shortens the pods' grace
            api.delete("Pod", name, grace_seconds=grace)
        pods = {p["metadata"]["name"]: p for p in obs.pods}
        for name in changes.heal:
            uid = pods.get(name, {}).get("metadata", {}).get("uid")
            if uid:
                self._healed.add(str(uid))
            api.delete("Pod", name, grace_seconds=0)
        for kind, name in changes.delete:
            # a removal finds the instance in whichever namespace it lives in
            where = (obs.objects.get((kind, name), {}).get("metadata") or {}).get("namespace")
            (self.api(str(where)) if where else api).delete(kind, name)
        if changes.recreate:
            # a bare Pod comes back only when we create it, once the old one is gone
            self.converge_deleted(api, [o["metadata"]["name"] for o in changes.recreate])
            for obj in changes.recreate:
                api.apply(obj)
        return None

    def observe(self, inst: str, hint: Any) -> Observed:
        if self._removing:
            return self._discover_everywhere(inst)[0]
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
        if desired is not None:
            self._label_new_pods(desired, final)
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

    def _label_new_pods(self, desired: Desired, final: Observed) -> None:
        """The pods this reconcile created record its heal token and their VNFC's
        generation (docs/plan-format.md, "What the VIM records of a VNFC")."""
        api = self.api(desired.namespace)
        for vdu_id in sorted(desired.vnfcs):
            for vnfc_id, pod in sorted(vnfc_pods(desired, final, vdu_id).items()):
                meta = pod["metadata"]
                if str(meta.get("uid")) in self._before:
                    continue
                want: dict[str, str] = {}
                if desired.token:
                    want[LABEL_TOKEN] = desired.token
                generation = desired.generation(vnfc_id)
                if generation:
                    want[LABEL_GENERATION] = generation
                labels = meta.setdefault("labels", {})
                if want and any(labels.get(k) != v for k, v in want.items()):
                    api.label("Pod", str(meta["name"]), want)
                    labels.update(want)

    def _discover_everywhere(self, inst: str) -> tuple[Observed, str | None]:
        """The instance's objects in every namespace: an instance lives in the namespace
        its instantiation chose (additionalParams.namespace), which removal is not told.
        Without the right to list the cluster, the VIM's namespace only (and a warning)."""
        api = self.api(self._namespace({}))
        selector = instance_selector(inst)
        objects: dict[tuple[str, str], dict[str, Any]] = {}
        pods: list[dict[str, Any]] = []
        try:
            for kind in RESOURCES:
                for item in api.list_all(kind, selector):
                    name = str((item.get("metadata") or {}).get("name") or "")
                    if kind == "Pod":
                        pods.append(item)
                    objects[(kind, name)] = item
        except ApiError as exc:
            if exc.status not in (401, 403):
                raise
            warning = (
                f"cannot list the cluster's namespaces (HTTP {exc.status}): looked for the "
                f"instance in namespace {api.namespace} only"
            )
            return self._discover(inst, api.namespace), warning
        return Observed(objects, pods), None

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
        warnings: list[str] = []
        stopped = self._stopped(by_vdu)
        for obj in objects:
            if obj["kind"] in WORKLOAD_KINDS:
                self._shape(plan, obj, by_vdu, stopped, warnings)
        self._last_namespace = namespace
        return Desired(
            namespace,
            objects,
            by_vdu,
            workloads,
            stopped,
            stop_grace=stop_grace(plan) if stopped else None,
            warnings=warnings,
        )

    @staticmethod
    def _stopped(by_vdu: dict[str, list[dict[str, Any]]]) -> set[str]:
        """The VDUs operate stopped: all their VNFCs ``off`` (a pod cannot be stopped alone)."""
        out = set()
        for vdu_id, vnfcs in sorted(by_vdu.items()):
            off = sorted(str(v["id"]) for v in vnfcs if (v.get("powerState") or "on") == "off")
            if off and len(off) == len(vnfcs):
                out.add(vdu_id)
            elif off:
                raise VimError(
                    f"operate: VNFC {', '.join(off)} cannot be stopped alone on Kubernetes: a "
                    f"pod cannot be stopped, the driver stops VDU {vdu_id} by scaling its "
                    "workload to 0; operate all its VNFCs, or the whole VNF"
                )
        return out

    def _shape(
        self,
        plan: dict[str, Any],
        obj: dict[str, Any],
        by_vdu: dict[str, list[dict[str, Any]]],
        stopped: set[str],
        warnings: list[str],
    ) -> None:
        """What the driver adds to a rendered workload: power, update strategy, networks."""
        kind, name = str(obj["kind"]), str(obj["metadata"]["name"])
        vdu_id = str(obj["metadata"]["labels"][LABEL_VDU])
        vnfcs = by_vdu.get(vdu_id, [])
        if vdu_id in stopped:
            if kind not in SCALABLE:
                raise VimError(
                    f"operate: VDU {vdu_id} is a {kind} ({name}), which cannot be scaled to 0: "
                    "it cannot be stopped on Kubernetes"
                )
            obj["spec"]["replicas"] = 0
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations[ANNOTATION_STOPPED] = str(len(vnfcs))
        if kind in ("StatefulSet", "DaemonSet"):
            strategy = obj["spec"].get("updateStrategy")
            if isinstance(strategy, dict) and strategy.get("type") not in (None, "OnDelete"):
                warnings.append(
                    f"{kind} {name}: its updateStrategy is replaced by OnDelete: the VNFM "
                    "replaces its pods batch by batch"
                )
            obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
        self._attach(plan, obj, vdu_id, vnfcs, warnings)

    def _attach(
        self,
        plan: dict[str, Any],
        obj: dict[str, Any],
        vdu_id: str,
        vnfcs: list[dict[str, Any]],
        warnings: list[str],
    ) -> None:
        """The VDU's CPs as Multus attachments, or a warning that the plan's addresses
        are not the pods' (the cluster network gives them)."""
        # a CP on no link of the plan (an external CP the request binds to nothing) is
        # the cluster network's: nothing to attach
        cps = sorted(
            (
                c
                for c in ((vnfcs[0].get("cps") or []) if vnfcs else [])
                if c.get("virtualLinkId") or c.get("extVirtualLinkId")
            ),
            key=lambda c: (int(c.get("order") or 0), str(c.get("cpdId"))),
        )
        if not cps:
            return
        multus = self.vim.get("multus", False)
        if not isinstance(multus, bool):
            raise VimError(f"Kubernetes VIM: multus must be true or false, got {multus!r}")
        if not multus:
            warnings.append(
                f"VDU {vdu_id}: its pods take the cluster network's addresses, not the plan's "
                f"IP and MAC of {', '.join(sorted({str(c.get('cpdId')) for c in cps}))} "
                "(the VIM option multus: true attaches them where the cluster has Multus)"
            )
            return
        single = obj["kind"] == "Pod"
        networks = []
        for cp in cps:
            entry: dict[str, Any] = {
                "name": self._attachment_name(plan, cp),
                "interface": f"net{int(cp.get('order') or 0) + 1}",
            }
            if single:
                prefix = self._prefix_length(plan, cp)
                entry["ips"] = [f"{ip}/{prefix}" for ip in cp.get("ipAddresses") or []]
                if cp.get("macAddress"):
                    entry["mac"] = str(cp["macAddress"])
            networks.append(entry)
        if not single:
            warnings.append(
                f"VDU {vdu_id}: the pods of {obj['kind']} {obj['metadata']['name']} share one "
                "template: they join the CPs' networks with the attachments' own addresses, "
                "not the plan's (a fixed IP and MAC per VNFC need a bare Pod)"
            )
        meta = obj["metadata"] if single else obj["spec"]["template"].setdefault("metadata", {})
        meta.setdefault("annotations", {})[MULTUS_NETWORKS] = json.dumps(networks, sort_keys=True)

    def _attachment_name(self, plan: dict[str, Any], cp: dict[str, Any]) -> str:
        """The NetworkAttachmentDefinition of a CP's link (VIM option multusNetworks first)."""
        table = self.vim.get("multusNetworks") or {}
        if not isinstance(table, dict):
            raise VimError("Kubernetes VIM: multusNetworks must map virtual link ids to names")
        link = cp.get("extVirtualLinkId") or cp.get("virtualLinkId")
        if link in table:
            return str(table[link])
        for ext in plan.get("externalVirtualLinks") or []:
            if ext.get("id") == cp.get("extVirtualLinkId") and ext.get("resourceId"):
                return str(ext["resourceId"])
        for vl in plan.get("virtualLinks") or []:
            if vl.get("id") == cp.get("virtualLinkId") and vl.get("name"):
                return str(vl["name"])
        raise VimError(
            f"CP {cp.get('cpdId')}: no network to attach it to (give the VIM option "
            "multusNetworks a name for its virtual link)"
        )

    @staticmethod
    def _prefix_length(plan: dict[str, Any], cp: dict[str, Any]) -> int:
        links = [*(plan.get("virtualLinks") or []), *(plan.get("externalVirtualLinks") or [])]
        for vl in links:
            if vl.get("id") in (cp.get("virtualLinkId"), cp.get("extVirtualLinkId")) and vl.get(
                "cidr"
            ):
                return ipaddress.ip_network(str(vl["cidr"]), strict=False).prefixlen
        return 32

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
