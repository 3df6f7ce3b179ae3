# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""State model of the ``openstack`` VIM and the desired state derived from a plan.

Observed resources are small frozen dataclasses built from SDK objects by
``discover.py``; the desired state is built here from the plan plus the VIM's
catalogue (flavors, images, external networks), so that flavour and image
choices are pure functions the unit tests drive with fakes.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import math
import os
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.stop import GRACEFUL, stop_settings

# A rule: (direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix)
Rule = tuple[str, str, "str | None", "int | None", "int | None", "str | None"]
DEFAULT_EGRESS: tuple[Rule, ...] = (
    ("egress", "IPv4", None, None, None, None),
    ("egress", "IPv6", None, None, None, None),
)


# Power states of a VNFC (the plan's ``powerState``; operate STOPPED -> "off").
POWER_ON = "on"
POWER_OFF = "off"


# -- observed ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int  # MB
    disk: int  # GB


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    status: str = "active"
    owned: bool = False  # uploaded by the driver for this instance
    created_at: str = ""


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    subnet_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    network_id: str
    cidr: str
    ip_version: int = 4
    gateway_ip: str | None = None
    enable_dhcp: bool = False


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    network_id: str
    mac: str
    fixed_ips: tuple[tuple[str, str], ...]  # (subnet id, address)
    device_id: str = ""
    security_group_ids: tuple[str, ...] = ()
    status: str = "DOWN"

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(sorted(a for _s, a in self.fixed_ips))


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    rules: tuple[tuple[str, Rule], ...] = ()  # (rule id, rule)


@dataclass(frozen=True)
class ServerGroup:
    id: str
    name: str
    policy: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str
    flavor: tuple[str, ...]  # every name/id the server reports for its flavor
    image_id: str
    availability_zone: str = ""
    vnfc_id: str = ""
    task_state: str = ""
    fault: str = ""
    generation: str | None = None  # software generation it records (None: unknown)
    token: str | None = None  # digest of the heal token of the reconcile that created it


@dataclass(frozen=True)
class Volume:
    id: str
    name: str
    size: int
    status: str
    vnfc_id: str = ""
    attached_to: tuple[str, ...] = ()  # server ids


@dataclass(frozen=True)
class FloatingIp:
    id: str
    address: str
    port_id: str
    network_id: str


@dataclass
class Catalog:
    """VIM-wide facts the desired state depends on (not owned by the instance)."""

    flavors: list[Flavor] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    ext_networks: dict[str, Network] = field(default_factory=dict)  # plan ref -> network
    floating_networks: dict[str, Network] = field(default_factory=dict)  # ref -> network
    has_volumes: bool = True
    default_security_group: str | None = None


@dataclass
class Observed:
    """Everything of one instance found in the VIM, by name (duplicates in ``strays``)."""

    networks: dict[str, Network] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    ports: dict[str, Port] = field(default_factory=dict)
    security_groups: dict[str, SecurityGroup] = field(default_factory=dict)
    server_groups: dict[str, ServerGroup] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    floating_ips: list[FloatingIp] = field(default_factory=list)
    images: dict[str, Image] = field(default_factory=dict)  # owned (uploaded) images
    # resources owned by the instance that a name maps to twice: kind -> list
    strays: dict[str, list[Any]] = field(default_factory=dict)
    # Neutron resources found by the description their creation sets but without the tag
    # (the creation's answer, or the tag call after it, was lost): kind -> ids
    untagged: dict[str, set[str]] = field(default_factory=dict)


def add_observed(table: dict[str, Any], strays: dict[str, list[Any]], kind: str, item: Any) -> None:
    """Index ``item`` by name; a second one with the same name is a stray (deleted)."""
    name = item.name
    if name in table:
        strays.setdefault(kind, []).append(item)
    else:
        table[name] = item


# -- desired -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DNetwork:
    vl_id: str
    name: str
    subnet_name: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    dhcp: bool
    mtu: int | None  # set only when the plan asks less than 1500


@dataclass(frozen=True)
class DPort:
    name: str
    vnfc_id: str
    cpd_id: str
    network: str  # internal VL id, or "ext:<ext VL id>"
    addresses: tuple[str, ...]  # sorted; () = allocated by Neutron
    mac: str
    security_groups: tuple[str, ...]  # our group names; () = the project's default
    floating_network: str | None = None  # network id to take a floating IP from
    ext_cpd_id: str | None = None
    ext_vl_id: str | None = None


@dataclass(frozen=True)
class DSecurityGroup:
    name: str
    cpd_id: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class DServerGroup:
    name: str
    policy: str


