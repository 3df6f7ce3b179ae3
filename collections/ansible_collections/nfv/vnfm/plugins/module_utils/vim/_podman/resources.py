# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""SOL003 resource information (and the --diff summaries) from podman states."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.model import (
    CpState,
    NetworkState,
    PodState,
)

VIM_CONNECTION_ID = "podman"
POD_TYPE = "podman.pod"


def _protocol_info(cp: CpState) -> list[dict[str, Any]]:
    return [
        {
            "layerProtocol": "IP_OVER_ETHERNET",
            "ipOverEthernet": {
                "macAddress": cp.mac,
                "ipAddresses": [
                    {"type": "IPV4", "addresses": [cp.ip] if cp.ip else [], "isDynamic": False}
                ],
            },
        }
    ]


def build_resources(
    pods: Iterable[PodState],
    networks: Iterable[NetworkState],
    volumes: Iterable[str],
    plan: dict[str, Any] | None,
) -> dict[str, Any]:
    """``vnfcResourceInfo``, ``virtualLinkResourceInfo``, ``virtualStorageResourceInfo``, ``extCpInfo``."""
    plan_vols = {str(v.get("name")): v for v in (plan or {}).get("volumes") or []}
    plan_vls = {str(v.get("id")): v for v in (plan or {}).get("virtualLinks") or []}
    present = set(volumes)
    vnfc_info: list[dict[str, Any]] = []
    ext_info: list[dict[str, Any]] = []
    ports: dict[str, list[dict[str, Any]]] = {}
    for pod in sorted(pods, key=lambda p: p.vnfc_id):
        cps_info = []
        for cp in pod.cps:
            name = f"{pod.name}-{cp.cpd_id}"
            info: dict[str, Any] = {
                "id": name,
                "cpdId": cp.cpd_id,
                "cpProtocolInfo": _protocol_info(cp),
            }
            if cp.ext_cpd_id:
                info["vnfExtCpId"] = f"{name}-ext"
                ext_info.append(
                    {
                        "id": f"{name}-ext",
                        "cpdId": cp.ext_cpd_id,
                        "cpProtocolInfo": _protocol_info(cp),
                        "associatedVnfcCpId": name,
                    }
                )
            cps_info.append(info)
            if cp.kind == "vl" and cp.vl_id:
                ports.setdefault(cp.vl_id, []).append(
                    {
                        "id": name,
                        "resourceHandle": {
                            "vimConnectionId": VIM_CONNECTION_ID,
                            "resourceId": f"{pod.name}/{cp.ifname}",
                            "vimLevelResourceType": "podman.interface",
                        },
                        "cpInstanceId": name,
                    }
                )
        metadata: dict[str, Any] = {"powerState": pod.power}
        if pod.generation:
            metadata["softwareGeneration"] = pod.generation
        vnfc_info.append(
            {
                "id": pod.vnfc_id,
                "vduId": pod.vdu_id,
                "computeResource": {
                    "vimConnectionId": VIM_CONNECTION_ID,
                    "resourceId": pod.name,
                    "vimLevelResourceType": POD_TYPE,
                },
                "storageResourceIds": sorted(
                    n
                    for n, v in plan_vols.items()
                    if v.get("vnfcId") == pod.vnfc_id and n in present
                ),
                "vnfcCpInfo": cps_info,
                "metadata": metadata,
            }
        )
    vl_info: list[dict[str, Any]] = []
    for net in sorted(networks, key=lambda n: n.name):
        if net.kind != "vl" or not net.vl_id:
            continue
        link_ports: list[dict[str, Any]] = ports.get(net.vl_id) or []
        vl_info.append(
            {
                "id": str(plan_vls.get(net.vl_id, {}).get("name") or net.name),
                "vnfVirtualLinkDescId": net.vl_id,
                "networkResource": {
                    "vimConnectionId": VIM_CONNECTION_ID,
                    "resourceId": net.name,
                    "vimLevelResourceType": "podman.network",
                },
                "vnfLinkPorts": sorted(link_ports, key=lambda port: str(port["id"])),
            }
        )
    storage = [
        {
            "id": name,
            "virtualStorageDescId": str(plan_vols[name].get("storageId") or name),
            "storageResource": {
                "vimConnectionId": VIM_CONNECTION_ID,
                "resourceId": name,
                "vimLevelResourceType": "podman.volume",
            },
        }
        for name in sorted(present)
        if name in plan_vols
    ]
    return {
        "vnfcResourceInfo": vnfc_info,
        "virtualLinkResourceInfo": vl_info,
        "virtualStorageResourceInfo": storage,
        "extCpInfo": sorted(ext_info, key=lambda e: str(e["id"])),
    }


def summary(
    pods: Iterable[PodState], networks: Iterable[NetworkState], volumes: Iterable[str]
) -> dict[str, Any]:
    """A compact, stable view of the state for ``--diff``."""
    return {
        "pods": {
            p.vnfc_id: {
                "name": p.name,
                "power": p.power,
                "containers": list(p.containers),
                "softwareGeneration": p.generation,
                "cps": {
                    c.ifname: f"{c.cpd_id} {c.ip or '-'} {c.mac} on {c.network}" for c in p.cps
                },
            }
            for p in sorted(pods, key=lambda p: p.vnfc_id)
        },
        "networks": {n.name: n.cidr for n in sorted(networks, key=lambda n: n.name)},
        "volumes": sorted(volumes),
    }
