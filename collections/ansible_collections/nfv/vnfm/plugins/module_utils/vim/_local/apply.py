# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Apply a :class:`Changes` to the kernel (the only module that mutates it)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.diff import Changes
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import (
    VNFC_QUERY,
    ext_addresses_in_use,
    merge_links,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.iproute import Kernel
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    DEFAULT_RUN_DIR,
    FIRST_DYNAMIC_HOST,
    POWER_OFF,
    POWER_ON,
    BridgeState,
    Desired,
    ExtNetwork,
    Observed,
    VnfcState,
)


@dataclasses.dataclass
class Settings:
    state_dir: str
    lock_file: str
    run_dir: str = DEFAULT_RUN_DIR
    kill_grace: float = 2.0
    workers: int = 8
    cgroups: cgroup.CgroupTree | None = None  # None: VNFCs get no cgroup (_local/cgroup.py)


def _parallel(workers: int, func: Callable[[Any], object], items: list[Any]) -> None:
    if len(items) <= 1:
        for item in items:
            func(item)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        for _done in pool.map(func, items):  # consume, so that errors propagate
            pass


def delete_namespaces(kernel: Kernel, names: list[str], grace: float) -> None:
    """Kill every process of the namespaces, then delete them."""
    names = [n for n in names if kernel.netns_inode(n) is not None]
    if not names:
        return
    pids = [p for found in kernel.netns_pids(names).values() for p in found]
    if pids:
        kernel.kill_pids(pids, grace)
    kernel.batch([f"netns del {n}" for n in names])


def delete_vnfcs(
    kernel: Kernel, inst: str, vnfcs: list[VnfcState], obs: Observed, grace: float
) -> None:
    if not vnfcs:
        return
    gone = {v.vnfc_id for v in vnfcs}
    names = [v.netns for v in vnfcs]
    pids = [p for found in kernel.netns_pids(names).values() for p in found]
    if pids:
        kernel.kill_pids(pids, grace)
    # deleting a veth end deletes its peer at once, so the names are free right away
    vl_peers = sorted(p for p, (vnfc, _c, _m) in obs.vl_ports.items() if vnfc in gone)
    if vl_peers and obs.vim_ns:
        kernel.batch([f"link del dev {p}" for p in vl_peers], netns=naming.vim_netns(inst))
    ext_peers = sorted(p for p, (vnfc, _c, _m) in obs.ext_ports.items() if vnfc in gone)
    kernel.batch([f"link del dev {p}" for p in ext_peers])
    kernel.batch([f"netns del {n}" for n in names if kernel.netns_inode(n) is not None])


def bridge_commands(inst: str, bridges: list[BridgeState], update: list[BridgeState]) -> list[str]:
    cmds = []
    for br in bridges:
        cmds.append(f"link add name {br.name} mtu {br.mtu} type bridge")
        cmds.append(f"link set dev {br.name} alias {naming.vl_alias(inst, br.vl_id)} up")
    cmds += [f"link set dev {br.name} mtu {br.mtu} up" for br in update]
    return cmds


def _lo_alias(inst: str, vnfc: VnfcState) -> str:
    return naming.vnfc_alias(inst, vnfc.vnfc_id, vnfc.vdu_id, vnfc.generation, vnfc.token)


def record_vnfcs(kernel: Kernel, inst: str, vnfcs: list[VnfcState], workers: int) -> None:
    """Rewrite the record (lo alias) of existing VNFCs: their software generation."""

    def one(vnfc: VnfcState) -> None:
        kernel.batch([f"link set dev lo alias {_lo_alias(inst, vnfc)}"], netns=vnfc.netns)

    _parallel(workers, one, vnfcs)