@dataclass(frozen=True)
class DImageUpload:
    name: str
    path: str
    disk_format: str
    container_format: str


@dataclass(frozen=True)
class DServer:
    vnfc_id: str
    vdu_id: str
    name: str
    flavor: Flavor
    image: str  # image id, or the name of an image to upload (``image_upload``)
    ports: tuple[str, ...]  # port names in CP order
    volumes: tuple[str, ...]
    server_group: str | None = None
    availability_zone: str | None = None
    user_data: str | None = None  # base64
    config_drive: bool = False
    image_upload: bool = False
    power: str = POWER_ON  # the plan's powerState: POWER_ON -> ACTIVE, POWER_OFF -> SHUTOFF
    generation: str | None = None  # the plan's softwareGeneration (None: unknown)
    token: str | None = None  # set by the diff on a server it creates (heal token digest)


@dataclass(frozen=True)
class DVolume:
    name: str
    vnfc_id: str
    storage_id: str
    size: int


@dataclass
class Desired:
    vnf_instance_id: str
    prefix: str
    networks: dict[str, DNetwork]  # by network name
    ports: dict[str, DPort]
    security_groups: dict[str, DSecurityGroup]
    server_groups: dict[str, DServerGroup]
    servers: dict[str, DServer]  # by vnfc id
    volumes: dict[str, DVolume]
    uploads: dict[str, DImageUpload]
    ext_networks: dict[str, Network]  # "ext:<ext VL id>" -> network
    plan: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    stop_type: str = GRACEFUL
    graceful_stop_timeout: float | None = None  # seconds; None = the driver's timeout


