# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Diff between the desired state (from the plan) and what the VIM holds.

Pure functions over ``model`` dataclasses: no SDK, so the unit tests drive
them with fake observed states.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    POWER_OFF,
    Desired,
    DImageUpload,
    DNetwork,
    DPort,
    DSecurityGroup,
    DServer,
    DServerGroup,
    DVolume,
    FloatingIp,
    Image,
    Network,
    Observed,
    Port,
    Rule,
    SecurityGroup,
    Server,
    ServerGroup,
    Subnet,
    Volume,
)

GONE_STATES = ("DELETED", "SOFT_DELETED", "SHELVED_OFFLOADED")
BROKEN_STATES = ("ERROR", "UNKNOWN")
# Nova action that brings a server of each status to the wanted power state.
POWER_ON_ACTIONS = {"SHUTOFF": "start", "SUSPENDED": "resume", "PAUSED": "unpause"}
# (BUILD: a server created by an interrupted run; the stop waits for the build.)
POWER_OFF_ACTIONS = {"ACTIVE": "stop", "BUILD": "stop", "PAUSED": "stop", "SUSPENDED": "stop"}


@dataclass(frozen=True)
class PowerChange:
    """A Nova power action on a server of the plan (kept, or created by this reconcile)."""

    server: DServer
    action: str  # stop | start | resume | unpause
    new: bool = False  # created by this reconcile: after its creation

    @property
    def target(self) -> str:
        return "SHUTOFF" if self.action == "stop" else "ACTIVE"


@dataclass
class Changes:
    """What a reconcile must do; ``actions`` is the human summary, in apply order."""

    vnf_instance_id: str
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # deletions (observed objects)
    delete_fips: list[FloatingIp] = field(default_factory=list)
    detach_volumes: list[tuple[Volume, str]] = field(default_factory=list)  # (volume, server id)
    delete_servers: list[Server] = field(default_factory=list)
    delete_ports: list[Port] = field(default_factory=list)
    delete_volumes: list[Volume] = field(default_factory=list)
    delete_rules: list[tuple[str, str]] = field(default_factory=list)  # (group name, rule id)
    delete_subnets: list[Subnet] = field(default_factory=list)
    delete_networks: list[Network] = field(default_factory=list)
    delete_security_groups: list[SecurityGroup] = field(default_factory=list)
    delete_server_groups: list[ServerGroup] = field(default_factory=list)
    delete_images: list[Image] = field(default_factory=list)
    # creations and updates (desired objects)
    create_networks: list[DNetwork] = field(default_factory=list)
    create_subnets: list[DNetwork] = field(default_factory=list)
    update_subnets: list[tuple[Subnet, DNetwork]] = field(default_factory=list)
    create_security_groups: list[DSecurityGroup] = field(default_factory=list)
    add_rules: list[tuple[str, Rule]] = field(default_factory=list)  # (group name, rule)
    create_server_groups: list[DServerGroup] = field(default_factory=list)
    uploads: list[DImageUpload] = field(default_factory=list)
    create_volumes: list[DVolume] = field(default_factory=list)
    create_ports: list[DPort] = field(default_factory=list)
    update_ports: list[DPort] = field(default_factory=list)
    create_servers: list[DServer] = field(default_factory=list)
    attach_volumes: list[tuple[str, str]] = field(default_factory=list)  # (volume, vnfc id)
    create_fips: list[DPort] = field(default_factory=list)
    keep_servers: list[str] = field(default_factory=list)  # vnfc ids
    # servers kept whose metadata takes the plan's software generation: (server, generation);
    # servers the reconcile's own heal token created (a package change batch that completed)
    record_servers: list[tuple[Server, str]] = field(default_factory=list)
    power: list[PowerChange] = field(default_factory=list)
    # Neutron resources kept that lack the instance's tag: (kind, id), tagged first
    tag_resources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def _addresses(port: DPort) -> str:
    return ",".join(port.addresses) or "dynamic"