def _vnfc_commands(inst: str, vnfc: VnfcState, host_ns: str) -> list[str]:
    """Configure a new VNFC namespace; its interfaces stay down when it is planned off."""
    up = " up" if vnfc.power == POWER_ON else ""
    cmds = [f"link set dev lo alias {_lo_alias(inst, vnfc)}{up}"]
    for cp in vnfc.cps:
        target = naming.vim_netns(inst) if cp.kind == "vl" else host_ns
        mac = f" address {cp.mac}" if cp.mac else ""
        cmds.append(
            f"link add name {cp.ifname}{mac} mtu {cp.mtu} type veth"
            f" peer name {cp.peer} mtu {cp.mtu} netns {target}"
        )
        alias = naming.cp_alias(cp.cpd_id, cp.kind, cp.network, cp.peer, cp.ext_cpd_id, cp.dynamic)
        cmds.append(f"link set dev {cp.ifname} alias {alias}{up}")
        cmds += [f"addr add {a} dev {cp.ifname}" for a in cp.addresses]
    if vnfc.gateway and up:
        cmds.append(f"route add default via {vnfc.gateway}")
    return cmds


def power_commands(vnfc: VnfcState) -> list[str]:
    """Set every interface of an existing VNFC up or down (addresses and MACs stay)."""
    ifnames = ["lo", *(cp.ifname for cp in vnfc.cps)]
    if vnfc.power == POWER_OFF:
        return [f"link set dev {n} down" for n in ifnames]
    cmds = [f"link set dev {n} up" for n in ifnames]
    if vnfc.gateway:  # the kernel dropped it with the interface
        cmds.append(f"route replace default via {vnfc.gateway}")
    return cmds


def power_vnfcs(
    kernel: Kernel, vnfcs: list[VnfcState], grace: float, workers: int
) -> dict[str, list[Any]]:
    """Power VNFCs on or off; return what the kernel answered (netns -> ``VNFC_QUERY``).

    Powering off first kills every process of the namespace (SIGTERM, SIGKILL
    after ``grace``), as a removal does, then sets the interfaces down, so the
    VNFC answers nothing; powering on only sets them up (the software is
    started by EM configuration).
    """
    off = [v.netns for v in vnfcs if v.power == POWER_OFF]
    pids = [p for found in kernel.netns_pids(off).values() for p in found] if off else []
    if pids:
        kernel.kill_pids(pids, grace)
    found: dict[str, list[Any]] = {}

    def one(vnfc: VnfcState) -> None:
        found[vnfc.netns] = kernel.query(
            list(VNFC_QUERY), netns=vnfc.netns, before=power_commands(vnfc), details=False
        )

    _parallel(workers, one, vnfcs)
    return found


def allocate_ext(
    kernel: Kernel, desired: Desired, vnfcs: list[VnfcState], host_links: list[dict[str, Any]]
) -> list[VnfcState]:
    """Give new external CPs a host-side port name and, if dynamic, a free address."""
    short = desired.short_id
    used_numbers = {
        n
        for link in host_links
        if (n := naming.ext_port_number(short, str(link.get("ifname")))) is not None
    }
    static = {a.split("/")[0] for v in desired.vnfcs.values() for c in v.cps for a in c.addresses}
    in_use: dict[str, set[str]] = {}
    out = []
    for vnfc in vnfcs:
        cps = []
        for cp in vnfc.cps:
            if cp.kind == "ext":
                number = next(n for n in range(101) if n not in used_numbers)
                used_numbers.add(number)
                cp = dataclasses.replace(cp, peer=naming.ext_port(short, number))
                if not cp.addresses:
                    ext = desired.ext_networks[cp.network]
                    if cp.network not in in_use:
                        in_use[cp.network] = (
                            ext_addresses_in_use(kernel, cp.network, host_links) | static
                        )
                    address = _first_free(ext, in_use[cp.network])
                    in_use[cp.network].add(address)
                    prefix = ext.cidr.split("/")[1]
                    cp = dataclasses.replace(cp, addresses=(f"{address}/{prefix}",))
            cps.append(cp)
        out.append(dataclasses.replace(vnfc, cps=tuple(cps)))
    return out


