# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Diff between the desired state (plan + manifests) and what podman holds.

Pure: no podman call, so unit tests drive it with made-up states.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.model import (
    LABEL_DIGEST,
    LABEL_EXTERNAL,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_VNFC,
    POWER_OFF,
    POWER_ON,
    Desired,
    NetworkState,
    Observed,
    PodPlan,
    PodState,
    emptydir_volume,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.spec import (
    EMPTYDIR,
    STORAGE,
)


@dataclass
class VolumeWant:
    name: str
    labels: dict[str, str]
    files: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Changes:
    """What a reconcile does, in apply order; ``actions`` is the human summary."""

    vnf_instance_id: str
    actions: list[str] = field(default_factory=list)
    delete_pods: list[PodState] = field(default_factory=list)  # observed
    create_pods: list[PodPlan] = field(default_factory=list)  # desired
    keep_pods: list[PodState] = field(default_factory=list)  # observed, unchanged
    power_pods: list[tuple[PodState, str]] = field(default_factory=list)  # observed, target
    # observed pods this reconcile's heal token created, and the plan's generation to record
    record_pods: list[tuple[PodState, str]] = field(default_factory=list)
    delete_records: list[str] = field(default_factory=list)  # of pods gone or replaced
    delete_volumes: list[str] = field(default_factory=list)
    create_volumes: list[VolumeWant] = field(default_factory=list)
    delete_networks: list[str] = field(default_factory=list)
    create_networks: list[NetworkState] = field(default_factory=list)
    # external networks the driver created, to drop when no pod is left on them
    release_networks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def pod_differences(want: PodState, have: PodState) -> list[str]:
    """Why the observed pod does not match the planned one (empty when it does)."""
    out = list(have.problems)
    if want.name != have.name:
        out.append(f"named {have.name}, planned {want.name}")
    if set(want.containers) != set(have.containers):
        out.append(f"containers {sorted(have.containers)} -> {sorted(want.containers)}")
    have_cps = {c.network: c for c in have.cps}
    for cp in want.cps:
        got = have_cps.pop(cp.network, None)
        if got is None:
            out.append(f"{cp.cpd_id}: not on network {cp.network}")
            continue
        if have.power == POWER_OFF:
            continue  # a stopped pod holds no address: podman gives the same back on start
        if cp.ip is not None and got.ip != cp.ip:
            out.append(f"{cp.cpd_id}: address {got.ip} -> {cp.ip}")
        if cp.mac and got.mac != cp.mac:
            out.append(f"{cp.cpd_id}: mac {got.mac} -> {cp.mac}")
    out += [f"on unplanned network {n}" for n in sorted(have_cps)]
    return out


def carry_addresses(pod: PodPlan, have: PodState) -> PodPlan:
    """The replacement of a pod keeps the addresses the driver picked for the old one's
    external CPs (the plan gives them none): a service address survives heal and
    package changes."""
    had = {(c.cpd_id, c.network): c.ip for c in have.cps if c.ip}
    cps = tuple(
        dataclasses.replace(cp, ip=had[(cp.cpd_id, cp.network)])
        if cp.ip is None and cp.kind == "ext" and (cp.cpd_id, cp.network) in had
        else cp
        for cp in pod.state.cps
    )
    if cps == pod.state.cps:
        return pod
    return dataclasses.replace(pod, state=dataclasses.replace(pod.state, cps=cps))


def _volumes(desired: Desired) -> dict[str, VolumeWant]:
    inst = desired.vnf_instance_id
    out: dict[str, VolumeWant] = {}
    for name, entry in desired.storage.items():
        out[name] = VolumeWant(
            name,
            {LABEL_INSTANCE: inst, LABEL_KIND: STORAGE, LABEL_VNFC: str(entry.get("vnfcId"))},
        )
    for shared in desired.shared.values():
        labels = {LABEL_INSTANCE: inst, LABEL_KIND: shared.kind}
        if shared.files:
            labels[LABEL_DIGEST] = shared.digest
        out[shared.name] = VolumeWant(shared.name, labels, shared.files)
    for pod in desired.pods.values():
        for empty in pod.vdu.emptydirs:
            name = emptydir_volume(pod.state.name, empty)
            out[name] = VolumeWant(
                name, {LABEL_INSTANCE: inst, LABEL_KIND: EMPTYDIR, LABEL_VNFC: pod.state.vnfc_id}
            )
    return out


def compute_changes(
    desired: Desired, obs: Observed, heal: list[str] | None = None, token: str | None = None
) -> Changes:
    ch = Changes(desired.vnf_instance_id, warnings=list(desired.warnings))
    targets = vnfc_marks.heal_targets(heal, desired.pods)
    replaced: set[str] = set()
    for stray in obs.strays:
        ch.delete_pods.append(stray)
        ch.actions.append(f"delete pod {stray.name} (a second pod of {stray.vnfc_id or '?'})")
    # scale-in removes the highest index first
    gone = [have for vnfc_id, have in obs.pods.items() if vnfc_id not in desired.pods]
    for have in sorted(gone, key=_index_key, reverse=True):
        ch.delete_pods.append(have)
        ch.actions.append(f"delete pod {have.name}")
    for vnfc_id, pod in sorted(desired.pods.items(), key=lambda kv: _index_key(kv[1].state)):
        want = pod.state
        found = obs.pods.get(vnfc_id)
        if found is None:
            ch.create_pods.append(pod)
            ch.actions.append(f"create pod {want.name}")
            continue
        have = found
        why = pod_differences(want, have)
        if vnfc_id in targets and not vnfc_marks.made_by(token, have.token):
            why.append("healed")
        if why:
            ch.delete_pods.append(have)
            ch.create_pods.append(carry_addresses(pod, have))
            replaced.add(vnfc_id)
            ch.actions.append(f"replace pod {want.name} ({'; '.join(why)})")
            continue
        if (
            vnfc_marks.made_by(token, have.token)
            and want.generation is not None
            and want.generation != have.generation
        ):
            ch.record_pods.append((have, want.generation))
            ch.actions.append(
                f"record software generation {want.generation} of pod {want.name} "
                f"(was {have.generation or 'unknown'})"
            )
        if have.power != want.power:
            ch.power_pods.append((have, want.power))
            verb = "start" if want.power == POWER_ON else "stop"
            ch.actions.append(f"{verb} pod {want.name}")
        else:
            ch.keep_pods.append(have)
    current = {p.record for p in obs.pods.values() if p.record} - {
        p.record for p in ch.delete_pods if p.record
    }
    for name in sorted(obs.records):
        if name not in current:
            ch.delete_records.append(name)
            ch.actions.append(f"delete record {name} (of a pod gone or replaced)")
    wanted_vols = _volumes(desired)
    for name, labels in sorted(obs.volumes.items()):
        want_vol = wanted_vols.get(name)
        renewed = labels.get(LABEL_KIND) == EMPTYDIR and labels.get(LABEL_VNFC) in replaced
        if want_vol is None or renewed:
            ch.delete_volumes.append(name)
            ch.actions.append(f"delete volume {name}")
        elif want_vol.labels.get(LABEL_DIGEST) != labels.get(LABEL_DIGEST):
            ch.warnings.append(
                f"volume {name}: the package's content changed; pods created from now on see "
                "it only after the volume is recreated (terminate, or a package change)"
            )
    for name, want_vol in sorted(wanted_vols.items()):
        if name not in obs.volumes or name in ch.delete_volumes:
            ch.create_volumes.append(want_vol)
            ch.actions.append(f"create volume {name}")
    for name, net in sorted(obs.networks.items()):
        if net.kind == "vl" and name not in desired.networks:
            ch.delete_networks.append(name)
            ch.actions.append(f"delete network {name}")
    for name, net in sorted(desired.networks.items()):
        if name not in obs.all_networks:
            ch.create_networks.append(net)
            ch.actions.append(f"create network {name} ({net.cidr})")
        elif net.kind == "vl" and name not in obs.networks:
            ch.warnings.append(f"network {name} exists and is not this instance's: it is used")
    used = {cp.network for p in desired.pods.values() for cp in p.state.cps}
    on_ext = {cp.network for p in obs.pods.values() for cp in p.cps if cp.kind == "ext"}
    ch.release_networks = sorted(
        n
        for n in on_ext - used
        if (obs.all_networks.get(n) or {}).get("labels", {}).get(LABEL_EXTERNAL)
    )
    return ch


def removal(obs: Observed, inst: str) -> Changes:
    """Everything of the instance goes: pods, its networks, volumes, external networks it
    made that nobody else uses."""
    ch = Changes(inst)
    for have in [*sorted(obs.pods.values(), key=_index_key, reverse=True), *obs.strays]:
        ch.delete_pods.append(have)
        ch.actions.append(f"delete pod {have.name}")
    for name in sorted(obs.volumes):
        ch.delete_volumes.append(name)
        ch.actions.append(f"delete volume {name}")
    for name in sorted(obs.records):
        ch.delete_records.append(name)
        ch.actions.append(f"delete record {name}")
    for name in sorted(obs.networks):
        ch.delete_networks.append(name)
        ch.actions.append(f"delete network {name}")
    on_ext = {cp.network for p in obs.pods.values() for cp in p.cps if cp.kind == "ext"}
    ch.release_networks = sorted(
        n for n in on_ext if (obs.all_networks.get(n) or {}).get("labels", {}).get(LABEL_EXTERNAL)
    )
    return ch


def _index_key(pod: PodState) -> tuple[str, int, str]:
    """(VDU, index) from ``<vduId>-<index>``: web-10 after web-9."""
    head, _sep, tail = pod.vnfc_id.rpartition("-")
    return (head or pod.vdu_id, int(tail) if tail.isdigit() else -1, pod.vnfc_id)
