"""SOL005 package management notifications (VNF package management v2, clause 9.5.2.8-9)
and their subscription filter (PkgmNotificationsFilter, 9.5.3.2).

Pure functions over a *package view*: the attributes of a VnfPkgInfo a
notification carries or a filter looks at (``vnfPkgId``, ``vnfdId``, the
provider and product of its VNFD, ``operationalState``, ``usageState``).
"""

from __future__ import annotations

import uuid
from typing import Any

from vnfm_runner.store.db import iso, now

ONBOARDING = "VnfPackageOnboardingNotification"
CHANGE = "VnfPackageChangeNotification"
# What happened to a package: onboarding ended, or a PackageChangeType of SOL005.
ONBOARDED, OP_STATE_CHANGE, PKG_DELETE = "ONBOARDED", "OP_STATE_CHANGE", "PKG_DELETE"
VERSION = "2.1.0"  # of /vnfpkgm: the Version header notifications are sent with

PACKAGES = "/vnfpkgm/v1/vnf_packages"
SUBSCRIPTIONS = "/vnfpkgm/v1/subscriptions"


def notification_type(change: str) -> str:
    return ONBOARDING if change == ONBOARDED else CHANGE


def event_key(view: dict[str, Any], change: str) -> str:
    """Onboarding and deletion happen once per package; every operational state
    change is an event of its own."""
    if change == OP_STATE_CHANGE:
        return f"pkg:{view['vnfPkgId']}:{change}:{uuid.uuid4()}"
    return f"pkg:{view['vnfPkgId']}:{change}"


def build(view: dict[str, Any], change: str, subscription_id: str) -> dict[str, Any]:
    """The notification of ``change`` (ONBOARDED, OP_STATE_CHANGE, PKG_DELETE) for one
    subscription."""
    out: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "notificationType": notification_type(change),
        "subscriptionId": subscription_id,
        "timeStamp": iso(now()),
        "vnfPkgId": view["vnfPkgId"],
        "vnfdId": view.get("vnfdId"),
    }
    if change != ONBOARDED:
        out["changeType"] = change
        if change == OP_STATE_CHANGE:
            out["operationalState"] = view.get("operationalState")
    out["_links"] = {
        "vnfPackage": {"href": f"{PACKAGES}/{view['vnfPkgId']}"},
        "subscription": {"href": f"{SUBSCRIPTIONS}/{subscription_id}"},
    }
    return out


def selects(flt: dict[str, Any], notification_type: str, view: dict[str, Any]) -> bool:
    """Whether a PkgmNotificationsFilter selects a notification about the package.

    Attributes are ANDed, the values of one attribute ORed (SOL013 5.2)."""
    kinds = flt.get("notificationTypes")
    if kinds and notification_type not in kinds:
        return False
    for attr in ("vnfdId", "vnfPkgId", "operationalState", "usageState"):
        wanted = flt.get(attr)
        if wanted and view.get(attr) not in wanted:
            return False
    providers = flt.get("vnfProductsFromProviders")
    return not providers or any(_provider_selected(p, view) for p in providers)


def _provider_selected(provider: dict[str, Any], view: dict[str, Any]) -> bool:
    if provider.get("vnfProvider") != view.get("vnfProvider"):
        return False
    products = provider.get("vnfProducts")
    if not products:
        return True
    for product in products:
        if product.get("vnfProductName") != view.get("vnfProductName"):
            continue
        versions = product.get("versions")
        if not versions:
            return True
        for version in versions:
            if version.get("vnfSoftwareVersion") != view.get("vnfSoftwareVersion"):
                continue
            vnfd_versions = version.get("vnfdVersions")
            if not vnfd_versions or view.get("vnfdVersion") in vnfd_versions:
                return True
    return False
