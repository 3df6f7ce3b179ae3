"""SOL003 VNF fault management notifications (clause 7.5.2.5-7) and their subscription
filter (``FmNotificationsFilter``, 7.5.3.2), written through the same journal and
outbox as LCM notifications.

The alarm service (vnfm_runner/assurance/alarms.py) announces each change of an
alarm with :func:`announce_alarm` / :func:`announce_cleared` / :func:`announce_rebuilt`
inside the transaction that makes the change: the outbox rows commit with the alarm,
or not at all. Links are relative (``/vnffm/v1/...``); the delivery worker puts its
base URL in front of the notification's own ``_links``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from vnfm_runner.notify import documents
from vnfm_runner.notify.journal import Event, announce
from vnfm_runner.store.db import iso, now
from vnfm_runner.store.tables import FM_API, InstanceRow

ALARM = "AlarmNotification"
CLEARED = "AlarmClearedNotification"
REBUILT = "AlarmListRebuiltNotification"
TYPES = (ALARM, CLEARED, REBUILT)
VERSION = "1.3.0"  # of /vnffm/v1 (SOL003 v3.3.1)

PREFIX = "/vnffm/v1"
ALARMS = f"{PREFIX}/alarms"
SUBSCRIPTIONS = f"{PREFIX}/subscriptions"
# the outbox queue of notifications about no one instance (the list was rebuilt)
LIST_QUEUE = "vnffm-alarm-list"


def alarm_links(alarm_id: str, instance_id: str) -> dict[str, Any]:
    """An Alarm's ``_links`` (SOL003 7.5.2.4: self, objectInstance)."""
    return {
        "self": {"href": f"{ALARMS}/{alarm_id}"},
        "objectInstance": {"href": f"{documents.INSTANCES}/{instance_id}"},
    }


def _base(kind: str, subscription_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "notificationType": kind,
        "subscriptionId": subscription_id,
        "timeStamp": iso(now()),
    }


def _subscription_link(subscription_id: str) -> dict[str, Any]:
    return {"href": f"{SUBSCRIPTIONS}/{subscription_id}"}


def build(kind: str, alarm: dict[str, Any] | None, subscription_id: str) -> dict[str, Any]:
    """The notification of ``kind`` for one subscription."""
    out = _base(kind, subscription_id)
    links: dict[str, Any] = {"subscription": _subscription_link(subscription_id)}
    if kind == ALARM and alarm is not None:
        out["alarm"] = alarm
    elif kind == CLEARED and alarm is not None:
        out["alarmId"] = alarm["id"]
        out["alarmClearedTime"] = alarm.get("alarmClearedTime")
        links["alarm"] = {"href": f"{ALARMS}/{alarm['id']}"}
    else:
        links["alarms"] = {"href": ALARMS}
    out["_links"] = links
    return out


def selects(
    flt: dict[str, Any],
    kind: str,
    alarm: dict[str, Any] | None,
    instance: dict[str, Any] | None,
) -> bool:
    """Whether an FmNotificationsFilter selects a notification (attributes ANDed, the
    values of one attribute ORed). An AlarmListRebuiltNotification is about no alarm:
    only ``notificationTypes`` applies to it (every subscriber's list was rebuilt)."""
    kinds = flt.get("notificationTypes")
    if kinds and kind not in kinds:
        return False
    if alarm is None:
        return True
    checks = (
        ("perceivedSeverities", alarm.get("perceivedSeverity")),
        ("eventTypes", alarm.get("eventType")),
        ("probableCauses", alarm.get("probableCause")),
        (
            "faultyResourceTypes",
            (alarm.get("rootCauseFaultyResource") or {}).get("faultyResourceType"),
        ),
    )
    for attr, value in checks:
        wanted = flt.get(attr)
        if wanted and value not in wanted:
            return False
    inst = flt.get("vnfInstanceSubscriptionFilter")
    if not inst:
        return True
    probe = {"vnfInstanceId": alarm.get("managedObjectId")}
    return documents.selects({"vnfInstanceSubscriptionFilter": inst}, probe, instance)


def _instance(session: Session, alarm: dict[str, Any]) -> dict[str, Any] | None:
    row = session.get(InstanceRow, str(alarm.get("managedObjectId")))
    return {**row.doc, "id": row.id} if row is not None else None


def _alarm_event(
    session: Session, kind: str, key: str, alarm: dict[str, Any], severity: str
) -> Event:
    instance = _instance(session, alarm)
    # a cleared alarm is filtered on the severity it had while raised
    seen = {**alarm, "perceivedSeverity": severity}
    return Event(
        api=FM_API,
        key=key,
        queue=str(alarm["managedObjectId"]),
        selects=lambda flt: selects(flt, kind, seen, instance),
        build=lambda sub_id, _sub: build(kind, alarm, sub_id),
    )


def announce_alarm(session: Session, alarm: dict[str, Any]) -> int:
    """An AlarmNotification: the alarm was raised or changed (one per alarmChangedTime)."""
    stamp = alarm.get("alarmChangedTime") or alarm.get("alarmRaisedTime")
    key = f"alarm:{alarm['id']}:{stamp}"
    severity = str(alarm.get("perceivedSeverity"))
    return announce(session, FM_API, lambda: _alarm_event(session, ALARM, key, alarm, severity))


def announce_cleared(session: Session, alarm: dict[str, Any], severity: str) -> int:
    """An AlarmClearedNotification (once per alarm); ``severity`` is the one it had."""
    key = f"alarm:{alarm['id']}:cleared"
    return announce(session, FM_API, lambda: _alarm_event(session, CLEARED, key, alarm, severity))


def announce_rebuilt(session: Session) -> int:
    """An AlarmListRebuiltNotification to every FM subscriber that wants it."""
    key = f"alarms-rebuilt:{uuid.uuid4()}"

    def make() -> Event:
        return Event(
            api=FM_API,
            key=key,
            queue=LIST_QUEUE,
            selects=lambda flt: selects(flt, REBUILT, None, None),
            build=lambda sub_id, _sub: build(REBUILT, None, sub_id),
        )

    return announce(session, FM_API, make)
