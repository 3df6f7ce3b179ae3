# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""SOL003 resource information (and the --diff summaries) from kernel states."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    BridgeState,
    CpState,
    VnfcState,
)

VIM_CONNECTION_ID = "local"


def _cp_names(plan: dict[str, Any] | None) -> dict[tuple[str, str], str]:
    names = {}
    for vnfc in (plan or {}).get("vnfcs") or []:
        for cp in vnfc.get("cps") or []:
            if cp.get("name"):
                names[(str(vnfc.get("id")), str(cp.get("cpdId")))] = str(cp["name"])
    return names


def _protocol_info(cp: CpState) -> list[dict[str, Any]]:
    return [
        {
            "layerProtocol": "IP_OVER_ETHERNET",
            "ipOverEthernet": {
                "macAddress": cp.mac,
                "ipAddresses": [
                    {
                        "type": "IPV4",
                        "addresses": [a.split("/")[0] for a in cp.addresses],
                        "isDynamic": cp.dynamic,
                    }
                ],
            },
        }
    ]


def _metadata(vnfc: VnfcState) -> dict[str, Any]:
    """Power state, and the software generation when the VNFC records one."""
    out: dict[str, Any] = {"powerState": vnfc.power}
    if vnfc.generation:
        out["softwareGeneration"] = vnfc.generation
    return out


def build_resources(
    inst: str,
    vnfcs: Iterable[VnfcState],
    bridges: Iterable[BridgeState],
    volumes: Iterable[str],
    plan: dict[str, Any] | None,
    volume_dir: Callable[[str], str],
) -> dict[str, Any]:
    """``vnfcResourceInfo``, ``virtualLinkResourceInfo``, ``virtualStorageResourceInfo``, ``extCpInfo``."""
    cp_names = _cp_names(plan)
    plan_vols = {str(v.get("name")): v for v in (plan or {}).get("volumes") or []}
    plan_vls = {str(v.get("id")): v for v in (plan or {}).get("virtualLinks") or []}
    present_vols = set(volumes)
    vnfc_info: list[dict[str, Any]] = []
    ext_info: list[dict[str, Any]] = []
    ports: dict[str, list[dict[str, Any]]] = {}
    for vnfc in sorted(vnfcs, key=lambda v: v.vnfc_id):
        cps_info: list[dict[str, Any]] = []
        for cp in vnfc.cps:
            name = cp_names.get((vnfc.vnfc_id, cp.cpd_id), f"{vnfc.vnfc_id}-{cp.cpd_id}")
            info: dict[str, Any] = {"id": name, "cpdId": cp.cpd_id}
            if cp.ext_cpd_id:
                info["vnfExtCpId"] = f"{name}-ext"
                ext: dict[str, Any] = {
                    "id": f"{name}-ext",
                    "cpdId": cp.ext_cpd_id,
                    "cpProtocolInfo": _protocol_info(cp),
                    "associatedVnfcCpId": name,
                }
                if cp.peer:
                    ext["extLinkPortId"] = cp.peer
                ext_info.append(ext)
            info["cpProtocolInfo"] = _protocol_info(cp)
            cps_info.append(info)
            if cp.kind == "vl":
                ports.setdefault(cp.network, []).append(
                    {
                        "id": cp.peer,
                        "resourceHandle": {
                            "vimConnectionId": VIM_CONNECTION_ID,
                            "resourceId": cp.peer,
                            "vimLevelResourceType": "linux.veth",
                        },
                        "cpInstanceId": name,
                    }
                )
        storage = sorted(
            n for n, v in plan_vols.items() if v.get("vnfcId") == vnfc.vnfc_id and n in present_vols
        )
        vnfc_info.append(
            {
                "id": vnfc.vnfc_id,
                "vduId": vnfc.vdu_id,
                "computeResource": {
                    "vimConnectionId": VIM_CONNECTION_ID,
                    "resourceId": vnfc.netns,
                    "vimLevelResourceType": "linux.netns",
                },
                "storageResourceIds": storage,
                "vnfcCpInfo": cps_info,
                "metadata": _metadata(vnfc),
            }
        )
    vl_info: list[dict[str, Any]] = []
    for br in sorted(bridges, key=lambda b: b.vl_id):
        vl_info.append(
            {
                "id": str(plan_vls.get(br.vl_id, {}).get("name") or br.vl_id),
                "vnfVirtualLinkDescId": br.vl_id,
                "networkResource": {
                    "vimConnectionId": VIM_CONNECTION_ID,
                    "resourceId": f"{naming.vim_netns(inst)}/{br.name}",
                    "vimLevelResourceType": "linux.bridge",
                },
                "vnfLinkPorts": sorted(ports.get(br.vl_id, []), key=lambda p: str(p["id"])),
            }
        )
    storage_info: list[dict[str, Any]] = []
    for name in sorted(present_vols):
        storage_info.append(
            {
                "id": name,
                "virtualStorageDescId": str(plan_vols.get(name, {}).get("storageId") or name),
                "storageResource": {
                    "vimConnectionId": VIM_CONNECTION_ID,
                    "resourceId": volume_dir(name),
                    "vimLevelResourceType": "linux.directory",
                },
            }
        )
    return {
        "vnfcResourceInfo": vnfc_info,
        "virtualLinkResourceInfo": vl_info,
        "virtualStorageResourceInfo": storage_info,
        "extCpInfo": sorted(ext_info, key=lambda e: str(e["id"])),
    }


def summary(
    vnfcs: Iterable[VnfcState], bridges: Iterable[BridgeState], volumes: Iterable[str]
) -> dict[str, Any]:
    """A compact, stable view of the state for ``--diff``."""
    return {
        "vnfcs": {
            v.vnfc_id: {
                "netns": v.netns,
                "power": v.power,
                "gateway": v.gateway,
                "softwareGeneration": v.generation,
                "cps": {
                    c.ifname: f"{c.cpd_id} {','.join(c.addresses) or '-'} {c.mac} mtu {c.mtu} on {c.kind}:{c.network}"
                    for c in v.cps
                },
            }
            for v in sorted(vnfcs, key=lambda v: v.vnfc_id)
        },
        "virtualLinks": {
            b.vl_id: f"{b.name} mtu {b.mtu}" for b in sorted(bridges, key=lambda b: b.vl_id)
        },
        "volumes": sorted(volumes),
    }
