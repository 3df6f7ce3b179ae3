# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The LCM context that hook playbooks and EM configuration see.

Built from what the VIM reports (SOL003 ``vnfcResourceInfo``, the truth for
what exists) and the plan (names, links). See docs/plan-format.md.
"""

from __future__ import annotations

from typing import Any

# How Ansible reaches a VNFC, by the VIM-level type of its compute resource.
CONNECTIONS: dict[str, dict[str, str]] = {
    "linux.netns": {"ansible_connection": "nfv.vnfm.netns"},
    # Real clouds: SSH to the VNFC's management address, host keys checked.
    "OS::Nova::Server": {"ansible_connection": "ssh"},
}


def management_address(vnfc: dict[str, Any]) -> str | None:
    """Where Ansible reaches a VNFC over the network: an external CP first."""
    ordered = sorted(vnfc.get("cps", []), key=lambda cp: not cp.get("external"))
    for cp in ordered:
        if cp.get("ipAddresses"):
            return str(cp["ipAddresses"][0])
    return None


def _addresses(cp: dict[str, Any]) -> tuple[list[str], str | None]:
    addrs: list[str] = []
    mac = None
    for proto in cp.get("cpProtocolInfo") or []:
        ipoe = proto.get("ipOverEthernet") or {}
        mac = mac or ipoe.get("macAddress")
        for ip in ipoe.get("ipAddresses") or []:
            addrs.extend(str(a) for a in ip.get("addresses") or [])
    return addrs, mac


def power_state(info: dict[str, Any], plan_vnfc: dict[str, Any]) -> str:
    """``on`` or ``off``: as the VIM reports it (``metadata.powerState``), else as planned."""
    reported = (info.get("metadata") or {}).get("powerState")
    state = reported if reported in ("on", "off") else plan_vnfc.get("powerState")
    return "off" if state == "off" else "on"


def vnfc_context(resources: dict[str, Any], plan: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One entry per existing VNFC: id, vduId, name, host, powerState, cps."""
    planned = {v["id"]: v for v in (plan or {}).get("vnfcs", [])}
    prefix = (plan or {}).get("namePrefix")
    out = []
    for info in sorted(
        resources.get("vnfcResourceInfo") or [], key=lambda r: (r.get("vduId"), r.get("id"))
    ):
        vnfc_id = str(info.get("id"))
        plan_vnfc = planned.get(vnfc_id, {})
        links = {cp["cpdId"]: cp.get("virtualLinkId") for cp in plan_vnfc.get("cps", [])}
        name = plan_vnfc.get("name") or (f"{prefix}-{vnfc_id}" if prefix else vnfc_id)
        cps = []
        for cp in info.get("vnfcCpInfo") or []:
            addrs, mac = _addresses(cp)
            cps.append(
                {
                    "cpdId": cp.get("cpdId"),
                    "ipAddresses": addrs,
                    "macAddress": mac,
                    "virtualLinkId": links.get(cp.get("cpdId")),
                    "external": bool(cp.get("vnfExtCpId")),
                }
            )
        compute = info.get("computeResource") or {}
        out.append(
            {
                "id": vnfc_id,
                "vduId": info.get("vduId"),
                "name": name,
                "host": name,
                "resourceId": compute.get("resourceId"),
                "resourceType": compute.get("vimLevelResourceType"),
                "powerState": power_state(info, plan_vnfc),
                "cps": cps,
            }
        )
    return out


def by_vdu(vnfcs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for vnfc in vnfcs:
        grouped.setdefault(str(vnfc["vduId"]), []).append(vnfc)
    return grouped


def inventory_hosts(vnfcs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """add_host arguments for each VNFC: name, groups, connection vars."""
    hosts = []
    for vnfc in vnfcs:
        conn = dict(CONNECTIONS.get(str(vnfc.get("resourceType")), {}))
        if conn.get("ansible_connection") == "nfv.vnfm.netns":
            conn["vnfm_netns"] = str(vnfc["resourceId"])
        elif conn.get("ansible_connection") == "ssh":
            address = management_address(vnfc)
            if address:
                conn["ansible_host"] = address
        hosts.append(
            {
                "name": vnfc["host"],
                "groups": ["vnfcs", str(vnfc["vduId"])],
                "vars": {"vnfc_id": vnfc["id"], "vnfc_vdu_id": vnfc["vduId"], **conn},
            }
        )
    return hosts
