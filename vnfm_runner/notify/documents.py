"""SOL003 notification documents (VNF LCM v2, clause 5.5.2.17-19) and subscription filters.

Pure functions: a change the store's journal sees (kind, document) becomes the
notification one subscription receives. Links are written relative (``/vnflcm/...``);
the delivery worker puts its ``base_url`` in front (:func:`with_base_url`).
"""

from __future__ import annotations

import uuid
from typing import Any

from vnfm_runner.domain import OperationState
from vnfm_runner.store.db import iso, now

OP_OCC = "VnfLcmOperationOccurrenceNotification"
CREATED = "VnfIdentifierCreationNotification"
DELETED = "VnfIdentifierDeletionNotification"
TYPE_OF_KIND = {"operation": OP_OCC, "instance_created": CREATED, "instance_deleted": DELETED}

INSTANCES = "/vnflcm/v2/vnf_instances"
SUBSCRIPTIONS = "/vnflcm/v2/subscriptions"
OP_OCCS = "/vnflcm/v2/vnf_lcm_op_occs"

# SOL003 5.5.2.17: "START: informs about the start of the VNF LCM operation
# occurrence; RESULT: informs about the final or intermediate result".
# Only entering STARTING is the start; every later state is a result.
START_STATES = (OperationState.STARTING,)
ERROR_STATES = (OperationState.FAILED_TEMP, OperationState.FAILED, OperationState.ROLLED_BACK)
AFFECTED = (
    "affectedVnfcs",
    "affectedVirtualLinks",
    "affectedExtLinkPorts",
    "affectedVirtualStorages",
)


def event_key(kind: str, doc: dict[str, Any]) -> str:
    """What makes an event unique: the same state change seen twice is one notification.

    (Asking a retry re-announces the FAILED_TEMP operation unchanged; it is not
    a new state change.)"""
    if kind == "operation":
        return f"op:{doc['id']}:{doc.get('operationState')}:{doc.get('stateEnteredTime')}"
    return f"{kind}:{doc['id']}"


def instance_id_of(kind: str, doc: dict[str, Any]) -> str:
    return str(doc["vnfInstanceId"] if kind == "operation" else doc["id"])


def probe(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The fields of the notification a subscription filter looks at."""
    out: dict[str, Any] = {
        "notificationType": TYPE_OF_KIND[kind],
        "vnfInstanceId": instance_id_of(kind, doc),
    }
    if kind == "operation":
        out["operation"] = doc.get("operation")
        out["operationState"] = doc.get("operationState")
    return out


def build(
    kind: str, doc: dict[str, Any], subscription: dict[str, Any], base_url: str = ""
) -> dict[str, Any]:
    """The notification for one subscription (a fresh id; the time of the event)."""
    instance_id = instance_id_of(kind, doc)
    links: dict[str, Any] = {
        "vnfInstance": {"href": f"{base_url}{INSTANCES}/{instance_id}"},
        "subscription": {"href": f"{base_url}{SUBSCRIPTIONS}/{subscription['id']}"},
    }
    out: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "notificationType": TYPE_OF_KIND[kind],
        "subscriptionId": subscription["id"],
        "timeStamp": iso(now()),
    }
    if kind != "operation":
        out["vnfInstanceId"] = instance_id
        out["_links"] = links
        return out
    state = str(doc.get("operationState"))
    status = "START" if state in START_STATES else "RESULT"
    verbosity = subscription.get("verbosity") or "FULL"
    out.update(
        {
            "notificationStatus": status,
            "operationState": state,
            "vnfInstanceId": instance_id,
            "operation": doc.get("operation"),
            "isAutomaticInvocation": bool(doc.get("isAutomaticInvocation", False)),
            "verbosity": verbosity,
            "vnfLcmOpOccId": doc["id"],
        }
    )
    if status == "RESULT" and verbosity == "FULL":
        changes = doc.get("resourceChanges") or {}
        for name in AFFECTED:
            if changes.get(name):
                out[name] = changes[name]
        if doc.get("changedInfo") and state == OperationState.COMPLETED:
            out["changedInfo"] = doc["changedInfo"]
        if doc.get("changedExtConnectivity"):
            out["changedExtConnectivity"] = doc["changedExtConnectivity"]
    if state in ERROR_STATES and doc.get("error"):
        out["error"] = doc["error"]
    links["vnfLcmOpOcc"] = {"href": f"{base_url}{OP_OCCS}/{doc['id']}"}
    out["_links"] = links
    return out


def with_base_url(notification: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The notification with ``base_url`` in front of its relative ``_links``."""
    base = base_url.rstrip("/")
    links = notification.get("_links")
    if not base or not isinstance(links, dict):
        return notification
    absolute = {}
    for name, link in links.items():
        href = link.get("href") if isinstance(link, dict) else None
        absolute[name] = (
            {**link, "href": base + href} if isinstance(href, str) and href[:1] == "/" else link
        )
    return {**notification, "_links": absolute}


def selects(
    flt: dict[str, Any], notification: dict[str, Any], instance: dict[str, Any] | None = None
) -> bool:
    """Whether a LifecycleChangeNotificationsFilter (SOL003 5.5.3.12) selects a notification.

    ``instance`` is the VnfInstance the notification is about (for the
    vnfInstanceSubscriptionFilter's vnfdIds, vnfInstanceNames and
    vnfProductsFromProviders); without it, those conditions do not match.
    Attributes of the filter are ANDed, the values of one attribute ORed.
    """
    kinds = flt.get("notificationTypes")
    if kinds and notification.get("notificationType") not in kinds:
        return False
    # operationTypes / operationStates select among operation occurrence
    # notifications: an identifier creation or deletion has neither, so fails them.
    ops = flt.get("operationTypes")
    if ops and notification.get("operation") not in ops:
        return False
    states = flt.get("operationStates")
    if states and notification.get("operationState") not in states:
        return False
    return _instance_selected(
        flt.get("vnfInstanceSubscriptionFilter") or {}, notification, instance
    )


def _instance_selected(
    inst: dict[str, Any], notification: dict[str, Any], instance: dict[str, Any] | None
) -> bool:
    if not inst:
        return True
    doc = instance or {}
    ids = inst.get("vnfInstanceIds")
    if ids and notification.get("vnfInstanceId") not in ids:
        return False
    names = inst.get("vnfInstanceNames")
    if names and doc.get("vnfInstanceName") not in names:
        return False
    vnfd_ids = inst.get("vnfdIds")
    if vnfd_ids and doc.get("vnfdId") not in vnfd_ids:
        return False
    providers = inst.get("vnfProductsFromProviders")
    return not providers or any(_product_selected(p, doc) for p in providers)


def _product_selected(provider: dict[str, Any], doc: dict[str, Any]) -> bool:
    if provider.get("vnfProvider") != doc.get("vnfProvider"):
        return False
    products = provider.get("vnfProducts")
    if not products:
        return True
    for product in products:
        if product.get("vnfProductName") != doc.get("vnfProductName"):
            continue
        versions = product.get("versions")
        if not versions:
            return True
        for version in versions:
            if version.get("vnfSoftwareVersion") != doc.get("vnfSoftwareVersion"):
                continue
            vnfd_versions = version.get("vnfdVersions")
            if not vnfd_versions or doc.get("vnfdVersion") in vnfd_versions:
                return True
    return False
