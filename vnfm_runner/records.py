"""SOL003 documents: VnfInstance, VnfLcmOpOcc, resource changes, ProblemDetails."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vnfm_runner.domain.states import OperationState
from vnfm_runner.secrets import redact
from vnfm_runner.store.db import iso, now


def new_instance(
    *,
    instance_id: str,
    package_id: str,
    summary: dict[str, Any],
    name: str | None,
    description: str | None,
) -> dict[str, Any]:
    return {
        "id": instance_id,
        "vnfInstanceName": name,
        "vnfInstanceDescription": description,
        **package_fields(summary, package_id),
        "instantiationState": "NOT_INSTANTIATED",
        "vimConnectionInfo": {},
        "metadata": {},
        "extensions": {},
        "_links": {"self": {"href": f"/vnflcm/v2/vnf_instances/{instance_id}"}},
    }


def new_operation(
    *,
    op_id: str,
    instance_id: str,
    operation: str,
    params: dict[str, Any],
    stamp: str | None = None,
) -> dict[str, Any]:
    stamp = stamp or iso(now())
    return {
        "id": op_id,
        "operationState": OperationState.STARTING.value,
        "stateEnteredTime": stamp,
        "startTime": stamp,
        "vnfInstanceId": instance_id,
        "grantId": None,
        "operation": operation,
        "isAutomaticInvocation": False,
        # the request as recorded and shown: its secrets never (the VIM's go sealed apart)
        "operationParams": redact(params),
        "isCancelPending": False,
        "error": None,
        "resourceChanges": {
            "affectedVnfcs": [],
            "affectedVirtualLinks": [],
            "affectedVirtualStorages": [],
        },
        "_links": {
            "self": {"href": f"/vnflcm/v2/vnf_lcm_op_occs/{op_id}"},
            "vnfInstance": {"href": f"/vnflcm/v2/vnf_instances/{instance_id}"},
        },
    }


def problem(title: str, detail: str, status: int = 500, **extra: Any) -> dict[str, Any]:
    doc = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    doc.update(extra)
    return doc


def package_fields(summary: dict[str, Any], package_id: str) -> dict[str, Any]:
    """The VnfInstance fields that come from its package."""
    return {
        "vnfdId": summary["vnfdId"],
        "vnfProvider": summary["provider"],
        "vnfProductName": summary["productName"],
        "vnfSoftwareVersion": summary["softwareVersion"],
        "vnfdVersion": summary["vnfdVersion"],
        "vnfPkgId": package_id,
    }


MODIFIABLE = ("vnfInstanceName", "vnfInstanceDescription")
MERGED = ("metadata", "extensions", "vnfConfigurableProperties")


def modified(doc: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A VnfInstance after a VnfInfoModificationRequest (maps merged as JSON merge patch)."""
    out = dict(doc)
    for key in MODIFIABLE:
        if key in request:
            out[key] = request[key]
    for key in MERGED:
        if isinstance(request.get(key), dict):
            merged = dict(out.get(key) or {})
            for k, v in request[key].items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = v
            out[key] = merged
    stored: dict[str, Any] = redact(out)  # a secret in metadata or properties is never kept
    return stored