def _rule_text(rule: Rule) -> str:
    direction, ether, proto, low, high, remote = rule
    ports = f" {low}-{high}" if low is not None else ""
    return f"{direction} {ether} {proto or 'any'}{ports}" + (f" from {remote}" if remote else "")


def port_differences(
    want: DPort,
    have: Port,
    network_id: str | None,
    sg_ids: dict[str, str],
    owned_sg_ids: set[str],
) -> tuple[list[str], list[str]]:
    """(reasons to replace, reasons to update) the observed port."""
    replace, update = [], []
    if network_id is None or have.network_id != network_id:
        replace.append("network changed")
    if want.mac and have.mac.lower() != want.mac:
        replace.append(f"mac {have.mac} -> {want.mac}")
    if want.addresses and have.addresses != want.addresses:
        update.append(f"addresses {','.join(have.addresses) or '-'} -> {_addresses(want)}")
    if want.security_groups:
        wanted = {sg_ids.get(n, f"new:{n}") for n in want.security_groups}
        if set(have.security_group_ids) != wanted:
            update.append("security groups " + ",".join(want.security_groups))
    elif set(have.security_group_ids) & owned_sg_ids:
        update.append("security groups -> project default")
    return replace, update


def server_differences(
    want: DServer,
    have: Server,
    attached: set[str],
    replaced_groups: set[str],
    group: ServerGroup | None,
) -> list[str]:
    """Why the observed server must be replaced (empty when it matches the plan)."""
    out = []
    if have.status in BROKEN_STATES:
        out.append(f"status {have.status}" + (f": {have.fault}" if have.fault else ""))
    if want.flavor.id not in have.flavor and want.flavor.name not in have.flavor:
        out.append(f"flavor {'/'.join(have.flavor) or '-'} -> {want.flavor.name}")
    if not want.image_upload and have.image_id and have.image_id != want.image:
        out.append(f"image {have.image_id} -> {want.image}")
    if want.server_group:
        if want.server_group in replaced_groups or group is None:
            out.append(f"server group {want.server_group} (re)created")
        elif have.id not in group.members:
            out.append(f"not a member of server group {want.server_group}")
    if want.availability_zone and have.availability_zone not in ("", want.availability_zone):
        out.append(f"availability zone {have.availability_zone} -> {want.availability_zone}")
    missing = [p for p in want.ports if p not in attached]
    if missing:
        out.append("ports not attached: " + ", ".join(missing))
    return out


def power_change(want: DServer, have: Server | None) -> PowerChange | None:
    """The power action ``have`` needs (``None``: a server about to be created)."""
    if have is None:
        return PowerChange(want, "stop", new=True) if want.power == POWER_OFF else None
    actions = POWER_OFF_ACTIONS if want.power == POWER_OFF else POWER_ON_ACTIONS
    action = actions.get(have.status)
    return PowerChange(want, action) if action else None


def _power_text(change: PowerChange, desired: Desired) -> str:
    name = change.server.name
    if change.action != "stop":
        return f"{change.action} server {name} (VNFC {change.server.vnfc_id} started)"
    how = desired.stop_type
    if how == "GRACEFUL" and desired.graceful_stop_timeout is not None:
        how += f", {desired.graceful_stop_timeout:g} s"
    when = " once created" if change.new else ""
    return f"stop server {name}{when} ({how}; VNFC {change.server.vnfc_id} stopped)"


