# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Plan + manifests -> the desired Kubernetes objects, or one pod per VNFC (pure).

The plan stays the one desired state (docs/plan-format.md): the number of VNFCs of a VDU
becomes the replicas of the workload the VDU names, and every object carries the instance
and VDU ids (pods also the VNFC id where the backend creates them one by one) so discovery
needs nothing but labels. ``softwareGeneration`` is a label of each one-by-one pod; it is
not put on a controller's pod template: a label there would restart every pod of the
workload when it changes, and a VDU's VNFCs move to other software batch by batch (the
Kubernetes driver labels each pod it creates instead). Names take the
plan's ``namePrefix``; references between the package's objects (a pod's ConfigMap,
Secret or PVC, a StatefulSet's Service) follow the renaming. Nothing here talks to a VIM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (
    WORKLOAD_KINDS,
    pod_spec_of,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError

LABEL_INSTANCE = "vnfm.etsi.org/instance-id"
LABEL_VDU = "vnfm.etsi.org/vdu-id"
LABEL_VNFC = "vnfm.etsi.org/vnfc-id"
LABEL_GENERATION = "vnfm.etsi.org/software-generation"
FIELD_MANAGER = "vnfm-toolkit"

# Apply order: what pods refer to comes first.
_ORDER = {"ConfigMap": 0, "Secret": 1, "PersistentVolumeClaim": 2, "Service": 3}
# Container fields a one-pod-per-VNFC backend takes over.
CONTAINER_FIELDS = (
    "name",
    "image",
    "command",
    "args",
    "env",
    "envFrom",
    "ports",
    "volumeMounts",
    "workingDir",
)


@dataclass
class PodSpec:
    """One VNFC as one pod (backends without controllers, e.g. podman)."""

    vnfc_id: str  # <vduId>-<index>
    vdu_id: str
    index: int
    name: str  # the plan's VNFC name (namePrefix-vnfcId)
    workload: str  # metadata.name of the workload in the package
    kind: str  # its kind
    labels: dict[str, str]
    containers: list[dict[str, Any]]  # CONTAINER_FIELDS only, refs renamed
    volumes: list[dict[str, Any]] = field(default_factory=list)  # refs renamed
    cps: list[dict[str, Any]] = field(default_factory=list)  # the plan's CPs
    software_generation: str | None = None
    power_state: str = "on"
    restart_policy: str = "Always"
    hostname: str | None = None
    unsupported: list[str] = field(default_factory=list)  # pod spec fields left out


def object_name(plan: dict[str, Any], name: str) -> str:
    """The name of a package object in this instance (``namePrefix-name``)."""
    return f"{plan['namePrefix']}-{name}"


def vnfcs_by_vdu(plan: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The plan's VNFCs grouped by VDU, each list in index order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vnfc in plan.get("vnfcs") or []:
        out.setdefault(str(vnfc["vduId"]), []).append(vnfc)
    for vnfcs in out.values():
        vnfcs.sort(key=lambda v: int(v["index"]))
    return out


def render(
    plan: dict[str, Any],
    manifests: list[dict[str, Any]],
    *,
    namespace: str,
    vdu_names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The desired Kubernetes objects of the plan, in apply order.

    ``vdu_names`` maps VDU id -> the VDU's ``properties.name`` (the workload's name);
    by default the VDU id is the name (as in Tacker's samples). Raises PlanError when a
    VDU of the plan names no workload, or a Pod VDU is asked for more than one VNFC.
    """
    names = vdu_names or {}
    by_vdu = vnfcs_by_vdu(plan)
    workloads = _workloads(manifests)
    renames = _renames(plan, manifests)
    instance = str(plan["vnfInstanceId"])
    owned: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    # a VDU scaled to zero has no VNFC in the plan: its workload stays, with 0 replicas
    for vdu_id in sorted(set(by_vdu) | set(names)):
        vnfcs = by_vdu.get(vdu_id, [])
        wl_name = names.get(vdu_id, vdu_id)
        if wl_name not in workloads:
            raise PlanError(f"VDU {vdu_id}: no workload named {wl_name!r} in the manifests")
        owned[wl_name] = (vdu_id, vnfcs)
    out: list[dict[str, Any]] = []
    for obj in manifests:
        kind = str(obj.get("kind"))
        if kind in WORKLOAD_KINDS:
            name = str(obj["metadata"]["name"])
            if name not in owned:
                continue  # a workload no VDU of this flavour names
            vdu_id, vnfcs = owned[name]
            if obj.get("kind") == "Pod" and not vnfcs:
                continue  # a bare Pod scaled to zero is no Pod
            out.append(_workload(plan, obj, vdu_id, vnfcs, namespace, renames))
        else:
            out.append(_other(plan, obj, namespace, instance))
    out.sort(key=lambda o: (_ORDER.get(o["kind"], 9), o["kind"], o["metadata"]["name"]))
    return out


def pods(
    plan: dict[str, Any],
    manifests: list[dict[str, Any]],
    *,
    vdu_names: dict[str, str] | None = None,
) -> list[PodSpec]:
    """One PodSpec per VNFC of the plan, sorted by (VDU, index)."""
    names = vdu_names or {}
    workloads = _workloads(manifests)
    renames = _renames(plan, manifests)
    instance = str(plan["vnfInstanceId"])
    out: list[PodSpec] = []
    for vdu_id, vnfcs in sorted(vnfcs_by_vdu(plan).items()):
        wl_name = names.get(vdu_id, vdu_id)
        workload = workloads.get(wl_name)
        if workload is None:
            raise PlanError(f"VDU {vdu_id}: no workload named {wl_name!r} in the manifests")
        spec = _plain(pod_spec_of(workload))
        _rename_pod_refs(spec, renames)
        template_labels = dict(_template_metadata(workload).get("labels") or {})
        for vnfc in vnfcs:
            labels = dict(template_labels)
            labels.update(
                {LABEL_INSTANCE: instance, LABEL_VDU: vdu_id, LABEL_VNFC: str(vnfc["id"])}
            )
            generation = vnfc.get("softwareGeneration")
            if generation:
                labels[LABEL_GENERATION] = str(generation)
            out.append(
                PodSpec(
                    vnfc_id=str(vnfc["id"]),
                    vdu_id=vdu_id,
                    index=int(vnfc["index"]),
                    name=str(vnfc["name"]),
                    workload=wl_name,
                    kind=str(workload["kind"]),
                    labels=labels,
                    containers=[
                        {k: c[k] for k in CONTAINER_FIELDS if k in c}
                        for c in spec.get("containers") or []
                    ],
                    volumes=list(spec.get("volumes") or []),
                    cps=[_cp(cp) for cp in vnfc.get("cps") or []],
                    software_generation=str(generation) if generation else None,
                    power_state=str(vnfc.get("powerState") or "on"),
                    restart_policy=str(spec.get("restartPolicy") or "Always"),
                    hostname=str(vnfc["id"]),
                    unsupported=sorted(k for k in spec if k not in _POD_FIELDS_KEPT),
                )
            )
    return out


# Pod spec fields the one-pod-per-VNFC form keeps; the rest is reported as unsupported.
_POD_FIELDS_KEPT = frozenset({"containers", "volumes", "restartPolicy", "hostname"})


# -- internals -------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (no LocatedDict), JSON-ready."""
    return json.loads(json.dumps(value))


def _workloads(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(m["metadata"]["name"]): m for m in manifests if m.get("kind") in WORKLOAD_KINDS}


def _template_metadata(workload: dict[str, Any]) -> dict[str, Any]:
    if workload.get("kind") == "Pod":
        return dict(workload.get("metadata") or {})
    return dict(((workload.get("spec") or {}).get("template") or {}).get("metadata") or {})


def _renames(plan: dict[str, Any], manifests: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """kind -> {package name: instance name} for every object of the manifests."""
    out: dict[str, dict[str, str]] = {}
    for m in manifests:
        name = str(m["metadata"]["name"])
        out.setdefault(str(m["kind"]), {})[name] = object_name(plan, name)
    return out


def _meta(
    obj: dict[str, Any], plan: dict[str, Any], namespace: str, labels: dict[str, str]
) -> dict[str, Any]:
    meta = dict(obj.get("metadata") or {})
    for key in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        meta.pop(key, None)
    meta["name"] = object_name(plan, str(meta["name"]))
    meta["namespace"] = namespace
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    return meta


def _other(
    plan: dict[str, Any],
    obj: dict[str, Any],
    namespace: str,
    instance: str,
) -> dict[str, Any]:
    out: dict[str, Any] = _plain(obj)
    out["metadata"] = _meta(out, plan, namespace, {LABEL_INSTANCE: instance})
    out.pop("status", None)
    if out["kind"] == "Service":
        spec = out.setdefault("spec", {})
        selector = spec.get("selector")
        if isinstance(selector, dict) and selector:
            # only this instance's pods, even when two instances share a namespace
            spec["selector"] = {**selector, LABEL_INSTANCE: instance}
    return out


def _workload(
    plan: dict[str, Any],
    obj: dict[str, Any],
    vdu_id: str,
    vnfcs: list[dict[str, Any]],
    namespace: str,
    renames: dict[str, dict[str, str]],
) -> dict[str, Any]:
    instance = str(plan["vnfInstanceId"])
    ids = {LABEL_INSTANCE: instance, LABEL_VDU: vdu_id}
    out: dict[str, Any] = _plain(obj)
    out.pop("status", None)
    out["metadata"] = _meta(out, plan, namespace, ids)
    kind = out["kind"]
    if kind == "Pod":
        if len(vnfcs) > 1:
            raise PlanError(
                f"VDU {vdu_id}: a Pod workload runs at most one VNFC, the plan asks {len(vnfcs)}"
            )
        out["metadata"]["labels"][LABEL_VNFC] = str(vnfcs[0]["id"])
        _rename_pod_refs(out.setdefault("spec", {}), renames)
        return out
    spec = out["spec"]
    template = spec["template"]
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), **ids}
    selector = spec.setdefault("selector", {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), **ids}
    if kind != "DaemonSet":  # a DaemonSet runs one pod per node, whatever the plan says
        spec["replicas"] = len(vnfcs)
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            # the PVCs a StatefulSet makes carry the instance id too: terminate finds them
            cmeta = claim.setdefault("metadata", {})
            cmeta["labels"] = {**(cmeta.get("labels") or {}), **ids}
    if kind == "StatefulSet" and isinstance(spec.get("serviceName"), str):
        spec["serviceName"] = renames.get("Service", {}).get(
            spec["serviceName"], spec["serviceName"]
        )
    _rename_pod_refs(template.setdefault("spec", {}), renames)
    return out


def _rename_pod_refs(pod: dict[str, Any], renames: dict[str, dict[str, str]]) -> None:
    """Point a pod spec's ConfigMap, Secret and PVC references at the renamed objects."""
    cms = renames.get("ConfigMap", {})
    secrets = renames.get("Secret", {})
    pvcs = renames.get("PersistentVolumeClaim", {})

    def swap(holder: Any, key: str, table: dict[str, str]) -> None:
        if isinstance(holder, dict) and isinstance(holder.get(key), str):
            holder[key] = table.get(holder[key], holder[key])

    for vol in pod.get("volumes") or []:
        if not isinstance(vol, dict):
            continue
        swap(vol.get("configMap"), "name", cms)
        swap(vol.get("secret"), "secretName", secrets)
        swap(vol.get("persistentVolumeClaim"), "claimName", pvcs)
        for source in (vol.get("projected") or {}).get("sources") or []:
            if isinstance(source, dict):
                swap(source.get("configMap"), "name", cms)
                swap(source.get("secret"), "name", secrets)
    for key in ("containers", "initContainers"):
        for c in pod.get(key) or []:
            if not isinstance(c, dict):
                continue
            for ref in c.get("envFrom") or []:
                if isinstance(ref, dict):
                    swap(ref.get("configMapRef"), "name", cms)
                    swap(ref.get("secretRef"), "name", secrets)
            for env in c.get("env") or []:
                source = env.get("valueFrom") if isinstance(env, dict) else None
                if isinstance(source, dict):
                    swap(source.get("configMapKeyRef"), "name", cms)
                    swap(source.get("secretKeyRef"), "name", secrets)
    for ref in pod.get("imagePullSecrets") or []:
        swap(ref, "name", secrets)


def _cp(cp: dict[str, Any]) -> dict[str, Any]:
    return {
        "cpdId": cp.get("cpdId"),
        "name": cp.get("name"),
        "virtualLinkId": cp.get("virtualLinkId"),
        "extVirtualLinkId": cp.get("extVirtualLinkId"),
        "ipAddresses": list(cp.get("ipAddresses") or []),
        "macAddress": cp.get("macAddress"),
        "mtu": cp.get("mtu"),
    }


def vdu_names(model: Any, flavour_id: str) -> dict[str, str]:
    """VDU id -> ``properties.name`` (the workload's name) of a flavour of a VNF model."""
    flavour = model.flavour(flavour_id)
    if flavour is None:
        return {}
    return {str(v.id): str(v.name or v.id) for v in flavour.vdus}
