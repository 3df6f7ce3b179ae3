# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""State model of the ``local`` VIM and the desired state derived from a plan.

Observed (discovered) and desired states use the same dataclasses, so the diff
is a plain comparison.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming

DEFAULT_EXTERNAL_NETWORK = {"name": "vnfm-ext0", "cidr": "172.30.250.0/24"}
DEFAULT_STATE_DIR = "/var/lib/vnfm/local-vim"
DEFAULT_LOCK_FILE = "/run/vnfm/local-vim.lock"
# VNFCs share the host's file system: <runDir>/<instance>/<vnfcId> is the place for a
# VNFC's runtime files, and it goes with the VNFC like a server's ephemeral disk.
DEFAULT_RUN_DIR = "/run/vnfm"
FIRST_DYNAMIC_HOST = 10  # dynamic external addresses: first free from .10 upward
# Power states of a VNFC (plan's ``powerState``). "off": no process runs in the
# namespace and every interface (lo and the CPs) is administratively down;
# "on": every interface is up. Discovery reports "mixed" for anything between.
POWER_ON = "on"
POWER_OFF = "off"
POWER_MIXED = "mixed"


@dataclass(frozen=True)
class CpState:
    cpd_id: str
    ifname: str
    mac: str
    mtu: int
    addresses: tuple[str, ...]  # "a.b.c.d/prefix"
    kind: str  # "vl" (internal VL) | "ext" (external network)
    network: str  # VL id, or external bridge name
    peer: str  # peer veth (VIM namespace or host namespace)
    ext_cpd_id: str | None = None
    dynamic: bool = False
    up: bool = True


@dataclass(frozen=True)
class VnfcState:
    vnfc_id: str
    vdu_id: str
    netns: str
    cps: tuple[CpState, ...]
    gateway: str | None = None
    problems: tuple[str, ...] = ()  # why an observed VNFC is broken (→ replace)
    power: str = POWER_ON  # POWER_ON | POWER_OFF (| POWER_MIXED when observed)
    # the software generation it runs (plan's softwareGeneration); None: unknown
    generation: str | None = None
    # digest of the heal token of the reconcile that created it (naming.token_digest)
    token: str | None = None


@dataclass(frozen=True)
class BridgeState:
    vl_id: str
    name: str
    mtu: int
    up: bool = True


@dataclass(frozen=True)
class ExtNetwork:
    name: str  # bridge in the host namespace
    cidr: str
    gateway: str  # host-side address (first usable address)


@dataclass
class Observed:
    """What the kernel (and the state dir) holds for one instance."""

    vnfcs: dict[str, VnfcState] = field(default_factory=dict)
    vim_ns: bool = False
    bridges: dict[str, BridgeState] = field(default_factory=dict)
    # peer port name -> (vnfcId, cpdId, master) ; VIM namespace / host namespace
    vl_ports: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    ext_ports: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    # host bridges: name -> (owned by the driver, number of ports, addresses)
    host_bridges: dict[str, tuple[bool, int, tuple[str, ...]]] = field(default_factory=dict)
    host_links: frozenset[str] = frozenset()
    volumes: frozenset[str] = frozenset()
    raw: dict[str, list[Any]] = field(default_factory=dict)  # netns -> ip -json answers


@dataclass
class Desired:
    vnf_instance_id: str
    short_id: str
    vnfcs: dict[str, VnfcState]
    bridges: dict[str, BridgeState]
    ext_networks: dict[str, ExtNetwork]  # bridge name -> network
    volumes: dict[str, dict[str, Any]]  # volume name -> plan entry
    plan: dict[str, Any]


