# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The planner: VNF model + request → desired-state resource plan.

A pure function. The same model and request give a byte-identical plan
(see docs/plan-format.md for its shape). VIM drivers reconcile it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.ipam import (
    LinkAddresses,
    Member,
    default_cidrs,
    mac_address,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (
    software_generation,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import Flavour, VnfModel

PLAN_VERSION = 1
DEFAULT_MTU = 1500


@dataclass
class PlanRequest:
    """What a lifecycle request asks of the planner."""

    vnf_instance_id: str
    flavour_id: str
    instantiation_level_id: str | None = None
    scale_levels: dict[str, int] | None = None  # aspect -> level; overrides the level's
    ext_virtual_links: list[dict[str, Any]] = field(
        default_factory=list
    )  # SOL003 ExtVirtualLinkData
    vim_mapping: dict[str, Any] = field(default_factory=dict)  # {images: {...}, flavours: {...}}
    # VNFCs to keep powered off (operate STOPPED): True for all, or a list of VNFC ids.
    power_off: list[str] | bool = False


def short_id(vnf_instance_id: str) -> str:
    """8 hex characters derived from the instance id, for short VIM names."""
    return hashlib.sha256(vnf_instance_id.encode()).hexdigest()[:8]


def _scale_levels(flavour: Flavour, req: PlanRequest) -> tuple[str | None, dict[str, int]]:
    level_id = req.instantiation_level_id
    if level_id is None and req.scale_levels is None:
        level_id = flavour.default_level
    level = None
    if level_id is not None:
        level = flavour.level(level_id)
        if level is None:
            known = ", ".join(lv.id for lv in flavour.instantiation_levels) or "none"
            raise PlanError(
                f"flavour {flavour.id!r} has no instantiation level {level_id!r} (known: {known})"
            )
        _refuse_defect(flavour, f"level:{level_id}", f"instantiationLevelId {level_id!r}")
    levels = {a.id: 0 for a in flavour.scaling_aspects}
    if level is not None:
        levels.update(level.scale_info)
    for aspect_id, value in (req.scale_levels or {}).items():
        aspect = flavour.aspect(aspect_id)
        if aspect is None:
            _refuse_defect(flavour, f"aspect:{aspect_id}", f"aspectId {aspect_id!r}")
            known = ", ".join(a.id for a in flavour.scaling_aspects) or "none"
            raise PlanError(
                f"flavour {flavour.id!r} has no scaling aspect {aspect_id!r} (known: {known})"
            )
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 0 <= value <= aspect.max_scale_level
        ):
            raise PlanError(
                f"aspect {aspect_id!r}: scale level {value!r} is outside 0..{aspect.max_scale_level}"
            )
        levels[aspect_id] = value
    return level_id, levels


def vnfc_counts(
    flavour: Flavour, level_id: str | None, levels: dict[str, int], explicit: bool
) -> dict[str, int]:
    """VNFCs per VDU for a level (its own counts) or for aspect levels."""
    level = flavour.level(level_id) if level_id and not explicit else None
    counts: dict[str, int] = {}
    for vdu in flavour.vdus:
        if level is not None and vdu.id in level.vdu_instances:
            count = level.vdu_instances[vdu.id]
        else:
            count = flavour.initial_deltas.get(vdu.id, vdu.min_instances) + sum(
                a.instances_added(vdu.id, levels.get(a.id, 0)) for a in flavour.scaling_aspects
            )
        if not vdu.min_instances <= count <= vdu.max_instances:
            raise PlanError(
                f"VDU {vdu.id!r} would have {count} VNFCs, outside its limits "
                f"{vdu.min_instances}..{vdu.max_instances}"
            )
        counts[vdu.id] = count
    return counts


def _refuse_defect(flavour: Flavour, part: str, field: str) -> None:
    """The request uses a part of the VNFD with a dangling reference: say where (FILE:LINE)."""
    defect = flavour.defects.get(part)
    if defect:
        raise PlanError(f"{field} uses a defect of the VNFD: {defect}")


def _ext_bindings(
    flavour: Flavour, ext_vls: list[dict[str, Any]]
) -> dict[str, tuple[str, list[list[str]]]]:
    """ext cpd id -> (ext VL id, fixed addresses per VNFC index) from the request."""
    known = {cp.id for cp in flavour.ext_cps}
    out: dict[str, tuple[str, list[list[str]]]] = {}
    for n, ext_vl in enumerate(ext_vls):
        vl_id = ext_vl.get("id")
        if not isinstance(vl_id, str):
            raise PlanError(f"extVirtualLinks[{n}].id is missing")
        for k, ext_cp in enumerate(ext_vl.get("extCps") or []):
            cpd = ext_cp.get("cpdId") if isinstance(ext_cp, dict) else None
            if cpd not in known:
                field = f"extVirtualLinks[{n}].extCps[{k}].cpdId {cpd!r}"
                _refuse_defect(flavour, f"extCp:{cpd}", field)
                raise PlanError(
                    f"extVirtualLinks[{n}].extCps[{k}].cpdId {cpd!r} is not an external CP of "
                    f"flavour {flavour.id!r} (known: {', '.join(sorted(known)) or 'none'})"
                )
            per_vnfc: list[list[str]] = []
            config = ext_cp.get("cpConfig") or {}
            # cpConfig keys map to VNFC indices in natural order (cp2 before cp10).
            for key in sorted(config, key=_natural) if isinstance(config, dict) else []:
                addrs: list[str] = []
                for proto in (config[key] or {}).get("cpProtocolData") or []:
                    ipoe = (proto or {}).get("ipOverEthernet") or {}
                    for ip in ipoe.get("ipAddresses") or []:
                        addrs.extend(str(a) for a in (ip or {}).get("fixedAddresses") or [])
                per_vnfc.append(addrs)
            out[str(cpd)] = (vl_id, per_vnfc)
    return out


def plan(model: VnfModel, req: PlanRequest) -> dict[str, Any]:
    """The desired state of one VNF instance."""
    flavour = model.flavour(req.flavour_id)
    if flavour is None:
        known = ", ".join(f.id for f in model.flavours) or "none"
        raise PlanError(
            f"VNFD {model.vnfd_id} has no deployment flavour {req.flavour_id!r} (known: {known})"
        )
    level_id, levels = _scale_levels(flavour, req)
    counts = vnfc_counts(flavour, level_id, levels, explicit=req.scale_levels is not None)
    sid = short_id(req.vnf_instance_id)
    prefix = f"vnf-{sid}"
    images = req.vim_mapping.get("images") or {}
    flavour_map = req.vim_mapping.get("flavours") or {}

    # Virtual links and their address layouts.
    cps_by_vdu: dict[str, list[Any]] = {}
    for cp in flavour.cps:
        cps_by_vdu.setdefault(cp.vdu_id, []).append(cp)
    for cps in cps_by_vdu.values():
        cps.sort(key=lambda c: (c.order if c.order is not None else 1_000_000, c.id))
    orders = {vdu_id: interface_orders(cps) for vdu_id, cps in cps_by_vdu.items()}
    declared = [vl.cidr for vl in flavour.virtual_links if vl.cidr]
    missing = [vl for vl in flavour.virtual_links if not vl.cidr]
    fallback = dict(
        zip((vl.id for vl in missing), default_cidrs(len(missing), declared), strict=False)
    )
    layouts: dict[str, LinkAddresses] = {}
    virtual_links = []
    for index, vl in enumerate(sorted(flavour.virtual_links, key=lambda v: v.id)):
        cidr = vl.cidr or fallback[vl.id]
        members = []
        for vdu in flavour.vdus:
            on_link = [cp for cp in cps_by_vdu.get(vdu.id, []) if cp.virtual_link == vl.id]
            if on_link:
                members.append(Member(vdu.id, vdu.max_instances, len(on_link)))
        layouts[vl.id] = LinkAddresses(vl.id, cidr, members, vl.gateway_ip)
        virtual_links.append(
            {
                "id": vl.id,
                "name": f"{prefix}-{vl.id}",
                "index": index,
                "cidr": str(layouts[vl.id].network),
                "ipVersion": 6 if vl.ip_version == "ipv6" else 4,
                "gatewayIp": vl.gateway_ip,
                "dhcpEnabled": bool(vl.dhcp_enabled),
                "mtu": vl.mtu or DEFAULT_MTU,
            }
        )
    mtu = {vl["id"]: vl["mtu"] for vl in virtual_links}

    ext_bindings = _ext_bindings(flavour, req.ext_virtual_links)
    ext_by_vducp = {cp.id: cp for cp in flavour.ext_cps if cp.kind == "VduCp"}

    server_groups = []
    group_of: dict[str, str] = {}
    for rule in sorted(flavour.placement_rules, key=lambda r: r.id):
        if not rule.vdu_ids:
            continue
        name = f"{prefix}-{rule.id}"
        server_groups.append(
            {
                "name": name,
                "policy": rule.kind,
                "scope": rule.scope.replace("_", "-"),
                "vduIds": sorted(rule.vdu_ids),
            }
        )
        for vdu_id in rule.vdu_ids:
            group_of.setdefault(vdu_id, name)

    storage = {s.id: s for s in flavour.storage}
    vnfcs = []
    volumes = []
    for vdu in sorted(flavour.vdus, key=lambda v: v.id):
        image = None
        if vdu.sw_image is not None:
            image = {
                "name": vdu.sw_image.name,
                "version": vdu.sw_image.version,
                "diskFormat": vdu.sw_image.disk_format,
                "containerFormat": vdu.sw_image.container_format,
                "file": vdu.sw_image.file,
                "vimImageId": images.get(vdu.id) or images.get(vdu.sw_image.name or ""),
            }
        generation = software_generation(vdu)
        for index in range(counts[vdu.id]):
            vnfc_id = f"{vdu.id}-{index}"
            cps = []
            for position_on_link, cp in _positions(cps_by_vdu.get(vdu.id, [])):
                ext = ext_by_vducp.get(cp.id)
                addresses: list[str] = []
                ext_vl_id = None
                if cp.virtual_link is not None:
                    addresses = [layouts[cp.virtual_link].address(vdu.id, index, position_on_link)]
                elif ext is not None and cp.id in ext_bindings:
                    ext_vl_id, fixed = ext_bindings[cp.id]
                    addresses = list(fixed[index]) if index < len(fixed) else []
                cps.append(
                    {
                        "cpdId": cp.id,
                        "name": f"{prefix}-{vnfc_id}-{cp.id}",
                        "order": orders[vdu.id][cp.id],
                        "virtualLinkId": cp.virtual_link,
                        "extVirtualLinkId": ext_vl_id,
                        "extCpdId": cp.id if ext is not None else None,
                        "layerProtocols": list(cp.layer_protocols),
                        "ipAddresses": addresses,
                        "macAddress": mac_address(req.vnf_instance_id, vnfc_id, cp.id),
                        "mtu": mtu.get(cp.virtual_link or "", DEFAULT_MTU),
                    }
                )
            vol_names = []
            for storage_id in vdu.storage:
                vs = storage.get(storage_id)
                name = f"{prefix}-{vnfc_id}-{storage_id}"
                vol_names.append(name)
                volumes.append(
                    {
                        "name": name,
                        "storageId": storage_id,
                        "vnfcId": vnfc_id,
                        "sizeGb": vs.size_gb if vs else None,
                        "image": vs.sw_image.name if vs and vs.sw_image else None,
                    }
                )
            vnfcs.append(
                {
                    "id": vnfc_id,
                    "vduId": vdu.id,
                    "index": index,
                    "name": f"{prefix}-{vnfc_id}",
                    "compute": {
                        "numVirtualCpu": vdu.num_virtual_cpu,
                        "virtualMemSizeMb": vdu.virtual_mem_size_mb,
                        "localStorageGb": vdu.local_storage_gb,
                        "flavourHint": flavour_map.get(vdu.id)
                        or (vdu.flavour_hints[0] if vdu.flavour_hints else None),
                    },
                    "image": image,
                    "softwareGeneration": generation,
                    "bootData": vdu.boot_data,
                    "serverGroup": group_of.get(vdu.id),
                    "powerState": "off"
                    if req.power_off is True
                    or (isinstance(req.power_off, list) and vnfc_id in req.power_off)
                    else "on",
                    "cps": cps,
                    "volumes": vol_names,
                }
            )

    ext_vls = []
    for ext_vl in sorted(req.ext_virtual_links, key=lambda e: str(e.get("id"))):
        entry = {"id": ext_vl["id"], "resourceId": ext_vl.get("resourceId")}
        if ext_vl.get("cidr"):
            entry["cidr"] = ext_vl["cidr"]
        if ext_vl.get("floatingIp"):  # our extension: true, or the floating IP network
            entry["floatingIp"] = ext_vl["floatingIp"]
        ext_vls.append(entry)

    return {
        "planVersion": PLAN_VERSION,
        "vnfInstanceId": req.vnf_instance_id,
        "shortId": sid,
        "namePrefix": prefix,
        "vnfdId": model.vnfd_id,
        "vnfdVersion": model.vnfd_version,
        "softwareVersion": model.software_version,
        "flavourId": flavour.id,
        "instantiationLevelId": level_id,
        "scaleLevels": dict(sorted(levels.items())),
        "virtualLinks": virtual_links,
        "externalVirtualLinks": ext_vls,
        "vnfcs": vnfcs,
        "volumes": volumes,
        "serverGroups": server_groups,
        "securityGroupRules": [
            {
                "id": r.id,
                "direction": r.direction,
                "etherType": r.ether_type,
                "protocol": r.protocol,
                "portRangeMin": r.port_range_min,
                "portRangeMax": r.port_range_max,
                "cpdIds": sorted(r.cp_ids),
            }
            for r in sorted(flavour.security_group_rules, key=lambda r: r.id)
        ],
        "extCps": [
            {
                "cpdId": cp.id,
                "requirement": cp.requirement,
                "vduId": cp.vdu_id,
                "internalVirtualLinkId": cp.internal_virtual_link,
                "extVirtualLinkId": ext_bindings.get(cp.id, (None, []))[0],
            }
            for cp in flavour.ext_cps
        ],
    }


def _natural(key: Any) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(key))]


def interface_orders(cps: list[Any]) -> dict[str, int]:
    """Each CP's interface index on its VNFC: unique, deterministic, stable.

    SOL001 makes ``order`` optional and does not require it to be unique. A
    declared order is kept when no earlier CP (by order, then id) holds it,
    so packages that number their CPs keep their interfaces; the others take
    the lowest free index in that sequence.
    """
    taken: set[int] = set()
    out: dict[str, int] = {}
    pending = []
    for cp in cps:
        if cp.order is not None and cp.order >= 0 and cp.order not in taken:
            taken.add(cp.order)
            out[cp.id] = cp.order
        else:
            pending.append(cp)
    free = (i for i in range(len(cps) + len(taken) + 1) if i not in taken)
    for cp in pending:
        out[cp.id] = next(free)
    return out


def _positions(cps: list[Any]) -> list[tuple[int, Any]]:
    """Each CP with its position among the VDU's CPs on the same link."""
    seen: dict[str | None, int] = {}
    out = []
    for cp in cps:
        pos = seen.get(cp.virtual_link, 0)
        seen[cp.virtual_link] = pos + 1
        out.append((pos, cp))
    return out
