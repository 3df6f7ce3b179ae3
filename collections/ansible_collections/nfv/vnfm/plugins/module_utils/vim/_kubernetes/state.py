# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Desired and observed state of the Kubernetes VIM, the diff, and SOL003 resources.

Desired: the renderer's objects (``cnf/render.py``). Observed: every object of the
handled kinds labelled with the instance id, found by label selector alone. A VNFC is a
pod: a StatefulSet's pod by its ordinal (``<vdu>-<ordinal>``), a Pod workload's pod as
index 0, the pods of a Deployment, ReplicaSet or DaemonSet by position (oldest first)
against the plan's VNFC indexes, since their names are the controller's.

What the driver records of a VNFC goes into its pod's labels (a pod's labels can change,
its template's cannot without restarting every pod): the software generation it runs
(once its package-change batch completed) and the digest of the heal token of the
reconcile that created it. A workload stopped by operate keeps its VNFC count in an
annotation, so discovery still reports its VNFCs (powerState ``off``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (
    LABEL_GENERATION,
    LABEL_INSTANCE,
    LABEL_VDU,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.api import (
    RESOURCES,
    SCALABLE,
)

LABEL_TOKEN = "vnfm.etsi.org/heal-token"
# on a workload that operate stopped (scaled to 0): how many VNFCs it had
ANNOTATION_STOPPED = "vnfm.etsi.org/stopped-replicas"

WORKLOADS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod")
# deletion order: workloads before what their pods use
DELETE_ORDER = {
    k: i
    for i, k in enumerate((*WORKLOADS, "Service", "PersistentVolumeClaim", "ConfigMap", "Secret"))
}
# fields the API server owns or defaults: never part of the comparison
_SERVER_META = (
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
)
_ORDINAL = re.compile(r"-(\d+)$")
POD_RESOURCE_TYPE = "kubernetes.pod"


@dataclass
class Desired:
    namespace: str
    objects: list[dict[str, Any]]
    vnfcs: dict[str, list[dict[str, Any]]]  # VDU id -> the plan's VNFCs (index order)
    workloads: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # VDU id -> rendered workload
    stopped: set[str] = field(default_factory=set)  # VDUs operated STOPPED (0 replicas)
    token: str | None = None  # digest of the reconcile's heal token
    stop_grace: int | None = None  # seconds a stopped VDU's pods get (None: their own)
    warnings: list[str] = field(default_factory=list)

    def replicas(self, vdu_id: str) -> int:
        return 0 if vdu_id in self.stopped else len(self.vnfcs.get(vdu_id, []))

    def generation(self, vnfc_id: str) -> str | None:
        for vnfcs in self.vnfcs.values():
            for v in vnfcs:
                if str(v["id"]) == vnfc_id:
                    return vnfc_marks.check_generation(v.get("softwareGeneration"), vnfc_id)
        return None


@dataclass
class Observed:
    objects: dict[tuple[str, str], dict[str, Any]]  # (kind, name) -> live object
    pods: list[dict[str, Any]]  # the instance's pods (any owner)

    def live_pods(self, vdu_id: str) -> list[dict[str, Any]]:
        """The VDU's pods that are not going away, oldest first."""
        out = [
            p
            for p in self.pods
            if _labels(p).get(LABEL_VDU) == vdu_id and not p["metadata"].get("deletionTimestamp")
        ]
        return sorted(
            out,
            key=lambda p: (
                str(p["metadata"].get("creationTimestamp") or ""),
                p["metadata"]["name"],
            ),
        )


@dataclass
class Changes:
    scale: list[tuple[str, str, int]] = field(default_factory=list)  # kind, name, replicas
    apply: list[dict[str, Any]] = field(default_factory=list)
    delete: list[tuple[str, str]] = field(default_factory=list)
    heal: list[str] = field(default_factory=list)  # pod names to delete (replaced by controllers)
    recreate: list[dict[str, Any]] = field(default_factory=list)  # bare Pods to create again
    label: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # pod name, labels
    stop: list[tuple[str, int]] = field(default_factory=list)  # pod name, grace seconds
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """An object without what the server keeps for itself (status, bookkeeping)."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_META}
    meta.get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
    out["metadata"] = meta
    return out


def vnfc_pods(desired: Desired, obs: Observed, vdu_id: str) -> dict[str, dict[str, Any]]:
    """VNFC id -> its pod, for one VDU."""
    workload = desired.workloads.get(vdu_id)
    kind = workload["kind"] if workload else None
    vnfcs = desired.vnfcs.get(vdu_id, [])
    pods = obs.live_pods(vdu_id)
    if kind == "StatefulSet":
        by_ordinal = {}
        for p in pods:
            m = _ORDINAL.search(p["metadata"]["name"])
            if m:
                by_ordinal[int(m.group(1))] = p
        return {
            str(v["id"]): by_ordinal[int(v["index"])]
            for v in vnfcs
            if int(v["index"]) in by_ordinal
        }
    return {str(v["id"]): p for v, p in zip(vnfcs, pods, strict=False)}


def observed_vnfcs(obs: Observed, desired: Desired | None) -> list[tuple[str, str, dict[str, Any]]]:
    """(VNFC id, VDU id, pod) of every pod of the instance, named as the plan names them.

    Pods beyond the plan's VNFCs (scale-in under way) take ``<vdu>-<position>`` ids.
    """
    out: list[tuple[str, str, dict[str, Any]]] = []
    vdus = sorted({_labels(p).get(LABEL_VDU, "") for p in obs.pods} - {""})
    for vdu_id in vdus:
        named = vnfc_pods(desired, obs, vdu_id) if desired else {}
        taken = {p["metadata"]["name"] for p in named.values()}
        out.extend((vnfc_id, vdu_id, p) for vnfc_id, p in named.items())
        extra = [p for p in obs.live_pods(vdu_id) if p["metadata"]["name"] not in taken]
        used = {entry[0] for entry in out}
        n = 0
        for p in extra:
            m = _ORDINAL.search(p["metadata"]["name"])
            while f"{vdu_id}-{n}" in used:
                n += 1
            vnfc_id = (
                f"{vdu_id}-{m.group(1)}"
                if m and f"{vdu_id}-{m.group(1)}" not in used
                else f"{vdu_id}-{n}"
            )
            used.add(vnfc_id)
            out.append((vnfc_id, vdu_id, p))
    return sorted(out, key=lambda t: t[0])


def compute_changes(
    desired: Desired,
    obs: Observed,
    dry_run: Any,
    heal: list[str] | None = None,
) -> Changes:
    """What the plan changes: ``dry_run(obj)`` returns the object as the server would
    hold it after applying ``obj`` (server-side apply, dry run).

    Pods move to another template only where the reconcile heals them (the batches of a
    package change, docs/operations.md): a StatefulSet's, DaemonSet's or ReplicaSet's
    template change restarts nothing by itself (OnDelete), the healed pods are deleted
    and come back from the new template. A Deployment cannot do that: its template
    changes only in a reconcile that heals some of its VNFCs, and then its controller
    replaces all its pods, as many at a time as the batch holds.
    """
    ch = Changes(warnings=list(desired.warnings))
    planned = {str(v["id"]) for vnfcs in desired.vnfcs.values() for v in vnfcs}
    targets = vnfc_marks.heal_targets(heal, planned)
    pods_of = {vdu: vnfc_pods(desired, obs, vdu) for vdu in desired.vnfcs}
    # healed VNFCs whose pod this operation (heal token) has not replaced yet
    batch = {
        vnfc_id
        for vnfc_id in targets
        if not vnfc_marks.made_by(
            desired.token,
            _labels(pods_of.get(_vdu_of(vnfc_id), {}).get(vnfc_id, {})).get(LABEL_TOKEN),
        )
    }
    rolled: set[str] = set()  # VDUs whose Deployment rolls out in this reconcile
    wanted = {(o["kind"], o["metadata"]["name"]) for o in desired.objects}
    for obj in desired.objects:
        key = (obj["kind"], obj["metadata"]["name"])
        live = obs.objects.get(key)
        if live is None:
            ch.apply.append(obj)
            ch.actions.append(f"create {key[0]} {key[1]}")
            continue
        if key[0] in SCALABLE:
            want = int(obj["spec"].get("replicas", 1))
            have = int((live.get("spec") or {}).get("replicas", 1))
            if want != have:
                ch.scale.append((key[0], key[1], want))
                ch.actions.append(f"scale {key[0]} {key[1]} from {have} to {want}")
        after = dry_run(obj)
        if not _spec_changed(live, after):
            continue
        vdu_id = _labels(obj).get(LABEL_VDU, "")
        if _pods_change(live, after):
            if key[0] == "Pod":
                if f"{vdu_id}-0" not in batch:
                    ch.warnings.append(
                        f"Pod {key[1]}: the package's pod differs from the running one; it is "
                        "replaced only by a heal or in its batch of a package change"
                    )
                continue  # a pod's spec cannot change: the heal below recreates it
            if key[0] == "Deployment":
                mine = sorted(v for v in batch if _vdu_of(v) == vdu_id)
                if not mine:
                    ch.warnings.append(
                        f"Deployment {key[1]}: the package's pod template differs from the "
                        "running one; left as it is: its pods move to other software only "
                        "in the batches of a package change"
                    )
                    continue
                obj = rolling_deployment(obj, len(mine))
                rolled.add(vdu_id)
                ch.warnings.append(
                    f"Deployment {key[1]}: its controller replaces all its pods in this "
                    f"batch, {len(mine)} at a time (maxUnavailable {len(mine)}, maxSurge 0); "
                    "the package's steps run around this batch only (a StatefulSet is "
                    "replaced batch by batch)"
                )
        ch.apply.append(obj)
        ch.actions.append(f"update {key[0]} {key[1]}")
    for key, live in sorted(
        obs.objects.items(), key=lambda kv: (DELETE_ORDER.get(kv[0][0], 99), kv[0][1])
    ):
        if key in wanted:
            continue
        if key[0] == "Pod" and live["metadata"].get("ownerReferences"):
            continue  # a controller's pod goes with its controller
        ch.delete.append(key)
        ch.actions.append(f"delete {key[0]} {key[1]}")
    for vnfc_id in sorted(targets):
        vdu_id = _vdu_of(vnfc_id)
        pod = pods_of.get(vdu_id, {}).get(vnfc_id)
        if pod is None:
            continue  # missing: the controller (or the create above) brings it back
        name = pod["metadata"]["name"]
        if vnfc_id not in batch:
            continue  # this operation already replaced it (a retry leaves it)
        if vdu_id in rolled:
            ch.actions.append(f"heal VNFC {vnfc_id}: pod {name} replaced by the rollout")
            continue
        if desired.workloads.get(vdu_id, {}).get("kind") == "Pod":
            ch.recreate.append(desired.workloads[vdu_id])
        ch.heal.append(name)
        ch.actions.append(f"heal VNFC {vnfc_id}: replace pod {name}")
    if desired.stop_grace is not None:
        # operate's stopType/gracefulStopTimeout: the stopped VDUs' pods get no more time
        for vdu_id in sorted(desired.stopped):
            for p in obs.live_pods(vdu_id):
                ch.stop.append((p["metadata"]["name"], desired.stop_grace))
                ch.actions.append(
                    f"stop pod {p['metadata']['name']} (grace {desired.stop_grace} s)"
                )
    if desired.token:
        # the last step of a batch: the pods this operation made take the plan's generation
        for _vdu, named in sorted(pods_of.items()):
            for vnfc_id, pod in sorted(named.items()):
                gen = desired.generation(vnfc_id)
                recorded = _labels(pod).get(LABEL_GENERATION)
                made = vnfc_marks.made_by(desired.token, _labels(pod).get(LABEL_TOKEN))
                if made and gen and gen != recorded and vnfc_id not in batch:
                    ch.label.append((pod["metadata"]["name"], {LABEL_GENERATION: gen}))
                    ch.actions.append(
                        f"record software generation {gen} of pod {pod['metadata']['name']} "
                        f"(was {recorded or 'unknown'})"
                    )
    if any(o["kind"] == "DaemonSet" for o in desired.objects):
        ch.warnings.append(
            "a DaemonSet runs one pod per node: its VNFC count is the cluster's, not the plan's"
        )
    return ch


def rolling_deployment(obj: dict[str, Any], batch: int) -> dict[str, Any]:
    """The Deployment, replacing ``batch`` pods at a time and never more pods than planned."""
    out = dict(obj)
    out["spec"] = {
        **obj["spec"],
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 0, "maxUnavailable": batch},
        },
    }
    return out


def _vdu_of(vnfc_id: str) -> str:
    return vnfc_id.rsplit("-", 1)[0]


def _pods_change(live: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether applying changes what the pods run (a bare Pod's spec, a controller's template)."""
    if live.get("kind") == "Pod":
        return bool(live.get("spec") != after.get("spec"))
    return bool(
        (live.get("spec") or {}).get("template") != (after.get("spec") or {}).get("template")
    )


def _spec_changed(live: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether applying would change the object (replicas apart: the scale does that)."""
    a, b = comparable(live), comparable(after)
    for doc in (a, b):
        spec = doc.get("spec")
        if isinstance(spec, dict):
            doc["spec"] = {k: v for k, v in spec.items() if k != "replicas"}
    return a != b


def removal_changes(obs: Observed) -> Changes:
    ch = Changes()
    for key, live in sorted(
        obs.objects.items(), key=lambda kv: (DELETE_ORDER.get(kv[0][0], 99), kv[0][1])
    ):
        if key[0] == "Pod" and live["metadata"].get("ownerReferences"):
            continue
        ch.delete.append(key)
        ch.actions.append(f"delete {key[0]} {key[1]}")
    return ch


def not_ready(desired: Desired, obs: Observed, healed_uids: set[str]) -> list[str]:
    """What still differs from the plan once applied (readiness as kubernetes.core waits for it)."""
    out: list[str] = []
    for vdu_id, wl in sorted(desired.workloads.items()):
        name = wl["metadata"]["name"]
        live = obs.objects.get((wl["kind"], name))
        if live is None:
            out.append(f"{wl['kind']} {name} is missing")
            continue
        reason = workload_not_ready(live, desired.replicas(vdu_id))
        if reason:
            out.append(f"{wl['kind']} {name}: {reason}")
        pods = obs.live_pods(vdu_id)
        if wl["kind"] != "DaemonSet" and len(pods) != desired.replicas(vdu_id):
            out.append(f"VDU {vdu_id}: {len(pods)} pods, the plan has {desired.replicas(vdu_id)}")
    for p in obs.pods:
        if p["metadata"].get("uid") in healed_uids:
            out.append(f"pod {p['metadata']['name']} is still being replaced")
    wanted = {(o["kind"], o["metadata"]["name"]) for o in desired.objects}
    for key, live in obs.objects.items():
        if key not in wanted and not (key[0] == "Pod" and live["metadata"].get("ownerReferences")):
            out.append(f"{key[0]} {key[1]} is still there")
    return out


def workload_not_ready(live: dict[str, Any], replicas: int) -> str | None:
    """Why a workload is not rolled out and ready yet (None when it is)."""
    kind = live.get("kind")
    meta, spec, status = (
        live.get("metadata") or {},
        live.get("spec") or {},
        live.get("status") or {},
    )
    if kind == "Pod":
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        if status.get("phase") != "Running" or conditions.get("Ready") != "True":
            return f"pod is {status.get('phase') or 'Pending'}, not ready"
        return None
    if int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
        return "the controller has not seen the change yet"
    # OnDelete (what the driver applies): pods move to a new template only when deleted,
    # batch by batch, so pods on the old one are not a rollout still under way
    on_delete = (spec.get("updateStrategy") or {}).get("type") == "OnDelete"
    if kind == "DaemonSet":
        want = int(status.get("desiredNumberScheduled") or 0)
        updated = want if on_delete else int(status.get("updatedNumberScheduled") or 0)
        if updated < want or int(status.get("numberReady") or 0) < want:
            return f"{updated}/{want} pods updated, {status.get('numberReady') or 0} ready"
        return None
    ready = int(status.get("readyReplicas") or 0)
    if kind == "Deployment":
        updated = int(status.get("updatedReplicas") or 0)
        available = int(status.get("availableReplicas") or 0)
        total = int(status.get("replicas") or 0)
        if updated < replicas or available < replicas or ready < replicas or total > replicas:
            return f"rollout: {updated} updated, {ready} ready, {available} available of {replicas}"
        return None
    if kind == "StatefulSet":
        strategy = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        partition = int(strategy.get("partition") or 0)
        if ready < replicas or int(status.get("replicas") or 0) != replicas:
            return f"{ready}/{replicas} pods ready"
        if (
            partition == 0
            and not on_delete
            and status.get("updateRevision")
            and status.get("currentRevision") != status.get("updateRevision")
        ):
            return "rollout under way"
        if partition and int(status.get("updatedReplicas") or 0) < replicas - partition:
            return f"rollout of the ordinals from {partition}: {status.get('updatedReplicas') or 0} updated"
        return None
    if ready < replicas or int(status.get("replicas") or 0) != replicas:
        return f"{ready}/{replicas} pods ready"
    return None


def build_resources(conn_id: str, desired: Desired | None, obs: Observed) -> dict[str, Any]:
    """SOL003 ``vnfcResourceInfo`` (one per pod) and ``virtualStorageResourceInfo`` (PVCs)."""
    vnfc_info = []
    for vnfc_id, vdu_id, pod in observed_vnfcs(obs, desired):
        status = pod.get("status") or {}
        labels = _labels(pod)
        metadata: dict[str, Any] = {
            "powerState": "on" if status.get("phase") in ("Running", "Pending") else "off",
            "phase": status.get("phase") or "Unknown",
        }
        if labels.get(LABEL_GENERATION):
            metadata["softwareGeneration"] = labels[LABEL_GENERATION]
        vnfc_info.append(_vnfc(conn_id, vnfc_id, vdu_id, pod["metadata"]["name"], metadata))
    for vnfc_id, vdu_id, resource_id, generation in stopped_vnfcs(obs, desired):
        metadata = {"powerState": "off", "phase": "Stopped"}
        if generation:
            metadata["softwareGeneration"] = generation
        vnfc_info.append(_vnfc(conn_id, vnfc_id, vdu_id, resource_id, metadata))
    vnfc_info.sort(key=lambda v: str(v["id"]))
    storage = [
        {
            "id": name,
            "virtualStorageDescId": name,
            "storageResource": {
                "vimConnectionId": conn_id,
                "resourceId": name,
                "vimLevelResourceType": "kubernetes.persistentvolumeclaim",
            },
        }
        for (kind, name) in sorted(obs.objects)
        if kind == "PersistentVolumeClaim"
    ]
    return {
        "vnfcResourceInfo": vnfc_info,
        "virtualLinkResourceInfo": [],
        "virtualStorageResourceInfo": storage,
        "extCpInfo": [],
    }


def _vnfc(
    conn_id: str, vnfc_id: str, vdu_id: str, resource_id: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": vnfc_id,
        "vduId": vdu_id,
        "computeResource": {
            "vimConnectionId": conn_id,
            "resourceId": resource_id,
            "vimLevelResourceType": POD_RESOURCE_TYPE,
        },
        "storageResourceIds": [],
        "vnfcCpInfo": [],
        "metadata": metadata,
    }


def stopped_vnfcs(obs: Observed, desired: Desired | None) -> list[tuple[str, str, str, str | None]]:
    """(VNFC id, VDU id, pod name, generation) of the VNFCs of workloads operate stopped.

    Their count is the workload's annotation (its replicas are 0); a StatefulSet's pod
    name is known by ordinal, another controller's is not (the workload's name stands in).
    """
    out: list[tuple[str, str, str, str | None]] = []
    for (kind, name), live in sorted(obs.objects.items()):
        raw = ((live.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_STOPPED)
        vdu_id = _labels(live).get(LABEL_VDU)
        if kind not in SCALABLE or raw is None or not vdu_id or obs.live_pods(vdu_id):
            continue
        try:
            count = max(0, min(int(raw), 10000))
        except ValueError:
            continue  # not ours to trust: the VDU reports no VNFC
        planned = (desired.vnfcs.get(vdu_id) if desired else None) or []
        ids = [(str(v["id"]), int(v["index"])) for v in planned] or [
            (f"{vdu_id}-{i}", i) for i in range(count)
        ]
        for vnfc_id, index in ids:
            pod = f"{name}-{index}" if kind == "StatefulSet" else name
            gen = desired.generation(vnfc_id) if desired else None
            out.append((vnfc_id, vdu_id, pod, gen))
    return out


def summary(obs: Observed) -> dict[str, Any]:
    return {
        "objects": sorted(
            f"{k}/{n}"
            for (k, n) in obs.objects
            if k != "Pod" or not obs.objects[(k, n)]["metadata"].get("ownerReferences")
        ),
        "pods": sorted(p["metadata"]["name"] for p in obs.pods),
    }


def predicted_summary(desired: Desired) -> dict[str, Any]:
    return {
        "objects": sorted(f"{o['kind']}/{o['metadata']['name']}" for o in desired.objects),
        "pods": sorted(str(v["id"]) for vnfcs in desired.vnfcs.values() for v in vnfcs),
    }


def instance_selector(inst: str) -> str:
    return f"{LABEL_INSTANCE}={inst}"


__all__ = [
    "ANNOTATION_STOPPED",
    "LABEL_TOKEN",
    "RESOURCES",
    "Changes",
    "Desired",
    "Observed",
    "build_resources",
    "compute_changes",
    "instance_selector",
    "not_ready",
    "removal_changes",
    "summary",
]