def compute_changes(
    desired: Desired,
    obs: Observed,
    heal: list[str] | None = None,
    token: str | None = None,
) -> Changes:
    """Everything to do to turn ``obs`` into ``desired``.

    ``token`` is the digest of the reconcile's heal token (an operation): a server
    to heal that this token already created is not recreated again, and one it
    created takes the plan's software generation in its metadata. A generation
    that differs from the plan's never replaces a server by itself.
    """
    ch = Changes(desired.vnf_instance_id, warnings=list(desired.warnings))
    heal_set = vnfc_marks.heal_targets(heal, desired.servers)
    act = ch.actions.append

    # strays: a second resource of the instance with a name already taken
    for kind, items in sorted(obs.strays.items()):
        for item in items:
            act(f"delete duplicate {kind} {item.name} ({item.id})")
    _strays_into(ch, obs)

    # networks and subnets
    net_ids: dict[str, str | None] = {}
    replaced_nets: set[str] = set()
    for name, want in sorted(desired.networks.items()):
        have_net = obs.networks.get(name)
        if have_net is None:
            ch.create_networks.append(want)
            ch.create_subnets.append(want)
            act(f"create network {name} and subnet {want.subnet_name} ({want.cidr})")
            net_ids[name] = None
            continue
        net_ids[name] = have_net.id
        sub = obs.subnets.get(want.subnet_name)
        if sub is None:
            ch.create_subnets.append(want)
            act(f"create subnet {want.subnet_name} ({want.cidr})")
            replaced_nets.add(name)
        elif (
            sub.cidr != want.cidr
            or sub.ip_version != want.ip_version
            or sub.network_id != have_net.id
        ):
            ch.delete_subnets.append(sub)
            ch.create_subnets.append(want)
            replaced_nets.add(name)
            act(f"replace subnet {sub.name} ({sub.cidr} -> {want.cidr}, with its ports)")
        elif sub.gateway_ip != want.gateway_ip or sub.enable_dhcp != want.dhcp:
            ch.update_subnets.append((sub, want))
            act(
                f"update subnet {sub.name} (gateway {sub.gateway_ip or 'none'} -> "
                f"{want.gateway_ip or 'none'}, dhcp {sub.enable_dhcp} -> {want.dhcp})"
            )
    wanted_subnets = {n.subnet_name for n in desired.networks.values()}
    for name, sub in sorted(obs.subnets.items()):
        if name not in wanted_subnets:
            ch.delete_subnets.append(sub)
            act(f"delete subnet {name}")
    for name, have_net in sorted(obs.networks.items()):
        if name not in desired.networks:
            ch.delete_networks.append(have_net)
            act(f"delete network {name}")
    for key, ext in desired.ext_networks.items():
        net_ids[key] = ext.id

    # security groups
    sg_ids: dict[str, str] = {}
    owned_sg_ids = {g.id for g in obs.security_groups.values()}
    for name, want_sg in sorted(desired.security_groups.items()):
        have_sg = obs.security_groups.get(name)
        if have_sg is None:
            ch.create_security_groups.append(want_sg)
            act(
                f"create security group {name} ("
                + "; ".join(_rule_text(r) for r in want_sg.rules)
                + ")"
            )
            continue
        sg_ids[name] = have_sg.id
        have_rules = {}
        for rule_id, rule in have_sg.rules:
            if rule in have_rules or rule not in want_sg.rules:
                ch.delete_rules.append((name, rule_id))
                act(f"delete rule {_rule_text(rule)} of security group {name}")
            else:
                have_rules[rule] = rule_id
        for rule in want_sg.rules:
            if rule not in have_rules:
                ch.add_rules.append((name, rule))
                act(f"add rule {_rule_text(rule)} to security group {name}")
    for name, have_sg in sorted(obs.security_groups.items()):
        if name not in desired.security_groups:
            ch.delete_security_groups.append(have_sg)
            act(f"delete security group {name}")

    # server groups
    replaced_groups: set[str] = set()
    for name, want_g in sorted(desired.server_groups.items()):
        have_g = obs.server_groups.get(name)
        if have_g is not None and have_g.policy != want_g.policy:
            ch.delete_server_groups.append(have_g)
            act(f"delete server group {name} (policy {have_g.policy} -> {want_g.policy})")
            have_g = None
        if have_g is None:
            ch.create_server_groups.append(want_g)
            replaced_groups.add(name)
            act(f"create server group {name} (policy {want_g.policy})")
    for name, have_g in sorted(obs.server_groups.items()):
        if name not in desired.server_groups:
            ch.delete_server_groups.append(have_g)
            act(f"delete server group {name}")

    # images uploaded from the package
    for name, upload in sorted(desired.uploads.items()):
        if name not in obs.images:
            ch.uploads.append(upload)
            act(f"upload image {name} from {upload.path}")
    for name, img in sorted(obs.images.items()):
        if name not in desired.uploads and not any(
            s.image == img.id for s in desired.servers.values()
        ):
            ch.delete_images.append(img)
            act(f"delete image {name}")

    # ports
    replaced_ports: set[str] = set()
    for name, want_p in sorted(desired.ports.items()):
        have_p = obs.ports.get(name)
        net_id = net_ids.get(want_p.network)
        if have_p is not None:
            replace, update = port_differences(want_p, have_p, net_id, sg_ids, owned_sg_ids)
            if want_p.network in replaced_nets:
                replace.append("subnet replaced")
            if replace:
                ch.delete_ports.append(have_p)
                act(f"delete port {name} ({'; '.join(replace)})")
                have_p = None
            elif update:
                ch.update_ports.append(want_p)
                act(f"update port {name} ({'; '.join(update)})")
        if have_p is None:
            ch.create_ports.append(want_p)
            replaced_ports.add(name)
            act(f"create port {name} ({_addresses(want_p)}, mac {want_p.mac or 'auto'})")
    for name, have_p in sorted(obs.ports.items()):
        if name not in desired.ports:
            ch.delete_ports.append(have_p)
            act(f"delete port {name}")

    # servers
    attached: dict[str, set[str]] = {}
    for p in obs.ports.values():
        if p.device_id and p.name not in replaced_ports:
            attached.setdefault(p.device_id, set()).add(p.name)
    new_servers: set[str] = set()
    for vnfc_id, want_s in sorted(desired.servers.items()):
        have_s = obs.servers.get(want_s.name)
        if have_s is not None and (have_s.status in GONE_STATES or have_s.task_state == "deleting"):
            ch.delete_servers.append(have_s)
            act(f"delete server {want_s.name} (status {have_s.status})")
            have_s = None
        elif have_s is not None:
            group = obs.server_groups.get(want_s.server_group or "")
            reasons = server_differences(
                want_s, have_s, attached.get(have_s.id, set()), replaced_groups, group
            )
            mine = vnfc_marks.made_by(token, have_s.token)
            if vnfc_id in heal_set and not mine:
                reasons.insert(0, "heal")
            if reasons:
                ch.delete_servers.append(have_s)
                act(f"delete server {want_s.name} ({'; '.join(reasons)})")
                have_s = None
            else:
                ch.keep_servers.append(vnfc_id)
                generation = want_s.generation
                if mine and generation is not None and generation != have_s.generation:
                    ch.record_servers.append((have_s, generation))
                    act(
                        f"record software generation {generation} on server {want_s.name} "
                        f"(was {have_s.generation or 'unknown'})"
                    )
        if have_s is None:
            want_s = dataclasses.replace(want_s, token=token)
            ch.create_servers.append(want_s)
            new_servers.add(vnfc_id)
            act(
                f"create server {want_s.name} (flavor {want_s.flavor.name}, "
                f"ports {', '.join(want_s.ports) or 'none'})"
            )
        power = power_change(want_s, have_s)
        if power is not None:
            ch.power.append(power)
    wanted_names = {s.name for s in desired.servers.values()}
    for name, have_s in sorted(obs.servers.items()):
        if name not in wanted_names:
            ch.delete_servers.append(have_s)
            act(f"delete server {name}")
    deleted_servers = {s.id for s in ch.delete_servers}
    kept_server_ids = {obs.servers[desired.servers[v].name].id: v for v in ch.keep_servers}

    # volumes
    for name, want_v in sorted(desired.volumes.items()):
        have_v = obs.volumes.get(name)
        if have_v is None:
            ch.create_volumes.append(want_v)
            ch.attach_volumes.append((name, want_v.vnfc_id))
            act(f"create volume {name} ({want_v.size} GB) and attach it to {want_v.vnfc_id}")
            continue
        if have_v.size < want_v.size:
            ch.warnings.append(
                f"volume {name} has {have_v.size} GB, the plan asks {want_v.size} GB (not resized)"
            )
        target = None if want_v.vnfc_id in new_servers else desired.servers[want_v.vnfc_id].name
        target_id = obs.servers[target].id if target and target in obs.servers else None
        live = [s for s in have_v.attached_to if s not in deleted_servers]
        for server_id in live:
            if server_id != target_id:
                ch.detach_volumes.append((have_v, server_id))
                act(f"detach volume {name} from server {server_id}")
        if target_id is None or target_id not in have_v.attached_to:
            ch.attach_volumes.append((name, want_v.vnfc_id))
            act(f"attach volume {name} to {want_v.vnfc_id}")
    for name, have_v in sorted(obs.volumes.items()):
        if name not in desired.volumes:
            for server_id in have_v.attached_to:
                if server_id in kept_server_ids:
                    ch.detach_volumes.append((have_v, server_id))
            ch.delete_volumes.append(have_v)
            act(f"delete volume {name}")

    # floating IPs
    port_ids = {
        p.id: n for n, p in obs.ports.items() if n in desired.ports and n not in replaced_ports
    }
    has_fip: set[str] = set()
    for fip in obs.floating_ips:
        port_name = port_ids.get(fip.port_id, "")
        want_fp = desired.ports.get(port_name)
        if want_fp is None or want_fp.floating_network != fip.network_id or port_name in has_fip:
            ch.delete_fips.append(fip)
            act(f"delete floating IP {fip.address}")
        else:
            has_fip.add(port_name)
    for name, want_p in sorted(desired.ports.items()):
        if want_p.floating_network and name not in has_fip:
            ch.create_fips.append(want_p)
            act(f"create floating IP for port {name}")
    _tag_untagged(ch, obs)
    for power in ch.power:  # the servers kept: beside the creations; new ones: last
        act(_power_text(power, desired))
    return ch


