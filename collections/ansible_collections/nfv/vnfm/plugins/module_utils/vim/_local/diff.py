# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Diff between the desired state (from the plan) and the observed kernel state.

Pure functions: no kernel access, so the unit tests drive them with fake states.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    POWER_OFF,
    POWER_ON,
    BridgeState,
    CpState,
    Desired,
    ExtNetwork,
    Observed,
    VnfcState,
)


@dataclass
class Changes:
    """What a reconcile must do, in apply order; ``actions`` is the human summary."""

    vnf_instance_id: str
    actions: list[str] = field(default_factory=list)
    create_vim_ns: bool = False
    delete_vim_ns: bool = False
    delete_vnfcs: list[VnfcState] = field(default_factory=list)  # observed states
    create_vnfcs: list[VnfcState] = field(default_factory=list)  # desired states
    keep_vnfcs: list[VnfcState] = field(default_factory=list)  # observed, unchanged
    # observed VNFCs whose power state changes (a modify: same namespace, addresses,
    # MACs), with the planned power state and gateway
    power_vnfcs: list[VnfcState] = field(default_factory=list)
    # observed VNFCs whose record (lo alias) takes the plan's software generation,
    # with that generation: a VNFC the reconcile's own heal token created (a batch
    # of a package change that completed)
    record_vnfcs: list[VnfcState] = field(default_factory=list)
    delete_bridges: list[BridgeState] = field(default_factory=list)
    create_bridges: list[BridgeState] = field(default_factory=list)
    update_bridges: list[BridgeState] = field(default_factory=list)
    create_ext: list[ExtNetwork] = field(default_factory=list)
    release_ext: list[str] = field(default_factory=list)  # owned bridges to drop if no port is left
    create_volumes: list[str] = field(default_factory=list)
    delete_volumes: list[str] = field(default_factory=list)
    # CP peers left by a VNFC whose namespace has no name any more (VIM ns / host):
    # their names are taken, so they go before anything is created
    stale_vl_ports: list[str] = field(default_factory=list)
    stale_ext_ports: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    @property
    def touches_ext(self) -> bool:
        vnfcs = self.delete_vnfcs + self.create_vnfcs
        return bool(self.create_ext or self.release_ext or self.stale_ext_ports) or any(
            cp.kind == "ext" for v in vnfcs for cp in v.cps
        )


def _cp_text(cp: CpState) -> str:
    addrs = ",".join(cp.addresses) or ("dynamic" if cp.dynamic else "no address")
    return f"{cp.ifname} {cp.cpd_id} {addrs} mac {cp.mac or 'auto'} mtu {cp.mtu} on {cp.network}"


def cp_differences(want: CpState, have: CpState, ext: ExtNetwork | None) -> list[str]:
    """Why the observed CP ``have`` does not match ``want`` (empty when it does)."""
    out: list[str] = []
    for attr in ("cpd_id", "kind", "network", "ext_cpd_id", "mtu"):
        if getattr(want, attr) != getattr(have, attr):
            out.append(f"{attr} {getattr(have, attr)} -> {getattr(want, attr)}")
    if want.mac and want.mac != have.mac:
        out.append(f"mac {have.mac} -> {want.mac}")
    if want.kind == "vl" and want.peer != have.peer:
        out.append(f"peer {have.peer} -> {want.peer}")
    if want.dynamic:
        if ext is None or not _single_in(have.addresses, ext.cidr):
            out.append(f"addresses {','.join(have.addresses) or '-'} -> dynamic")
    elif want.addresses != have.addresses:
        out.append(f"addresses {','.join(have.addresses) or '-'} -> {','.join(want.addresses)}")
    return [f"{want.ifname}: {d}" for d in out]