def _list(plan: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = plan.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise VimError(f"plan: '{key}' must be a list of mappings")
    return value


def _network(cidr: object, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError as exc:
        raise VimError(f"plan: {what}: invalid cidr {cidr!r}") from exc
    if not isinstance(net, ipaddress.IPv4Network) or net.num_addresses < 4:
        raise VimError(f"plan: {what}: the local VIM needs an IPv4 cidr of /30 or larger")
    return net


def ext_network(name: str, cidr: object) -> ExtNetwork:
    net = _network(cidr, f"external network {name}")
    return ExtNetwork(naming.check_ifname(name, "external bridge name"), str(net), str(net[1]))


def state_dir(vim: dict[str, Any]) -> str:
    return str(vim.get("stateDir") or DEFAULT_STATE_DIR)


def run_dir(vim: dict[str, Any]) -> str:
    return str(vim.get("runDir") or DEFAULT_RUN_DIR)


def volume_dir(vim: dict[str, Any], vnf_instance_id: str, name: str) -> str:
    return os.path.join(state_dir(vim), vnf_instance_id, name)


def desired_state(
    plan: dict[str, Any],
    vim: dict[str, Any],
    host_bridges: dict[str, tuple[bool, int, tuple[str, ...]]] | None = None,
) -> Desired:
    """Translate a plan into the kernel objects it needs (validating it).

    ``host_bridges`` (discovered) gives the cidr of an existing external bridge
    that the plan names without a cidr.
    """
    if not isinstance(plan, dict):
        raise VimError("plan must be a mapping")
    inst = naming.check_id("vnfInstanceId", plan.get("vnfInstanceId"))
    short = naming.short_id(inst)
    if plan.get("shortId") not in (None, short):
        raise VimError(f"plan: shortId {plan.get('shortId')!r} is not sha256(vnfInstanceId)[:8]")
    vls: dict[str, tuple[BridgeState, ipaddress.IPv4Network]] = {}
    for vl in _list(plan, "virtualLinks"):
        vl_id = naming.check_id("virtual link id", vl.get("id"))
        index = vl.get("index")
        if not isinstance(index, int) or index < 0:
            raise VimError(f"plan: virtual link {vl_id}: 'index' must be a non-negative integer")
        mtu = int(vl.get("mtu") or 1500)
        vls[vl_id] = (
            BridgeState(vl_id, naming.vl_bridge(index), mtu),
            _network(vl.get("cidr"), vl_id),
        )
    if len({b.name for b, _net in vls.values()}) != len(vls):
        raise VimError("plan: two virtual links share the same index")
    ext_by_vl: dict[str, ExtNetwork] = {}
    for evl in _list(plan, "externalVirtualLinks"):
        evl_id = naming.check_id("external virtual link id", evl.get("id"))
        name = naming.check_ifname(evl.get("resourceId"), "external bridge name")
        if evl.get("cidr"):
            ext_by_vl[evl_id] = ext_network(name, evl["cidr"])
            continue
        addrs = [a for a in (host_bridges or {}).get(name, (False, 0, ()))[2] if "." in a]
        if not addrs:
            raise VimError(
                f"plan: external virtual link {evl_id}: bridge {name!r} has no IPv4 address; "
                "give its 'cidr' so that the local VIM can create it"
            )
        iface = ipaddress.ip_interface(addrs[0])
        ext_by_vl[evl_id] = ExtNetwork(name, str(iface.network), str(iface.ip))
    default = vim.get("defaultExternalNetwork") or DEFAULT_EXTERNAL_NETWORK
    default_ext = ext_network(str(default.get("name")), default.get("cidr"))

    ext_networks: dict[str, ExtNetwork] = {}
    vnfcs: dict[str, VnfcState] = {}
    for vnfc in _list(plan, "vnfcs"):
        vnfc_id = naming.check_id("vnfc id", vnfc.get("id"))
        if vnfc_id == "vim" or vnfc_id in vnfcs:
            raise VimError(f"plan: vnfc id {vnfc_id!r} is reserved or duplicated")
        vdu_id = naming.check_id("vduId", vnfc.get("vduId"))
        cps: list[CpState] = []
        gateway: str | None = None
        for cp in vnfc.get("cps") or []:
            cpd_id = naming.check_id("cpdId", cp.get("cpdId"))
            order = cp.get("order")  # the planner sets it; older or foreign plans may not
            ifname = naming.cp_ifname(
                order
                if isinstance(order, int) and not isinstance(order, bool) and order >= 0
                else len(cps)
            )
            ext_cpd = cp.get("extCpdId") or None
            planned = [str(a) for a in cp.get("ipAddresses") or []]
            if cp.get("virtualLinkId") and not cp.get("extVirtualLinkId"):
                vl_id = str(cp["virtualLinkId"])
                if vl_id not in vls:
                    raise VimError(f"plan: {vnfc_id}/{cpd_id}: unknown virtual link {vl_id!r}")
                net = vls[vl_id][1]
                kind, network, peer = "vl", vl_id, naming.vl_port(vnfc_id, cpd_id)
            elif cp.get("extVirtualLinkId") or ext_cpd:
                evl_id = cp.get("extVirtualLinkId")
                if evl_id and evl_id not in ext_by_vl:
                    raise VimError(
                        f"plan: {vnfc_id}/{cpd_id}: unknown external virtual link {evl_id!r}"
                    )
                ext = ext_by_vl[evl_id] if evl_id else default_ext
                kind, network, peer = "ext", ext.name, ""  # peer allocated when created
                ext_networks.setdefault(ext.name, ext)
                net = _network(ext.cidr, ext.name)
                gateway = gateway or ext.gateway
            else:
                continue  # a CP attached to nothing has no kernel object
            addresses = []
            for addr in planned:
                ip = ipaddress.ip_address(addr)
                if ip not in net:
                    raise VimError(f"plan: {vnfc_id}/{cpd_id}: {addr} is outside {net}")
                addresses.append(f"{ip}/{net.prefixlen}")
            cps.append(
                CpState(
                    cpd_id=cpd_id,
                    ifname=ifname,
                    mac=str(cp.get("macAddress") or "").lower(),
                    mtu=int(cp.get("mtu") or (vls[network][0].mtu if kind == "vl" else 1500)),
                    addresses=tuple(addresses),
                    kind=kind,
                    network=network,
                    peer=peer,
                    ext_cpd_id=ext_cpd,
                    dynamic=kind == "ext" and not addresses,
                )
            )
        if len({c.ifname for c in cps}) != len(cps):
            raise VimError(f"plan: {vnfc_id}: two connection points share the same order")
        power = vnfc.get("powerState") or POWER_ON  # plans before operate had none
        if power not in (POWER_ON, POWER_OFF):
            raise VimError(f"plan: {vnfc_id}: powerState must be 'on' or 'off', got {power!r}")
        vnfcs[vnfc_id] = VnfcState(
            vnfc_id,
            vdu_id,
            naming.vnfc_netns(inst, vnfc_id),
            tuple(cps),
            gateway,
            power=power,
            generation=vnfc_marks.check_generation(vnfc.get("softwareGeneration"), vnfc_id),
        )
    volumes = {}
    for vol in _list(plan, "volumes"):
        volumes[naming.check_id("volume name", vol.get("name"))] = vol
    return Desired(
        vnf_instance_id=inst,
        short_id=short,
        vnfcs=vnfcs,
        bridges={k: b for k, (b, _net) in vls.items()},
        ext_networks=ext_networks,
        volumes=volumes,
        plan=plan,
    )
