# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""State model of the ``podman`` VIM and the desired state derived from a plan.

Every object the driver makes carries labels saying whose it is (instance, VDU and VNFC
ids, the virtual link, the volume's kind), so discovery needs nothing else; observed
and desired states share the dataclasses below, so the diff is a comparison.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.spec import (
    EMPTYDIR,
    STORAGE,
    STORAGE_MOUNT,
    ContainerSpec,
    Mount,
    SharedVolume,
    Translator,
    VduSpec,
    workload_name,
)

LABEL_INSTANCE = "vnfm.etsi.org/instance-id"
LABEL_VDU = "vnfm.etsi.org/vdu-id"
LABEL_VNFC = "vnfm.etsi.org/vnfc-id"
LABEL_GENERATION = "vnfm.etsi.org/software-generation"
LABEL_TOKEN = "vnfm.etsi.org/heal-token"
LABEL_VL = "vnfm.etsi.org/vl-id"
LABEL_KIND = "vnfm.etsi.org/kind"  # of a volume: storage | configmap | secret | pvc | emptydir
LABEL_DIGEST = "vnfm.etsi.org/content-digest"  # of a ConfigMap's or Secret's files
LABEL_MAIN = "vnfm.etsi.org/main"  # the pod's first container: where hooks run
LABEL_CPS = "vnfm.etsi.org/cps"  # of a pod: its CPs (JSON), as planned
LABEL_EXTERNAL = "vnfm.etsi.org/external"  # an external network the driver created
LABEL_POD = "vnfm.etsi.org/pod-id"  # of a record: the podman id of the pod it is about
# A pod's labels cannot change. What a reconcile learns about a pod after creating it (the
# software generation, once its package-change batch completed) is kept in a record: an
# empty volume ``<pod>.record`` (kind ``record``) labelled with the pod's id and the
# generation; replaced, never edited. A record of another pod (id) is stale and goes.
KIND_RECORD = "record"

DEFAULT_EXTERNAL_NETWORK = {"name": "vnfm-podman-ext0", "cidr": "172.30.251.0/24"}
DEFAULT_STATE_DIR = "/var/lib/vnfm/podman-vim"
POWER_ON = "on"
POWER_OFF = "off"
POWER_MIXED = "mixed"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")


def check_name(value: object, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise VimError(f"invalid {what} {value!r}: use letters, digits, '_', '.', '-'")
    return value


@dataclass(frozen=True)
class CpState:
    cpd_id: str
    network: str  # podman network name
    kind: str  # "vl" | "ext"
    ifname: str
    mac: str
    ip: str | None  # None: podman allocates
    prefixlen: int = 24
    ext_cpd_id: str | None = None
    vl_id: str | None = None


@dataclass(frozen=True)
class PodState:
    vnfc_id: str
    vdu_id: str
    name: str
    cps: tuple[CpState, ...]
    containers: tuple[str, ...]  # container names
    power: str = POWER_ON
    generation: str | None = None
    token: str | None = None
    problems: tuple[str, ...] = ()
    storage: tuple[str, ...] = ()  # plan volume names mounted
    pod_id: str = ""  # podman's id (observed pods)
    record: str | None = None  # name of its record volume (observed pods that have one)


@dataclass(frozen=True)
class NetworkState:
    name: str
    cidr: str
    kind: str  # "vl" | "ext"
    vl_id: str | None = None
    mtu: int = 1500
    gateway: str | None = None


@dataclass
class Observed:
    pods: dict[str, PodState] = field(default_factory=dict)  # vnfc id -> pod
    strays: list[PodState] = field(default_factory=list)  # the instance's, of no/a taken VNFC
    networks: dict[str, NetworkState] = field(default_factory=dict)  # the instance's
    all_networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> podman's
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> labels
    records: dict[str, dict[str, str]] = field(default_factory=dict)  # record name -> labels


@dataclass
class PodPlan:
    """What the driver creates for a VNFC: its pod and its containers."""

    state: PodState
    vdu: VduSpec
    labels: dict[str, str]
    storage_mounts: tuple[Mount, ...] = ()  # the plan's volumes, at /mnt/<storageId>


@dataclass
class Desired:
    vnf_instance_id: str
    pods: dict[str, PodPlan]
    networks: dict[str, NetworkState]  # name -> network (internal VLs and external ones)
    storage: dict[str, dict[str, Any]]  # plan volume name -> plan entry
    shared: dict[str, SharedVolume]
    plan: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _list(plan: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = plan.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise VimError(f"plan: '{key}' must be a list of mappings")
    return value


def _net(cidr: object, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        raise VimError(f"plan: {what}: invalid cidr {cidr!r}") from None
    if not isinstance(net, ipaddress.IPv4Network) or net.num_addresses < 4:
        raise VimError(f"plan: {what}: the podman VIM needs an IPv4 cidr of /30 or larger")
    return net


def _workloads(
    plan: dict[str, Any], manifests: list[dict[str, Any]], tr: Translator
) -> dict[str, VduSpec]:
    by_name = {
        str((m.get("metadata") or {}).get("name")): m
        for m in manifests
        if m.get("kind") in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod")
    }
    out: dict[str, VduSpec] = {}
    for vnfc in _list(plan, "vnfcs"):
        vdu = str(vnfc.get("vduId"))
        if vdu in out:
            continue
        names = workload_name(vnfc, plan)
        found = next((by_name[n] for n in names if n in by_name), None)
        if found is None:
            raise VimError(
                f"VDU {vdu!r}: no workload named {names[0]!r} in the package's Kubernetes "
                "manifests (a VDU's properties.name is its workload's metadata.name)"
            )
        out[vdu] = tr.vdu(found)
    return out


def desired_state(
    plan: dict[str, Any],
    manifests: list[dict[str, Any]],
    vim: dict[str, Any],
    all_networks: dict[str, dict[str, Any]],
) -> Desired:
    """Translate a plan (and the package's manifests) into pods, networks and volumes."""
    inst = check_name(plan.get("vnfInstanceId"), "vnfInstanceId")
    prefix = check_name(plan.get("namePrefix") or f"vnf-{plan.get('shortId')}", "namePrefix")
    tr = Translator(manifests, prefix)
    specs = _workloads(plan, manifests, tr)
    networks: dict[str, NetworkState] = {}
    vl_nets: dict[str, tuple[NetworkState, ipaddress.IPv4Network]] = {}
    for vl in _list(plan, "virtualLinks"):
        vl_id = check_name(vl.get("id"), "virtual link id")
        name = check_name(vl.get("name") or f"{prefix}-{vl_id}", "network name")
        net = _net(vl.get("cidr"), vl_id)
        state = NetworkState(
            name, str(net), "vl", vl_id, int(vl.get("mtu") or 1500), vl.get("gatewayIp") or None
        )
        vl_nets[vl_id] = (state, net)
        networks[name] = state
    ext_nets: dict[str, tuple[NetworkState, ipaddress.IPv4Network]] = {}
    for evl in _list(plan, "externalVirtualLinks"):
        evl_id = check_name(evl.get("id"), "external virtual link id")
        name = check_name(evl.get("resourceId"), "external network name")
        ext_nets[evl_id] = _ext_network(name, evl.get("cidr"), all_networks, evl_id)
    default = vim.get("defaultExternalNetwork") or DEFAULT_EXTERNAL_NETWORK
    default_ext = None

    pods: dict[str, PodPlan] = {}
    storage = {check_name(v.get("name"), "volume name"): v for v in _list(plan, "volumes")}
    for vnfc in _list(plan, "vnfcs"):
        vnfc_id = check_name(vnfc.get("id"), "vnfc id")
        vdu_id = check_name(vnfc.get("vduId"), "vduId")
        pod_name = check_name(vnfc.get("name") or f"{prefix}-{vnfc_id}", "pod name")
        if vnfc_id in pods:
            raise VimError(f"plan: vnfc id {vnfc_id!r} is duplicated")
        cps: list[CpState] = []
        for cp in vnfc.get("cps") or []:
            cpd_id = check_name(cp.get("cpdId"), "cpdId")
            order = cp.get("order")
            ifname = f"eth{order if isinstance(order, int) and order >= 0 else len(cps)}"
            if cp.get("virtualLinkId") and not cp.get("extVirtualLinkId"):
                vl_id = str(cp["virtualLinkId"])
                if vl_id not in vl_nets:
                    raise VimError(f"plan: {vnfc_id}/{cpd_id}: unknown virtual link {vl_id!r}")
                net_state, net = vl_nets[vl_id]
                kind = "vl"
            elif cp.get("extVirtualLinkId") or cp.get("extCpdId"):
                evl_id = cp.get("extVirtualLinkId")
                if evl_id and evl_id not in ext_nets:
                    raise VimError(
                        f"plan: {vnfc_id}/{cpd_id}: unknown external virtual link {evl_id!r}"
                    )
                if evl_id:
                    net_state, net = ext_nets[evl_id]
                else:
                    if default_ext is None:
                        default_ext = _ext_network(
                            check_name(default.get("name"), "external network name"),
                            default.get("cidr"),
                            all_networks,
                            "default",
                        )
                    net_state, net = default_ext
                kind = "ext"
            else:
                continue  # a CP attached to nothing has no podman object
            networks.setdefault(net_state.name, net_state)
            ips = [str(a) for a in cp.get("ipAddresses") or []]
            if len(ips) > 1:
                raise VimError(f"plan: {vnfc_id}/{cpd_id}: podman gives a CP one address")
            ip = ips[0] if ips else None
            if ip is not None and ipaddress.ip_address(ip) not in net:
                raise VimError(f"plan: {vnfc_id}/{cpd_id}: {ip} is outside {net}")
            cps.append(
                CpState(
                    cpd_id=cpd_id,
                    network=net_state.name,
                    kind=kind,
                    ifname=ifname,
                    mac=str(cp.get("macAddress") or "").lower(),
                    ip=ip,
                    prefixlen=net.prefixlen,
                    ext_cpd_id=cp.get("extCpdId") or None,
                    vl_id=net_state.vl_id,
                )
            )
        if len({c.network for c in cps}) != len(cps):
            raise VimError(f"plan: {vnfc_id}: podman attaches a pod once to each network")
        power = vnfc.get("powerState") or POWER_ON
        if power not in (POWER_ON, POWER_OFF):
            raise VimError(f"plan: {vnfc_id}: powerState must be 'on' or 'off', got {power!r}")
        spec = specs[vdu_id]
        vols = tuple(sorted(str(v) for v in vnfc.get("volumes") or []))
        for v in vols:
            if v not in storage:
                raise VimError(f"plan: {vnfc_id}: volume {v!r} is not in the plan's volumes")
        pod_state = PodState(
            vnfc_id=vnfc_id,
            vdu_id=vdu_id,
            name=pod_name,
            cps=tuple(sorted(cps, key=lambda c: c.ifname)),
            containers=tuple(f"{pod_name}-{c.name}" for c in spec.containers),
            power=power,
            generation=vnfc_marks.check_generation(vnfc.get("softwareGeneration"), vnfc_id),
            storage=vols,
        )
        pods[vnfc_id] = PodPlan(
            pod_state,
            spec,
            {LABEL_INSTANCE: inst, LABEL_VDU: vdu_id, LABEL_VNFC: vnfc_id},
            tuple(
                Mount(v, f"{STORAGE_MOUNT}/{check_name(storage[v].get('storageId'), 'storageId')}")
                for v in vols
            ),
        )
    return Desired(inst, pods, networks, storage, dict(tr.shared), plan, list(tr.warnings))


def _ext_network(
    name: str, cidr: object, all_networks: dict[str, dict[str, Any]], what: str
) -> tuple[NetworkState, ipaddress.IPv4Network]:
    existing = all_networks.get(name)
    if existing is not None:
        subnets = [s.get("subnet") for s in existing.get("subnets") or []]
        v4 = [s for s in subnets if s and ":" not in str(s)]
        if not v4:
            raise VimError(f"external network {name!r} has no IPv4 subnet")
        net = _net(v4[0], name)
        return NetworkState(name, str(net), "ext"), net
    if not cidr:
        raise VimError(
            f"plan: external virtual link {what}: podman has no network {name!r}; give its "
            "'cidr' so that the podman VIM can create it"
        )
    net = _net(cidr, name)
    return NetworkState(name, str(net), "ext"), net


def record_volume(pod_name: str) -> str:
    return f"{pod_name}.record"


def emptydir_volume(pod_name: str, vol: str) -> str:
    return f"{pod_name}-{vol}"


def container_mounts(pod: PodPlan, c: ContainerSpec) -> list[Mount]:
    out = []
    empties = set(pod.vdu.emptydirs)
    for m in c.mounts:
        if m.volume in empties:
            out.append(Mount(emptydir_volume(pod.state.name, m.volume), m.path, m.read_only))
        else:
            out.append(m)
    return out + list(pod.storage_mounts)


__all__ = [
    "EMPTYDIR",
    "STORAGE",
    "Desired",
    "NetworkState",
    "Observed",
    "PodPlan",
    "PodState",
    "desired_state",
]
