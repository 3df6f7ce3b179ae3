# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""SOL003 resource information (and the --diff summaries) of an OpenStack instance."""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import GONE_STATES
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    POWER_OFF,
    POWER_ON,
    Desired,
    DPort,
    Observed,
    Port,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.naming import VIM_LEVEL


def _handle(conn_id: str, resource_id: str | None, kind: str) -> dict[str, Any]:
    return {
        "vimConnectionId": conn_id,
        "resourceId": resource_id,
        "vimLevelResourceType": VIM_LEVEL[kind],
    }


def _protocol_info(want: DPort, have: Port | None, fips: list[str]) -> list[dict[str, Any]]:
    addresses = list(have.addresses) if have is not None else list(want.addresses)
    ips = [{"type": "IPV4", "addresses": addresses, "isDynamic": not want.addresses}]
    if fips:
        ips.append({"type": "IPV4", "addresses": fips, "isDynamic": True})
    return [
        {
            "layerProtocol": "IP_OVER_ETHERNET",
            "ipOverEthernet": {
                "macAddress": have.mac if have is not None else want.mac,
                "ipAddresses": ips,
            },
        }
    ]


def power_state(status: str) -> str:
    """A server's power as the local VIM reports it: "on" (ACTIVE), "off" (SHUTOFF), else
    Nova's status in lower case (building, paused, suspended, error…)."""
    return {"ACTIVE": POWER_ON, "SHUTOFF": POWER_OFF}.get(status, status.lower())


def build_resources(conn_id: str, desired: Desired | None, obs: Observed) -> dict[str, Any]:
    """``vnfcResourceInfo``, ``virtualLinkResourceInfo``, ``virtualStorageResourceInfo``,
    ``extCpInfo`` of the desired resources, with the ids found in ``obs`` (``None``: not
    created yet, in check mode)."""
    empty: dict[str, Any] = {
        "vnfcResourceInfo": [],
        "virtualLinkResourceInfo": [],
        "virtualStorageResourceInfo": [],
        "extCpInfo": [],
    }
    if desired is None:
        return empty
    fips: dict[str, list[str]] = {}
    for fip in obs.floating_ips:
        fips.setdefault(fip.port_id, []).append(fip.address)
    ports_by_vnfc: dict[str, list[DPort]] = {}
    for port in desired.ports.values():
        ports_by_vnfc.setdefault(port.vnfc_id, []).append(port)
    link_ports: dict[str, list[dict[str, Any]]] = {}
    vnfc_info, ext_info = [], []
    for vnfc_id, server in sorted(desired.servers.items()):
        have_s = obs.servers.get(server.name)
        if have_s is not None and (have_s.status in GONE_STATES or have_s.task_state == "deleting"):
            have_s = None  # going away: not the VNFC any more (a reconcile recreates it)
        cps = []
        for name in server.ports:
            want = desired.ports[name]
            have = obs.ports.get(name)
            port_id = have.id if have is not None else None
            proto = _protocol_info(want, have, fips.get(port_id or "", []))
            info: dict[str, Any] = {
                "id": name,
                "cpdId": want.cpd_id,
                "vnfLinkPortId": port_id,
                "cpProtocolInfo": proto,
            }
            if not want.mac:  # Neutron chose the MAC (a shared external network): not the plan's
                info["metadata"] = {"vimAssignedMac": True}
            if want.ext_cpd_id:
                info["vnfExtCpId"] = f"{name}-ext"
                ext_info.append(
                    {
                        "id": f"{name}-ext",
                        "cpdId": want.ext_cpd_id,
                        "cpProtocolInfo": proto,
                        "associatedVnfcCpId": name,
                        "extLinkPortId": port_id,
                        "extVirtualLinkId": want.ext_vl_id,
                    }
                )
            else:
                link_ports.setdefault(want.network, []).append(
                    {
                        "id": port_id,
                        "resourceHandle": _handle(conn_id, port_id, "port"),
                        "cpInstanceId": name,
                    }
                )
            cps.append(info)
        storage = [v for v in server.volumes if v in desired.volumes]
        vnfc_info.append(
            {
                "id": vnfc_id,
                "vduId": server.vdu_id,
                "computeResource": _handle(
                    conn_id, have_s.id if have_s is not None else None, "server"
                ),
                "storageResourceIds": storage,
                "vnfcCpInfo": cps,
                "metadata": {
                    "serverName": server.name,
                    "status": have_s.status if have_s is not None else "PLANNED",
                    "powerState": power_state(have_s.status) if have_s is not None else None,
                    "flavor": server.flavor.name,
                    **(
                        {"softwareGeneration": have_s.generation}
                        if have_s is not None and have_s.generation
                        else {}
                    ),
                },
            }
        )
    vl_info: list[dict[str, Any]] = []
    for name, net in sorted(desired.networks.items(), key=lambda kv: kv[1].vl_id):
        have_n = obs.networks.get(name)
        have_sub = obs.subnets.get(net.subnet_name)
        vl_info.append(
            {
                "id": name,
                "vnfVirtualLinkDescId": net.vl_id,
                "networkResource": _handle(
                    conn_id, have_n.id if have_n is not None else None, "network"
                ),
                "vnfLinkPorts": sorted(
                    link_ports.get(name, []), key=lambda p: str(p["cpInstanceId"])
                ),
                "metadata": {
                    "subnetResourceId": have_sub.id if have_sub is not None else None,
                    "cidr": net.cidr,
                },
            }
        )
    storage_info = []
    for name, vol in sorted(desired.volumes.items()):
        have_v = obs.volumes.get(name)
        storage_info.append(
            {
                "id": name,
                "virtualStorageDescId": vol.storage_id,
                "storageResource": _handle(
                    conn_id, have_v.id if have_v is not None else None, "volume"
                ),
            }
        )
    return {
        "vnfcResourceInfo": vnfc_info,
        "virtualLinkResourceInfo": vl_info,
        "virtualStorageResourceInfo": storage_info,
        "extCpInfo": sorted(ext_info, key=lambda e: str(e["id"])),
    }


