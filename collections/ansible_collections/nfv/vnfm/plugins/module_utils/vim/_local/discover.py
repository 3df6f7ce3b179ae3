# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Discovery: read what the kernel holds for one VNF instance."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.iproute import Kernel
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    POWER_MIXED,
    POWER_OFF,
    POWER_ON,
    BridgeState,
    CpState,
    Observed,
    VnfcState,
)

VNFC_QUERY = ("link show", "addr show", "route show default")


def merge_links(
    links: Sequence[dict[str, Any]], addrs: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Join ``ip -json link show`` and ``ip -json addr show`` by ifindex."""
    by_index = {a.get("ifindex"): a.get("addr_info", []) for a in addrs}
    return [{**link, "addr_info": by_index.get(link.get("ifindex"), [])} for link in links]


def ipv4_addresses(link: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            f"{a['local']}/{a['prefixlen']}"
            for a in link.get("addr_info", [])
            if a.get("family") == "inet" and a.get("scope") == "global"
        )
    )


def _kind(link: dict[str, Any]) -> str | None:
    info = link.get("linkinfo") or {}
    kind = info.get("info_kind")
    return kind if isinstance(kind, str) else None


def _is_up(link: dict[str, Any]) -> bool:
    return "UP" in (link.get("flags") or [])


def parse_host(inst: str, links: list[dict[str, Any]], obs: Observed) -> None:
    """Host namespace: external bridges (any instance) and this instance's ext ports."""
    ports: dict[str, int] = {}
    for link in links:
        if link.get("master"):
            ports[link["master"]] = ports.get(link["master"], 0) + 1
        rec = naming.parse_alias(link.get("ifalias"), "port", 3)
        if rec and rec[0] == inst:
            obs.ext_ports[link["ifname"]] = (rec[1], rec[2], link.get("master"))
    obs.host_links = frozenset(link["ifname"] for link in links)
    for link in links:
        if _kind(link) == "bridge":
            owned = link.get("ifalias") == naming.EXT_BRIDGE_ALIAS
            obs.host_bridges[link["ifname"]] = (
                owned,
                ports.get(link["ifname"], 0),
                ipv4_addresses(link),
            )


def parse_vim(inst: str, links: list[dict[str, Any]], obs: Observed) -> None:
    """VIM namespace: one bridge per internal VL, the VL-side peers of the CPs."""
    for link in links:
        vl = naming.parse_alias(link.get("ifalias"), "vl", 2)
        if vl and vl[0] == inst and _kind(link) == "bridge":
            obs.bridges[vl[1]] = BridgeState(vl[1], link["ifname"], int(link["mtu"]), _is_up(link))
        port = naming.parse_alias(link.get("ifalias"), "port", 3)
        if port and port[0] == inst:
            obs.vl_ports[link["ifname"]] = (port[1], port[2], link.get("master"))


def parse_vnfc(
    inst: str, netns: str, links: list[dict[str, Any]], routes: list[dict[str, Any]], obs: Observed
) -> VnfcState | None:
    """One VNFC namespace; None when it belongs to another instance."""
    problems: list[str] = []
    vnfc_id, vdu_id = netns[len(naming.instance_prefix(inst)) :], ""
    generation: str | None = None
    token: str | None = None
    cps: list[CpState] = []
    flags: list[bool] = []  # administrative state (UP flag) of lo and of each CP
    for link in links:
        if link.get("ifname") == "lo":
            rec = naming.parse_vnfc_alias(link.get("ifalias"))
            if rec is None:
                problems.append("no ownership record on lo (incomplete creation)")
            elif rec[0] != inst or rec[1] != vnfc_id:
                return None
            else:
                vdu_id, generation, token = rec[2], rec[3], rec[4]
            flags.append(_is_up(link))
            continue
        cp = naming.parse_alias(link.get("ifalias"), "cp", 6)
        if cp is None:
            problems.append(f"unexpected interface {link.get('ifname')}")
            continue
        cpd_id, kind, network, peer, ext_cpd, dyn = cp
        state = CpState(
            cpd_id=cpd_id,
            ifname=link["ifname"],
            mac=str(link.get("address", "")).lower(),
            mtu=int(link.get("mtu", 0)),
            addresses=ipv4_addresses(link),
            kind=kind,
            network=network,
            peer=peer,
            ext_cpd_id=None if ext_cpd == "-" else ext_cpd,
            dynamic=dyn == "d",
            up=_is_up(link),
        )
        cps.append(state)
        flags.append(state.up)
        ports, master = (obs.vl_ports, None) if kind == "vl" else (obs.ext_ports, network)
        if kind == "vl" and network in obs.bridges:
            master = obs.bridges[network].name
        if ports.get(peer) != (vnfc_id, cpd_id, master) or master is None:
            problems.append(f"{state.ifname}: peer {peer} missing or not attached to {network}")
    gateway = next((r.get("gateway") for r in routes if r.get("gateway")), None)
    cps.sort(key=lambda c: c.ifname)
    return VnfcState(
        vnfc_id,
        vdu_id,
        netns,
        tuple(cps),
        gateway,
        tuple(problems),
        power(flags),
        generation,
        token,
    )


def power(flags: Sequence[bool]) -> str:
    """The power state that the interfaces' UP flags (lo and CPs) show."""
    if all(flags):
        return POWER_ON
    return POWER_OFF if not any(flags) else POWER_MIXED


def discover(
    kernel: Kernel,
    inst: str,
    state_dir: str,
    workers: int = 8,
    known: dict[str, list[Any]] | None = None,
) -> Observed:
    """Everything the kernel (and the state dir) holds for instance ``inst``.

    ``known`` maps VNFC namespaces to ``VNFC_QUERY`` answers already read from
    the kernel (right after a change, or untouched since the last discovery);
    they are not queried again.
    """
    prefix = naming.instance_prefix(inst)
    vim_ns = naming.vim_netns(inst)
    names = [n for n in kernel.netns_list() if n.startswith(prefix)]
    vnfc_names = [n for n in names if n != vim_ns]
    known = known or {}

    def query(netns: str | None) -> list[Any]:
        if netns is None:
            return kernel.query(["link show", "addr show"])
        if netns == vim_ns:
            return kernel.query(["link show"], netns=netns)
        try:
            return kernel.query(list(VNFC_QUERY), netns=netns, details=False)
        except VimError:  # vanished meanwhile (another process deleted it)
            if kernel.netns_inode(netns) is None:
                return []
            raise

    targets: list[str | None] = [None, *([vim_ns] if vim_ns in names else [])]
    targets += [n for n in vnfc_names if n not in known]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        results = dict(zip(targets, pool.map(query, targets), strict=True))
    vnfc_docs = {n: known[n] if n in known else results[n] for n in vnfc_names}
    volumes = kernel.list_dir(os.path.join(state_dir, inst))
    return assemble(inst, results[None], results.get(vim_ns), vnfc_docs, volumes)


def assemble(
    inst: str,
    host: list[Any],
    vim: list[Any] | None,
    vnfc_docs: dict[str, list[Any]],
    volumes: list[str],
) -> Observed:
    """Build the observed state from raw ``ip -json`` answers."""
    obs = Observed(vim_ns=vim is not None, volumes=frozenset(volumes))
    parse_host(inst, merge_links(host[0], host[1]), obs)
    if vim is not None:
        parse_vim(inst, vim[0], obs)
    for name, docs in sorted(vnfc_docs.items()):
        if docs:
            vnfc = parse_vnfc(inst, name, merge_links(docs[0], docs[1]), docs[2], obs)
            if vnfc is not None:
                obs.vnfcs[vnfc.vnfc_id] = vnfc
                obs.raw[name] = docs
    return obs


def orphaned_vnfcs(obs: Observed) -> set[str]:
    """VNFCs whose CP peers are still attached while no namespace of that name exists.

    Deleting a VNFC's namespace by name (``ip netns del``) while its processes run
    leaves the namespace alive and unnamed, with its interfaces and their peers: the
    peers (VIM namespace and host, found by their aliases) show it.
    """
    owners = {rec[0] for rec in [*obs.vl_ports.values(), *obs.ext_ports.values()]}
    return owners - set(obs.vnfcs)


def adopt_orphans(kernel: Kernel, inst: str, obs: Observed) -> list[str]:
    """Give the unnamed namespaces of this instance's VNFCs their name back.

    A namespace is recognised by the ownership record on its ``lo`` (instance and
    VNFC ids), read through one of its processes. Once named again, it is an
    ordinary VNFC: kept if it matches the plan, replaced (its processes killed, its
    peers deleted) on heal — the reconcile converges from what the kernel holds
    instead of failing on the peers' names. Returns one action line per adoption.
    """
    missing = orphaned_vnfcs(obs)
    if not missing:
        return []
    actions = []
    for _ino, pid in sorted(kernel.unnamed_netns_pids().items()):
        rec = naming.parse_vnfc_alias(kernel.lo_alias_of(pid))
        if rec is None or rec[0] != inst or rec[1] not in missing:
            continue
        name = naming.vnfc_netns(inst, rec[1])
        if kernel.netns_inode(name) is not None:
            continue
        kernel.netns_attach(name, pid)
        missing.discard(rec[1])
        actions.append(f"name netns {name} again (its name was deleted, its processes ran on)")
    return actions


def ext_addresses_in_use(kernel: Kernel, bridge: str, host_links: list[dict[str, Any]]) -> set[str]:
    """Addresses of every VNFC (any instance) attached to host bridge ``bridge``, and the bridge's."""
    used: set[str] = set()
    namespaces: set[str] = set()
    for link in host_links:
        if link.get("ifname") == bridge:
            used.update(a.split("/")[0] for a in ipv4_addresses(link))
        rec = naming.parse_alias(link.get("ifalias"), "port", 3)
        if rec and link.get("master") == bridge:
            namespaces.add(naming.vnfc_netns(rec[0], rec[1]))
    for netns in sorted(namespaces):
        try:
            docs = kernel.query(["addr show"], netns=netns)
        except VimError:
            continue
        for link in docs[0]:
            used.update(a.split("/")[0] for a in ipv4_addresses(link))
    return used