def _tag_untagged(ch: Changes, obs: Observed) -> None:
    """Tag the kept Neutron resources found by description only (a creation whose answer
    or tag call was lost): from then on they are the instance's like the others."""
    if not obs.untagged:
        return
    doomed: list[Any] = [
        *ch.delete_networks,
        *ch.delete_subnets,
        *ch.delete_ports,
        *ch.delete_security_groups,
        *ch.delete_fips,
    ]
    deleted = {r.id for r in doomed}
    tables: dict[str, list[Any]] = {
        "networks": list(obs.networks.values()),
        "subnets": list(obs.subnets.values()),
        "ports": list(obs.ports.values()),
        "security groups": list(obs.security_groups.values()),
        "floating ips": list(obs.floating_ips),
    }
    for kind, ids in sorted(obs.untagged.items()):
        for item in tables.get(kind, []):
            if item.id in ids and item.id not in deleted:
                ch.tag_resources.append((kind, item.id))
                label = getattr(item, "name", "") or getattr(item, "address", "") or item.id
                ch.actions.append(
                    f"tag {kind.removesuffix('s')} {label} (found by its description: "
                    "its creation was cut short before the tag)"
                )


def _strays_into(ch: Changes, obs: Observed) -> None:
    for kind, items in obs.strays.items():
        tables: dict[str, list[Any]] = {
            "server": ch.delete_servers,
            "port": ch.delete_ports,
            "volume": ch.delete_volumes,
            "subnet": ch.delete_subnets,
            "network": ch.delete_networks,
            "security group": ch.delete_security_groups,
            "server group": ch.delete_server_groups,
            "image": ch.delete_images,
        }
        target = tables.get(kind)
        if target is not None:
            target.extend(items)


def removal_changes(vnf_instance_id: str, obs: Observed) -> Changes:
    """Delete everything ``obs`` holds (terminate)."""
    empty = Desired(
        vnf_instance_id=vnf_instance_id,
        prefix="",
        networks={},
        ports={},
        security_groups={},
        server_groups={},
        servers={},
        volumes={},
        uploads={},
        ext_networks={},
        plan={},
    )
    return compute_changes(empty, obs)