def _single_in(addresses: tuple[str, ...], cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return len(addresses) == 1 and ipaddress.ip_interface(addresses[0]).network == net


def vnfc_differences(want: VnfcState, have: VnfcState, desired: Desired) -> list[str]:
    """Why the observed VNFC must be replaced (empty when it matches the plan)."""
    out = list(have.problems)
    if want.vdu_id != have.vdu_id:
        out.append(f"vduId {have.vdu_id or '-'} -> {want.vdu_id}")
    have_cps = {c.ifname: c for c in have.cps}
    want_cps = {c.ifname: c for c in want.cps}
    for ifname in sorted(set(have_cps) - set(want_cps)):
        out.append(f"{ifname}: not planned")
    for ifname, cp in sorted(want_cps.items()):
        if ifname not in have_cps:
            out.append(f"{ifname}: missing")
        else:
            out.extend(cp_differences(cp, have_cps[ifname], desired.ext_networks.get(cp.network)))
    # the kernel drops the routes of a down interface: a powered-on VNFC only has one
    if have.power == POWER_ON and want.gateway != have.gateway:
        out.append(f"default route {have.gateway or '-'} -> {want.gateway or '-'}")
    return out


def power_action(want: VnfcState, have: VnfcState) -> str:
    """The action line of a power change of ``have`` (observed) to ``want.power``."""
    ifnames = ", ".join(["lo", *(c.ifname for c in have.cps)])
    if want.power == POWER_OFF:
        return f"power off {want.netns} (kill its processes; {ifnames} down)"
    route = f"; default route via {want.gateway}" if want.gateway else ""
    return f"power on {want.netns} ({ifnames} up{route})"


def carry_dynamic(want: VnfcState, have: VnfcState | None, desired: Desired) -> VnfcState:
    """Keep the dynamic address an existing external CP already has (heal, replace)."""
    if have is None:
        return want
    have_cps = {c.cpd_id: c for c in have.cps}
    cps = []
    for cp in want.cps:
        old = have_cps.get(cp.cpd_id)
        ext = desired.ext_networks.get(cp.network)
        if (
            cp.dynamic
            and old
            and old.network == cp.network
            and ext
            and _single_in(old.addresses, ext.cidr)
        ):
            cp = dataclasses.replace(cp, addresses=old.addresses)
        if cp.kind == "ext" and old and old.network == cp.network:
            cp = dataclasses.replace(cp, peer=old.peer)
        cps.append(cp)
    return dataclasses.replace(want, cps=tuple(cps))


def compute_changes(
    desired: Desired,
    observed: Observed,
    heal: list[str] | None = None,
    token: str | None = None,
) -> Changes:
    """Everything to do to turn ``observed`` into ``desired``.

    ``token`` is the digest of the reconcile's heal token (an operation): a VNFC
    to heal that this token already created is not recreated again, and one it
    created takes the plan's software generation in its record. A generation
    that differs from the plan's never replaces a VNFC by itself.
    """
    inst = desired.vnf_instance_id
    vim_ns = naming.vim_netns(inst)
    ch = Changes(inst)
    heal_set = vnfc_marks.heal_targets(heal, desired.vnfcs)

    # internal VLs
    if desired.bridges and not observed.vim_ns:
        ch.create_vim_ns = True
        ch.actions.append(f"create netns {vim_ns}")
    replaced_vls: set[str] = set()
    for vl_id, want in sorted(desired.bridges.items()):
        have = observed.bridges.get(vl_id)
        if have is not None and have.name != want.name:
            ch.delete_bridges.append(have)
            ch.actions.append(f"delete bridge {vim_ns}/{have.name} ({vl_id}: index changed)")
            replaced_vls.add(vl_id)
            have = None
        if have is None:
            ch.create_bridges.append(want)
            ch.actions.append(f"create bridge {vim_ns}/{want.name} ({vl_id}, mtu {want.mtu})")
        elif have.mtu != want.mtu or not have.up:
            ch.update_bridges.append(want)
            ch.actions.append(f"set bridge {vim_ns}/{want.name} mtu {have.mtu} -> {want.mtu}, up")
    for vl_id, have in sorted(observed.bridges.items()):
        if vl_id not in desired.bridges and observed.vim_ns and desired.bridges:
            ch.delete_bridges.append(have)
            ch.actions.append(f"delete bridge {vim_ns}/{have.name} ({vl_id})")

    # VNFCs
    for vnfc_id, vwant in sorted(desired.vnfcs.items()):
        vhave = observed.vnfcs.get(vnfc_id)
        if vhave is None:
            vwant = dataclasses.replace(vwant, token=token)
            ch.create_vnfcs.append(vwant)
            detail = "; ".join(_cp_text(c) for c in vwant.cps) or "no CP"
            ch.actions.append(f"create netns {vwant.netns} ({detail})")
            continue
        reasons = vnfc_differences(carry_dynamic(vwant, vhave, desired), vhave, desired)
        if any(cp.kind == "vl" and cp.network in replaced_vls for cp in vwant.cps):
            reasons.append("internal VL replaced")
        if vnfc_id in heal_set and not vnfc_marks.made_by(token, vhave.token):
            reasons.insert(0, "heal")
        if reasons:
            ch.delete_vnfcs.append(vhave)
            ch.create_vnfcs.append(
                dataclasses.replace(carry_dynamic(vwant, vhave, desired), token=token)
            )
            ch.actions.append(f"replace netns {vwant.netns} ({'; '.join(reasons)})")
            continue
        kept = vhave
        if (
            vnfc_marks.made_by(token, vhave.token)
            and vwant.generation is not None
            and vwant.generation != vhave.generation
        ):
            kept = dataclasses.replace(vhave, generation=vwant.generation)
            ch.record_vnfcs.append(kept)
            ch.actions.append(
                f"record software generation {vwant.generation} on {vwant.netns} "
                f"(was {vhave.generation or 'unknown'})"
            )
        if vwant.power != vhave.power:
            gateway = vwant.gateway if vwant.power == POWER_ON else None
            ch.power_vnfcs.append(dataclasses.replace(kept, power=vwant.power, gateway=gateway))
            ch.actions.append(power_action(vwant, vhave))
        elif kept is vhave:
            ch.keep_vnfcs.append(vhave)
    for vnfc_id, vhave in sorted(observed.vnfcs.items()):
        if vnfc_id not in desired.vnfcs:
            ch.delete_vnfcs.append(vhave)
            ch.actions.append(f"delete netns {vhave.netns}")
    ch.delete_vnfcs.sort(key=lambda v: v.vnfc_id)
    ch.create_vnfcs.sort(key=lambda v: v.vnfc_id)
    for ports, stale, where in (
        (observed.vl_ports, ch.stale_vl_ports, f"{vim_ns}/"),
        (observed.ext_ports, ch.stale_ext_ports, ""),
    ):
        for peer, (vnfc_id, _cpd, _master) in sorted(ports.items()):
            if vnfc_id not in observed.vnfcs:
                stale.append(peer)
                ch.actions.append(f"delete port {where}{peer} of {vnfc_id} (its netns is gone)")

    if observed.vim_ns and not desired.bridges:
        ch.delete_vim_ns = True
        ch.actions.append(f"delete netns {vim_ns}")

    # external networks: create what is missing, release owned bridges left without ports
    plan_ext_ports: dict[str, int] = {}
    for vnfc in ch.create_vnfcs:
        for cp in vnfc.cps:
            if cp.kind == "ext":
                plan_ext_ports[cp.network] = plan_ext_ports.get(cp.network, 0) + 1
    for name, ext in sorted(desired.ext_networks.items()):
        if name not in observed.host_bridges and plan_ext_ports.get(name):
            if name in observed.host_links:
                raise VimError(f"external network {name!r} exists in the host and is not a bridge")
            ch.create_ext.append(ext)
            ch.actions.append(
                f"create external bridge {name} ({ext.gateway}/{ext.cidr.split('/')[1]})"
            )
    ch.release_ext = release_candidates(observed, ch.delete_vnfcs, plan_ext_ports)
    for name in ch.release_ext:
        ch.actions.append(f"delete external bridge {name} (no port left)")

    # volumes
    for name in sorted(set(desired.volumes) - observed.volumes):
        ch.create_volumes.append(name)
        ch.actions.append(f"create volume {name}")
    for name in sorted(observed.volumes - set(desired.volumes)):
        ch.delete_volumes.append(name)
        ch.actions.append(f"delete volume {name}")
    return ch


def release_candidates(
    observed: Observed, deleted: list[VnfcState], added: dict[str, int]
) -> list[str]:
    """Owned external bridges whose last ports are the ones this change deletes."""
    removed: dict[str, int] = {}
    gone = {v.vnfc_id for v in deleted}
    for _peer, (vnfc_id, _cpd, master) in observed.ext_ports.items():
        if vnfc_id in gone and master:
            removed[master] = removed.get(master, 0) + 1
    out = []
    for name, count in sorted(removed.items()):
        owned, ports, _addrs = observed.host_bridges.get(name, (False, 0, ()))
        if owned and ports - count + added.get(name, 0) <= 0:
            out.append(name)
    return out