# -- plan -> desired -----------------------------------------------------------------------
def _list(plan: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = plan.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise VimError(f"plan: '{key}' must be a list of mappings")
    return value


def _find(items: list[Flavor] | list[Image], ref: str) -> Any:
    for item in items:
        if item.id == ref:
            return item
    named = [i for i in items if i.name == ref]
    return named[0] if named else None


def pick_flavor(vnfc: dict[str, Any], flavors: list[Flavor], flavour_map: dict[str, Any]) -> Flavor:
    """The plan's hint if the VIM has it, else ``flavourMap``, else the smallest that fits."""
    vnfc_id = str(vnfc.get("id"))
    compute = vnfc.get("compute") or {}
    hint = compute.get("flavourHint")
    if hint:
        found = _find(flavors, str(hint))
        if found is not None:
            return found  # type: ignore[no-any-return]
    vdu_id = str(vnfc.get("vduId"))
    mapped = flavour_map.get(vdu_id) or (flavour_map.get(str(hint)) if hint else None)
    if mapped:
        found = _find(flavors, str(mapped))
        if found is None:
            raise VimError(
                f"VNFC {vnfc_id} (server {vnfc.get('name')}): flavourMap names flavor "
                f"{mapped!r}, which the VIM does not have"
            )
        return found  # type: ignore[no-any-return]
    vcpu = math.ceil(float(compute.get("numVirtualCpu") or 1))
    ram = math.ceil(float(compute.get("virtualMemSizeMb") or 0))
    disk = math.ceil(float(compute.get("localStorageGb") or 0))
    fits = [f for f in flavors if f.vcpus >= vcpu and f.ram >= ram and f.disk >= disk]
    if not fits:
        why = f"flavourHint {hint!r} not found; " if hint else ""
        raise VimError(
            f"VNFC {vnfc_id} (server {vnfc.get('name')}): {why}no flavor of the VIM has "
            f"{vcpu} vCPU, {ram} MB RAM and {disk} GB disk (give a flavourMap entry)"
        )
    return min(fits, key=lambda f: (f.vcpus, f.ram, f.disk, f.name))


def pick_image(
    vnfc: dict[str, Any],
    images: list[Image],
    image_map: dict[str, Any],
    package_dir: str | None,
    name_prefix: str,
) -> tuple[str, DImageUpload | None]:
    """Image id for the VNFC (or the name of an upload from the package)."""
    vnfc_id = str(vnfc.get("id"))
    vdu_id = str(vnfc.get("vduId"))
    image = vnfc.get("image") or {}
    active = [i for i in images if i.status == "active"]
    name = str(image.get("name") or "")
    ref = image.get("vimImageId") or image_map.get(vdu_id) or (name and image_map.get(name))
    if ref:
        found = _find(active, str(ref))
        if found is None:
            raise VimError(f"VNFC {vnfc_id}: image {ref!r} is not an active image of the VIM")
        return str(found.id), None
    if not image:
        raise VimError(
            f"VNFC {vnfc_id}: VDU {vdu_id} has no software image; give one in the VIM "
            "connection's imageMap"
        )
    named = sorted((i for i in active if i.name == name), key=lambda i: (i.created_at, i.id))
    if named:
        return named[-1].id, None
    upload_name = naming.image_name(name_prefix, vdu_id)
    owned = [i for i in active if i.owned and i.name == upload_name]
    if owned:
        return owned[0].id, None
    if image.get("file") and package_dir:
        root = os.path.realpath(package_dir)
        path = os.path.realpath(os.path.join(root, str(image["file"])))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            raise VimError(f"VNFC {vnfc_id}: image file {image['file']!r} is not in the package")
        upload = DImageUpload(
            upload_name,
            path,
            str(image.get("diskFormat") or "qcow2"),
            str(image.get("containerFormat") or "bare"),
        )
        return upload_name, upload
    raise VimError(
        f"VNFC {vnfc_id}: image {name!r} not found in the VIM (give image.vimImageId, "
        "an imageMap entry in the VIM connection, or the package directory with the image file)"
    )


def boot_data(
    vnfc_id: str, data: object, package_dir: str | None
) -> tuple[str | None, bool, dict[str, str]]:
    """(base64 user data, config drive, extra server metadata) from the VDU's boot_data."""
    if data is None or data == {}:
        return None, False, {}
    text: str | None = None
    config_drive = False
    metadata: dict[str, str] = {}
    if isinstance(data, str):
        text = data
    elif isinstance(data, dict):
        text = data.get("userData") or data.get("user_data")
        config_drive = bool(data.get("configDrive") or data.get("config_drive"))
        content = data.get("content_or_file_data") or {}
        if isinstance(content, dict):
            if content.get("content"):
                text = str(content["content"])
            elif content.get("source_path") and package_dir:
                root = os.path.realpath(package_dir)
                path = os.path.realpath(os.path.join(root, str(content["source_path"])))
                if not path.startswith(root + os.sep) or not os.path.isfile(path):
                    raise VimError(f"VNFC {vnfc_id}: boot data file is not in the package")
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        kvp = (
            (data.get("kvp_data") or {}).get("data")
            if isinstance(data.get("kvp_data"), dict)
            else None
        )
        if isinstance(kvp, dict):
            metadata = {str(k)[:255]: str(v)[:255] for k, v in kvp.items()}
        vsp = data.get("vim_specific_properties") or {}
        props = vsp.get("properties") if isinstance(vsp, dict) else None
        if isinstance(props, dict) and str(props.get("config_drive", "")).lower() in ("true", "1"):
            config_drive = True
    else:
        raise VimError(f"VNFC {vnfc_id}: bootData must be a string or a mapping")
    encoded = base64.b64encode(str(text).encode()).decode() if text is not None else None
    return encoded, config_drive, metadata


def _rule(entry: dict[str, Any]) -> Rule:
    direction = str(entry.get("direction") or "ingress").lower()
    ether = "IPv6" if str(entry.get("etherType") or "ipv4").lower() == "ipv6" else "IPv4"
    proto = entry.get("protocol")
    protocol = None if proto in (None, "", "any") else str(proto).lower()
    low, high = entry.get("portRangeMin"), entry.get("portRangeMax")
    if protocol not in ("tcp", "udp", "sctp"):
        low = high = None
    elif low is not None and high is None:
        high = low
    remote = entry.get("remoteIpPrefix")
    return (
        direction,
        ether,
        protocol,
        int(low) if low is not None else None,
        int(high) if high is not None else None,
        str(remote) if remote else None,
    )


def security_groups(plan: dict[str, Any], name_prefix: str) -> dict[str, DSecurityGroup]:
    """One group per cpd named by a rule; default egress kept unless the plan restricts egress."""
    by_cpd: dict[str, set[Rule]] = {}
    for entry in _list(plan, "securityGroupRules"):
        for cpd in entry.get("cpdIds") or []:
            by_cpd.setdefault(str(cpd), set()).add(_rule(entry))
    out = {}
    for cpd, rules in sorted(by_cpd.items()):
        if not any(r[0] == "egress" for r in rules):
            rules |= set(DEFAULT_EGRESS)
        name = naming.security_group_name(name_prefix, cpd)
        out[name] = DSecurityGroup(name, cpd, tuple(sorted(rules, key=repr)))
    return out


def _zone_for(rule: dict[str, Any], index: int, zones: list[str]) -> str | None:
    if not zones:
        return None
    if rule.get("policy") == "affinity":
        return zones[0]
    return zones[index % len(zones)]


def desired_state(
    plan: dict[str, Any],
    vim: dict[str, Any],
    catalog: Catalog,
    package_dir: str | None = None,
) -> Desired:
    """Translate a plan into OpenStack resources (validating it, resolving flavors and images)."""
    if not isinstance(plan, dict):
        raise VimError("plan must be a mapping")
    inst = naming.check_instance_id(plan.get("vnfInstanceId"))
    prefix = naming.prefix(inst)
    if plan.get("namePrefix") not in (None, prefix):
        raise VimError(f"plan: namePrefix {plan.get('namePrefix')!r} is not {prefix!r}")
    warnings: list[str] = []
    networks: dict[str, DNetwork] = {}
    vl_names: dict[str, str] = {}
    for vl in _list(plan, "virtualLinks"):
        vl_id = str(vl.get("id"))
        name = str(vl.get("name") or f"{prefix}-{vl_id}")
        try:
            net = ipaddress.ip_network(str(vl.get("cidr")), strict=False)
        except ValueError as exc:
            raise VimError(f"plan: virtual link {vl_id}: invalid cidr {vl.get('cidr')!r}") from exc
        mtu = vl.get("mtu")
        networks[name] = DNetwork(
            vl_id=vl_id,
            name=name,
            subnet_name=naming.subnet_name(name),
            cidr=str(net),
            ip_version=net.version,
            gateway_ip=str(vl["gatewayIp"]) if vl.get("gatewayIp") else None,
            dhcp=bool(vl.get("dhcpEnabled")),
            mtu=int(mtu) if mtu and int(mtu) < 1500 else None,
        )
        vl_names[vl_id] = name

    ext_networks: dict[str, Network] = {}
    floating: dict[str, str] = {}
    for evl in _list(plan, "externalVirtualLinks"):
        evl_id = str(evl.get("id"))
        ref = str(evl.get("resourceId") or "")
        found = catalog.ext_networks.get(ref)
        if found is None:
            raise VimError(
                f"plan: external virtual link {evl_id}: network {ref!r} not found in the VIM"
            )
        ext_networks[f"ext:{evl_id}"] = found
        fip = evl.get("floatingIp")
        if fip:
            fref = str(fip) if isinstance(fip, str) else str(vim.get("floatingIpNetwork") or "")
            fnet = catalog.floating_networks.get(fref)
            if fnet is None:
                raise VimError(
                    f"plan: external virtual link {evl_id}: no floating IP network "
                    f"{fref or '(router:external)'!r} in the VIM"
                )
            floating[evl_id] = fnet.id

    sgs = security_groups(plan, prefix)
    sg_of = {g.cpd_id: g.name for g in sgs.values()}

    zones = [str(z) for z in vim.get("availabilityZones") or []]
    server_groups: dict[str, DServerGroup] = {}
    rule_of: dict[str, dict[str, Any]] = {}
    soft = bool(vim.get("softPlacementPolicies"))
    for rule in _list(plan, "serverGroups"):
        name = str(rule.get("name"))
        policy = str(rule.get("policy") or "anti-affinity")
        if policy not in ("affinity", "anti-affinity"):
            raise VimError(f"plan: server group {name}: unknown policy {policy!r}")
        scope = str(rule.get("scope") or "nfvi-node")
        if scope == "nfvi-node":
            policy = f"soft-{policy}" if soft else policy
            server_groups[name] = DServerGroup(name, policy)
        else:
            rule_of[name] = rule
            how = (
                f"spread over availability zones {', '.join(zones)}"
                if zones and policy == "anti-affinity"
                else f"placed in availability zone {zones[0]}"
                if zones
                else "not enforced (no availabilityZones in the VIM connection)"
            )
            warnings.append(f"placement {name} ({policy}, scope {scope}): {how}")

    images = list(catalog.images)
    flavour_map = vim.get("flavourMap") or {}
    image_map = vim.get("imageMap") or {}
    if not isinstance(flavour_map, dict) or not isinstance(image_map, dict):
        raise VimError("VIM connection: flavourMap and imageMap must be mappings")
    ports: dict[str, DPort] = {}
    servers: dict[str, DServer] = {}
    uploads: dict[str, DImageUpload] = {}
    for vnfc in _list(plan, "vnfcs"):
        vnfc_id = str(vnfc.get("id"))
        if vnfc_id in servers:
            raise VimError(f"plan: vnfc id {vnfc_id!r} is duplicated")
        port_names = []
        for cp in sorted(
            vnfc.get("cps") or [], key=lambda c: (c.get("order") or 0, str(c.get("cpdId")))
        ):
            cpd_id = str(cp.get("cpdId"))
            evl_id = cp.get("extVirtualLinkId")
            if evl_id:
                network = f"ext:{evl_id}"
                if network not in ext_networks:
                    raise VimError(
                        f"plan: {vnfc_id}/{cpd_id}: unknown external virtual link {evl_id!r}"
                    )
            elif cp.get("virtualLinkId"):
                if str(cp["virtualLinkId"]) not in vl_names:
                    raise VimError(
                        f"plan: {vnfc_id}/{cpd_id}: unknown virtual link {cp['virtualLinkId']!r}"
                    )
                network = vl_names[str(cp["virtualLinkId"])]
            else:
                continue  # an external CP the request does not bind: no port
            name = str(cp.get("name") or f"{prefix}-{vnfc_id}-{cpd_id}")
            ports[name] = DPort(
                name=name,
                vnfc_id=vnfc_id,
                cpd_id=cpd_id,
                network=network,
                addresses=tuple(sorted(str(a) for a in cp.get("ipAddresses") or [])),
                # a shared network's owner (or admin) only may choose MACs on it
                mac=str(cp.get("macAddress") or "").lower()
                if not evl_id or vim.get("externalMacAddresses")
                else "",
                security_groups=(sg_of[cpd_id],) if cpd_id in sg_of else (),
                floating_network=floating.get(str(evl_id)) if evl_id else None,
                ext_cpd_id=cp.get("extCpdId") or None,
                ext_vl_id=str(evl_id) if evl_id else None,
            )
            port_names.append(name)
        flavor = pick_flavor(vnfc, catalog.flavors, flavour_map)
        image_id, upload = pick_image(vnfc, images, image_map, package_dir, prefix)
        if upload is not None:
            uploads[upload.name] = upload
        user_data, config_drive, _meta = boot_data(vnfc_id, vnfc.get("bootData"), package_dir)
        power = vnfc.get("powerState") or POWER_ON  # plans from before operate have none
        if power not in (POWER_ON, POWER_OFF):
            raise VimError(f"plan: {vnfc_id}: powerState must be 'on' or 'off', got {power!r}")
        group = vnfc.get("serverGroup")
        zone = None
        if group in rule_of:
            zone = _zone_for(rule_of[str(group)], int(vnfc.get("index") or 0), zones)
            group = None
        elif group and group not in server_groups:
            raise VimError(f"plan: {vnfc_id}: unknown server group {group!r}")
        servers[vnfc_id] = DServer(
            vnfc_id=vnfc_id,
            vdu_id=str(vnfc.get("vduId")),
            name=str(vnfc.get("name") or f"{prefix}-{vnfc_id}"),
            flavor=flavor,
            image=image_id,
            ports=tuple(port_names),
            volumes=tuple(str(v) for v in vnfc.get("volumes") or []),
            server_group=str(group) if group else None,
            availability_zone=zone
            or (str(vim["availabilityZone"]) if vim.get("availabilityZone") else None),
            user_data=user_data,
            config_drive=config_drive,
            image_upload=upload is not None,
            power=str(power),
            generation=vnfc_marks.check_generation(vnfc.get("softwareGeneration"), vnfc_id),
        )
    volumes: dict[str, DVolume] = {}
    plan_volumes = _list(plan, "volumes")
    if plan_volumes and not catalog.has_volumes:
        warnings.append(
            f"the VIM has no block storage service (Cinder): {len(plan_volumes)} volume(s) "
            "of the plan not created"
        )
    elif plan_volumes:
        for vol in plan_volumes:
            name = str(vol.get("name"))
            vnfc_id = str(vol.get("vnfcId"))
            if vnfc_id not in servers:
                raise VimError(f"plan: volume {name}: unknown VNFC {vnfc_id!r}")
            volumes[name] = DVolume(
                name,
                vnfc_id,
                str(vol.get("storageId")),
                max(1, math.ceil(float(vol.get("sizeGb") or 1))),
            )
    if not catalog.has_volumes:
        servers = {k: dataclasses.replace(s, volumes=()) for k, s in servers.items()}
    stop_type, stop_timeout = stop_settings(plan)
    return Desired(
        vnf_instance_id=inst,
        prefix=prefix,
        networks=networks,
        ports=ports,
        security_groups=sgs,
        server_groups=server_groups,
        servers=servers,
        volumes=volumes,
        uploads=uploads,
        ext_networks=ext_networks,
        plan=plan,
        warnings=warnings,
        stop_type=stop_type,
        graceful_stop_timeout=stop_timeout,
    )