def _first_free(ext: ExtNetwork, used: set[str]) -> str:
    net = ipaddress.ip_network(ext.cidr)
    for offset in range(FIRST_DYNAMIC_HOST, net.num_addresses - 1):
        candidate = str(net[offset])
        if candidate not in used and candidate != ext.gateway:
            return candidate
    raise VimError(f"external network {ext.name} ({ext.cidr}) has no free address left")


def create_vnfcs(
    kernel: Kernel, inst: str, vnfcs: list[VnfcState], bridges: dict[str, str], workers: int
) -> dict[str, list[Any]]:
    """Configure the (already added) VNFC namespaces in parallel, then attach the peers.

    Each VNFC is one ``ip -n <ns> -batch`` process that also reads back the
    result; the answers are returned (netns -> ``VNFC_QUERY`` documents).
    """
    host_ns = str(os.getpid())  # a process of the host namespace names it for 'netns'
    found: dict[str, list[Any]] = {}

    def one(vnfc: VnfcState) -> None:
        cmds = _vnfc_commands(inst, vnfc, host_ns)
        found[vnfc.netns] = kernel.query(
            list(VNFC_QUERY), netns=vnfc.netns, before=cmds, details=False
        )

    _parallel(workers, one, vnfcs)
    vl_cmds, ext_cmds = [], []
    for vnfc in vnfcs:
        for cp in vnfc.cps:
            alias = naming.port_alias(inst, vnfc.vnfc_id, cp.cpd_id)
            if cp.kind == "vl":
                master = bridges[cp.network]
                vl_cmds.append(f"link set dev {cp.peer} master {master} alias {alias} up")
            else:
                ext_cmds.append(f"link set dev {cp.peer} master {cp.network} alias {alias} up")
    kernel.batch(vl_cmds, netns=naming.vim_netns(inst))
    kernel.batch(ext_cmds)
    return found


def create_ext_bridges(
    kernel: Kernel, networks: Iterable[ExtNetwork], host_links: list[dict[str, Any]]
) -> None:
    present = {str(link.get("ifname")) for link in host_links}
    cmds = []
    for ext in networks:
        if ext.name in present:  # created meanwhile by another process
            continue
        prefix = ext.cidr.split("/")[1]
        cmds.append(f"link add name {ext.name} type bridge")
        cmds.append(f"addr add {ext.gateway}/{prefix} dev {ext.name}")
        cmds.append(f"link set dev {ext.name} alias {naming.EXT_BRIDGE_ALIAS} up")
    kernel.batch(cmds)


def release_ext_bridges(kernel: Kernel, names: Iterable[str]) -> None:
    """Delete the owned external bridges of ``names`` that have no port left (fresh look)."""
    wanted = set(names)
    if not wanted:
        return
    links = _host_links(kernel)
    ports = {str(link.get("master")) for link in links if link.get("master")}
    cmds = [
        f"link del dev {link['ifname']}"
        for link in links
        if link.get("ifname") in wanted
        and link.get("ifalias") == naming.EXT_BRIDGE_ALIAS
        and link["ifname"] not in ports
    ]
    kernel.batch(cmds)


def _host_links(kernel: Kernel) -> list[dict[str, Any]]:
    docs = kernel.query(["link show", "addr show"])
    return merge_links(docs[0], docs[1])


