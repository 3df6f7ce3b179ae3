# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The LCM context that hook playbooks and EM configuration see.

Built from what the VIM reports (SOL003 ``vnfcResourceInfo``, the truth for
what exists) and the plan (names, links). See docs/plan-format.md.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import vnfc_exec
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import connection_of

NETNS_CONNECTION = "nfv.vnfm.netns"


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


# The inventory groups of the VNFCs an operation adds, removes and heals, by the LCM
# context variable that lists them: a hook play can target them (hosts: web:&vnfm_added)
# instead of skipping every other VNFC.
CHANGE_GROUPS = {
    "vnfm_added_vnfcs": "vnfm_added",
    "vnfm_removed_vnfcs": "vnfm_removed",
    "vnfm_healed_vnfcs": "vnfm_healed",
}


def lcm_context(
    resources: dict[str, Any],
    plan: dict[str, Any] | None,
    added: list[str] | None = None,
    removed: list[str] | None = None,
    healed: list[str] | None = None,
    removed_vnfcs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The LCM context variables (docs/plan-format.md) from the resource info and the
    plan, in one pass. ``added``, ``removed``, ``healed``: VNFC ids; ``removed_vnfcs``:
    the removed VNFCs themselves, once the VIM no longer has them."""
    vnfcs = vnfc_context(resources, plan)

    def among(ids: list[str] | None) -> list[dict[str, Any]]:
        wanted = set(ids or [])
        return [v for v in vnfcs if v["id"] in wanted]

    return {
        "vnfm_vnfcs": vnfcs,
        "vnfm_vnfcs_by_vdu": by_vdu(vnfcs),
        "vnfm_ext_cps": list(resources.get("extCpInfo") or []),
        "vnfm_added_vnfcs": among(added),
        "vnfm_removed_vnfcs": list(removed_vnfcs) if removed_vnfcs else among(removed),
        "vnfm_healed_vnfcs": among(healed),
    }


def by_vdu(vnfcs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for vnfc in vnfcs:
        grouped.setdefault(str(vnfc["vduId"]), []).append(vnfc)
    return grouped


def connection_vars(vnfc: dict[str, Any]) -> dict[str, Any]:
    """The connection variables of a VNFC, as its VIM driver declares them (none if unknown)."""
    connection = connection_of(str(vnfc.get("resourceType")))
    if connection is None:
        return {}
    out: dict[str, Any] = {"ansible_connection": connection.plugin}
    if connection.address == "resourceId":
        address: str | None = str(vnfc["resourceId"])
    else:
        address = management_address(vnfc)
    if address:
        out[connection.host_var] = address
    return out


# The host variable that carries the argv starting a VNFC's Python (a list); read by the
# runner's vnfm_warm strategy (vnfm_runner/strategy_plugins/vnfm_warm.py), which marks
# Mitogen's transport_config module with WARM_MARK when it installs that reading.
WARM_PYTHON_VAR = "vnfm_warm_python"
WARM_MARK = "vnfm_warm_python_var"


def warm_connections() -> bool:
    """True when the runner's ``vnfm_warm`` strategy drives this run and the controller
    runs as root: a VNFC of the local VIM is then reached through Mitogen's ``local``
    connection, one Python per VNFC started inside its namespace and kept for the run,
    instead of ``nfv.vnfm.netns`` (a new process and interpreter per task). Mitogen's own
    strategies do not qualify: they would start that Python outside the namespace."""
    config = sys.modules.get("ansible_mitogen.transport_config")
    return getattr(config, WARM_MARK, None) == WARM_PYTHON_VAR and os.geteuid() == 0


def _warm(conn: dict[str, Any]) -> dict[str, Any]:
    if conn.get("ansible_connection") != NETNS_CONNECTION or "vnfm_netns" not in conn:
        return conn
    return {
        **conn,
        "ansible_connection": "local",
        # what hooks see stays a plain Python executable (they may run scripts with it)
        "ansible_python_interpreter": sys.executable,
        WARM_PYTHON_VAR: vnfc_exec.argv(
            conn["vnfm_netns"], [sys.executable], {"PYTHONPATH": vnfc_exec.import_path()}
        ),
    }


def inventory_hosts(
    vnfcs: list[dict[str, Any]],
    warm: bool | None = None,
    context: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """add_host arguments for each VNFC: name, groups, connection vars (the Python
    interpreter included). ``warm``: see :func:`warm_connections` (None: as it says).
    ``context``: the LCM context; a VNFC it lists as added, removed or healed joins that
    group too (CHANGE_GROUPS)."""
    warm = warm_connections() if warm is None else warm
    changes = {
        group: {v["id"] for v in (context or {}).get(variable) or []}
        for variable, group in CHANGE_GROUPS.items()
    }
    hosts = []
    for vnfc in vnfcs:
        conn = connection_vars(vnfc)
        if warm:
            conn = _warm(conn)
        # A namespace shares the controller's filesystem, so its Python too; elsewhere
        # Ansible finds one (quietly: hooks cannot act on the warning).
        local = conn.get("ansible_connection") == NETNS_CONNECTION
        conn.setdefault("ansible_python_interpreter", sys.executable if local else "auto_silent")
        groups = ["vnfcs", str(vnfc["vduId"])]
        groups += [group for group, ids in changes.items() if vnfc["id"] in ids]
        hosts.append(
            {
                "name": vnfc["host"],
                "groups": groups,
                "vars": {"vnfc_id": vnfc["id"], "vnfc_vdu_id": vnfc["vduId"], **conn},
            }
        )
    return hosts
