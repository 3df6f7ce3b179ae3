"""SOL003 VNF indicator notifications (clause 8.5.2.5 VnfIndicatorValueChangeNotification,
8.5.2.6 SupportedIndicatorsChangeNotification) and their subscription filter
(``VnfIndicatorNotificationsFilter``, 8.5.3.2), through the same journal and outbox as
LCM and FM notifications.

The indicator service (vnfm_runner/assurance/indicators.py) announces a new value or a
new set of supported indicators inside the transaction that stores it: the outbox rows
commit with the value, or not at all. Links are relative (``/vnfind/v1/...``); the
delivery worker puts its base URL in front of the notification's own ``_links``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from vnfm_runner.notify import documents
from vnfm_runner.notify.journal import Event, announce
from vnfm_runner.store.db import iso, now
from vnfm_runner.store.tables import IND_API, InstanceRow

VALUE_CHANGE = "VnfIndicatorValueChangeNotification"
SUPPORTED_CHANGE = "SupportedIndicatorsChangeNotification"
TYPES = (VALUE_CHANGE, SUPPORTED_CHANGE)
VERSION = "1.3.0"  # of /vnfind/v1 (SOL003 v3.3.1)

PREFIX = "/vnfind/v1"
INDICATORS = f"{PREFIX}/indicators"
SUBSCRIPTIONS = f"{PREFIX}/subscriptions"


def indicator_links(instance_id: str, indicator_id: str) -> dict[str, Any]:
    """A VnfIndicator's ``_links`` (SOL003 8.5.2.2: self, vnfInstance)."""
    return {
        "self": {"href": f"{INDICATORS}/{instance_id}/{indicator_id}"},
        "vnfInstance": {"href": f"{documents.INSTANCES}/{instance_id}"},
    }


def build(kind: str, body: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    """The notification of ``kind`` for one subscription; ``body`` holds its own
    attributes (vnfInstanceId, and vnfIndicatorId/name/value or supportedIndicators)."""
    instance_id = str(body["vnfInstanceId"])
    return {
        "id": str(uuid.uuid4()),
        "notificationType": kind,
        "subscriptionId": subscription_id,
        "timeStamp": iso(now()),
        **body,
        "_links": {
            "vnfInstance": {"href": f"{documents.INSTANCES}/{instance_id}"},
            "subscription": {"href": f"{SUBSCRIPTIONS}/{subscription_id}"},
        },
    }


def selects(
    flt: dict[str, Any], kind: str, body: dict[str, Any], instance: dict[str, Any] | None
) -> bool:
    """Whether a VnfIndicatorNotificationsFilter selects a notification (attributes ANDed,
    the values of one attribute ORed). ``indicatorIds`` selects value changes of those
    indicators; a change of the supported set is about no one indicator and passes it."""
    kinds = flt.get("notificationTypes")
    if kinds and kind not in kinds:
        return False
    ids = flt.get("indicatorIds")
    if ids and kind == VALUE_CHANGE and body.get("vnfIndicatorId") not in ids:
        return False
    inst = flt.get("vnfInstanceSubscriptionFilter")
    if not inst:
        return True
    probe = {"vnfInstanceId": body.get("vnfInstanceId")}
    return documents.selects({"vnfInstanceSubscriptionFilter": inst}, probe, instance)


def _announce(session: Session, kind: str, key: str, body: dict[str, Any]) -> int:
    instance_id = str(body["vnfInstanceId"])

    def make() -> Event:
        row = session.get(InstanceRow, instance_id)
        instance = {**row.doc, "id": row.id} if row is not None else None
        return Event(
            api=IND_API,
            key=key,
            queue=instance_id,
            selects=lambda flt: selects(flt, kind, body, instance),
            build=lambda sub_id, _sub: build(kind, body, sub_id),
        )

    return announce(session, IND_API, make)


def announce_value(
    session: Session,
    *,
    instance_id: str,
    indicator_id: str,
    name: str | None,
    value: Any,
    stamp: str,
) -> int:
    """A VnfIndicatorValueChangeNotification (``stamp`` tells one change from another)."""
    body: dict[str, Any] = {"vnfInstanceId": instance_id, "vnfIndicatorId": indicator_id}
    if name is not None:
        body["name"] = name
    body["value"] = value
    key = f"indicator:{instance_id}:{indicator_id}:{stamp}"
    return _announce(session, VALUE_CHANGE, key[:255], body)


def announce_supported(
    session: Session, *, instance_id: str, supported: list[dict[str, Any]], stamp: str
) -> int:
    """A SupportedIndicatorsChangeNotification: the instance's set of indicators is new
    (instantiation) or changed (a package change)."""
    body = {"vnfInstanceId": instance_id, "supportedIndicators": supported}
    key = f"indicators-supported:{instance_id}:{stamp}"
    return _announce(session, SUPPORTED_CHANGE, key[:255], body)