def configurable_properties(doc: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The instance's vnfConfigurableProperties once ``request`` applies (its own merged in):
    what hooks see as ``vnfm_vnf_configurable_properties`` (EM configuration, docs/plan-format.md)."""
    props = request.get("vnfConfigurableProperties")
    after = modified(doc, {"vnfConfigurableProperties": props} if isinstance(props, dict) else {})
    return dict(after.get("vnfConfigurableProperties") or {})


def instantiated_info(
    plan: dict[str, Any], resources: dict[str, Any], max_levels: dict[str, int]
) -> dict[str, Any]:
    inputs = plan.get("inputs") or {}
    power = {v["id"]: v.get("powerState", "on") for v in plan.get("vnfcs", [])}
    return {
        "vnfState": "STOPPED" if power and all(p == "off" for p in power.values()) else "STARTED",
        "vnfcInfo": [
            {
                "id": vnfc_id,
                "vduId": vnfc_id.rsplit("-", 1)[0],
                "vnfcResourceInfoId": vnfc_id,
                "vnfcState": "STOPPED" if state == "off" else "STARTED",
            }
            for vnfc_id, state in sorted(power.items())
        ],
        "extVirtualLinkInfo": [
            {"id": link.get("id"), "resourceHandle": {"resourceId": link.get("resourceId")}}
            for link in inputs.get("extVirtualLinks") or []
        ],
        "flavourId": plan["flavourId"],
        "instantiationLevelId": plan.get("instantiationLevelId"),
        "scaleStatus": [
            {"aspectId": a, "scaleLevel": lv} for a, lv in sorted(plan["scaleLevels"].items())
        ],
        "maxScaleLevels": [
            {"aspectId": a, "scaleLevel": lv} for a, lv in sorted(max_levels.items())
        ],
        "extCpInfo": resources.get("extCpInfo", []),
        "vnfcResourceInfo": resources.get("vnfcResourceInfo", []),
        "vnfVirtualLinkResourceInfo": resources.get("virtualLinkResourceInfo", []),
        "virtualStorageResourceInfo": resources.get("virtualStorageResourceInfo", []),
    }


# One affected resource in resourceChanges, from its resource info and its change type.
Shape = Callable[[dict[str, Any], str], dict[str, Any]]


def _changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]], shape: Shape
) -> list[dict[str, Any]]:
    old = {r["id"]: r for r in before}
    new = {r["id"]: r for r in after}
    out = []
    for rid in sorted(new.keys() - old.keys()):
        out.append(shape(new[rid], "ADDED"))
    for rid in sorted(old.keys() - new.keys()):
        out.append(shape(old[rid], "REMOVED"))
    for rid in sorted(old.keys() & new.keys()):
        if old[rid] != new[rid]:
            out.append(shape(new[rid], "MODIFIED"))
    return out


# SOL003 resourceChanges: (list in it, resource info list, descriptor id field, resource field)
_AFFECTED = (
    ("affectedVnfcs", "vnfcResourceInfo", "vduId", "computeResource"),
    ("affectedVirtualLinks", "virtualLinkResourceInfo", "vnfVirtualLinkDescId", "networkResource"),
    (
        "affectedVirtualStorages",
        "virtualStorageResourceInfo",
        "virtualStorageDescId",
        "storageResource",
    ),
)


def _affected(desc_field: str, resource_field: str) -> Shape:
    """The shape of one kind of affected resource (VNFC, virtual link, storage)."""

    def shape(r: dict[str, Any], change_type: str) -> dict[str, Any]:
        return {
            "id": r["id"],
            desc_field: r.get(desc_field),
            "changeType": change_type,
            resource_field: r.get(resource_field),
        }

    return shape


vnfc_change = _affected("vduId", "computeResource")


# Both VIM drivers report a volume they create as "create volume <name> ..." in their actions.
_VOLUME_CREATED = re.compile(r"^create volume (\S+)")


def recreated_storages(actions: list[Any], resources: dict[str, Any]) -> list[dict[str, Any]]:
    """The volumes a rollback had to create again, as affected storages.

    The operation rolled back deleted them (a scale in, a flavour change): the VIM
    gives a volume back, not its data. They are told apart by ``metadata``.
    """
    names = {m.group(1) for a in actions if (m := _VOLUME_CREATED.match(str(a)))}
    storage = _affected("virtualStorageDescId", "storageResource")
    return [
        {
            **storage(r, "ADDED"),
            "metadata": {
                "contentRestored": False,
                "reason": "deleted by the operation rolled back; the VIM created it again, empty",
            },
        }
        for r in resources.get("virtualStorageResourceInfo", [])
        if r.get("id") in names
    ]


def resource_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """SOL003 resourceChanges between two resource infos."""
    return {
        key: _changes(before.get(info, []), after.get(info, []), _affected(desc, resource))
        for key, info, desc, resource in _AFFECTED
    }


def current_resources(instance_doc: dict[str, Any]) -> dict[str, Any]:
    info = instance_doc.get("instantiatedVnfInfo") or {}
    return {
        "vnfcResourceInfo": info.get("vnfcResourceInfo", []),
        "virtualLinkResourceInfo": info.get("vnfVirtualLinkResourceInfo", []),
        "virtualStorageResourceInfo": info.get("virtualStorageResourceInfo", []),
        "extCpInfo": info.get("extCpInfo", []),
    }