def vnfc_cgroups(tree: cgroup.CgroupTree, inst: str, desired: Desired | None, grace: float) -> None:
    """Every planned VNFC has its cgroup (with the VDU's sizing); no other of the
    instance is left (a removal: none)."""
    keep = []
    computes = {
        str(v.get("id")): v.get("compute") or {}
        for v in (desired.plan.get("vnfcs") or [] if desired is not None else [])
        if isinstance(v, dict)
    }
    for vnfc in desired.vnfcs.values() if desired is not None else []:
        compute = computes.get(vnfc.vnfc_id) or {}
        vcpus = _number(compute.get("numVirtualCpu"))
        mem_mb = _number(compute.get("virtualMemSizeMb"))
        info = {
            "vnfInstanceId": inst,
            "vnfcId": vnfc.vnfc_id,
            "vduId": vnfc.vdu_id,
            "vcpus": vcpus,
            "memorySizeBytes": int(mem_mb * 1024 * 1024) if mem_mb is not None else None,
        }
        tree.create(vnfc.netns, info, vcpus)
        keep.append(vnfc.netns)
    tree.prune(naming.instance_prefix(inst), keep, grace)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def apply_changes(
    kernel: Kernel, ch: Changes, desired: Desired | None, obs: Observed, settings: Settings
) -> dict[str, list[Any]]:
    """Apply ``ch``; return what the kernel answered for the VNFCs it created or powered."""
    inst = ch.vnf_instance_id
    vim_ns = naming.vim_netns(inst)
    created: dict[str, list[Any]] = {}
    with ExitStack() as stack:
        if ch.touches_ext:  # external bridges and addresses are shared by all instances
            stack.enter_context(kernel.lock(settings.lock_file))
        if ch.stale_vl_ports and obs.vim_ns:
            kernel.batch([f"link del dev {p}" for p in ch.stale_vl_ports], netns=vim_ns)
        kernel.batch([f"link del dev {p}" for p in ch.stale_ext_ports])
        delete_vnfcs(kernel, inst, ch.delete_vnfcs, obs, settings.kill_grace)
        if settings.cgroups is not None:
            for vnfc in ch.delete_vnfcs:
                settings.cgroups.remove(vnfc.netns, settings.kill_grace)
        recreated = {v.vnfc_id for v in ch.create_vnfcs}
        for vnfc in ch.delete_vnfcs:  # a healed VNFC keeps its runtime files
            if vnfc.vnfc_id not in recreated:
                kernel.remove_tree(os.path.join(settings.run_dir, inst, vnfc.vnfc_id))
        if ch.delete_vim_ns:
            delete_namespaces(kernel, [vim_ns], settings.kill_grace)
        elif ch.delete_bridges and obs.vim_ns:
            kernel.batch([f"link del dev {b.name}" for b in ch.delete_bridges], netns=vim_ns)
        todo = ch.create_vnfcs if desired is not None else []
        # one process adds every namespace (the VIM one first)
        kernel.batch(
            [f"netns add {n}" for n in [vim_ns] * ch.create_vim_ns + [v.netns for v in todo]]
        )
        vim_cmds = ["link set dev lo up"] if ch.create_vim_ns else []
        if ch.create_bridges or ch.update_bridges:
            vim_cmds += bridge_commands(inst, ch.create_bridges, ch.update_bridges)
        kernel.batch(vim_cmds, netns=vim_ns)
        if desired is not None and todo:
            used = sorted({cp.network for v in todo for cp in v.cps if cp.kind == "ext"})
            if used:
                # a fresh look under the lock: a bridge seen when the changes were computed
                # may have been released since by another instance's last port
                host_links = _host_links(kernel)
                create_ext_bridges(kernel, [desired.ext_networks[n] for n in used], host_links)
                todo = allocate_ext(kernel, desired, todo, host_links)
            bridges = {k: b.name for k, b in desired.bridges.items()}
            created = create_vnfcs(kernel, inst, todo, bridges, settings.workers)
        release_ext_bridges(kernel, ch.release_ext)
    if desired is not None and ch.record_vnfcs:  # before power reads the VNFCs back
        record_vnfcs(kernel, inst, ch.record_vnfcs, settings.workers)
    if desired is not None and ch.power_vnfcs:
        created.update(power_vnfcs(kernel, ch.power_vnfcs, settings.kill_grace, settings.workers))
    if settings.cgroups is not None:
        vnfc_cgroups(settings.cgroups, inst, desired, settings.kill_grace)
    for name in ch.create_volumes:
        kernel.make_dir(os.path.join(settings.state_dir, inst, name))
    for name in ch.delete_volumes:
        kernel.remove_tree(os.path.join(settings.state_dir, inst, name))
    return created