def summary(obs: Observed) -> dict[str, Any]:
    """A compact, stable view of what the VIM holds for ``--diff``."""
    return {
        "servers": {
            n: f"{s.status} flavor {'/'.join(s.flavor)}" for n, s in sorted(obs.servers.items())
        },
        "ports": {
            n: f"{','.join(p.addresses) or '-'} mac {p.mac}" for n, p in sorted(obs.ports.items())
        },
        "networks": sorted(obs.networks),
        "subnets": {n: s.cidr for n, s in sorted(obs.subnets.items())},
        "securityGroups": {n: len(g.rules) for n, g in sorted(obs.security_groups.items())},
        "serverGroups": {n: g.policy for n, g in sorted(obs.server_groups.items())},
        "volumes": {n: f"{v.size} GB {v.status}" for n, v in sorted(obs.volumes.items())},
        "floatingIps": sorted(f.address for f in obs.floating_ips),
    }


def predicted_summary(desired: Desired | None) -> dict[str, Any]:
    """What the VIM will hold after a change (check mode)."""
    if desired is None:
        return summary(Observed())
    return {
        "servers": {
            s.name: f"{'ACTIVE' if s.power == POWER_ON else 'SHUTOFF'} flavor {s.flavor.name}"
            for s in sorted(desired.servers.values(), key=lambda s: s.name)
        },
        "ports": {
            n: f"{','.join(p.addresses) or '-'} mac {p.mac}"
            for n, p in sorted(desired.ports.items())
        },
        "networks": sorted(desired.networks),
        "subnets": {
            n.subnet_name: n.cidr for n in sorted(desired.networks.values(), key=lambda n: n.name)
        },
        "securityGroups": {n: len(g.rules) for n, g in sorted(desired.security_groups.items())},
        "serverGroups": {n: g.policy for n, g in sorted(desired.server_groups.items())},
        "volumes": {n: f"{v.size} GB in-use" for n, v in sorted(desired.volumes.items())},
        "floatingIps": [],
    }
