"""The alarm service on a real store (SQLite and PostgreSQL): one fault is one alarm,
updated while it lasts, cleared once, never duplicated across restarts or by two
writers at once, and every raise/change/clear writes its FM notification in the
alarm's own transaction (the outbox rows commit with it, or not at all)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.store.conftest import pg_database, store, url
from vnfm_runner.assurance.alarms import Alarm, AlarmService
from vnfm_runner.assurance.fm_ports import FM_NOTICES
from vnfm_runner.bootstrap import open_store
from vnfm_runner.domain import AckState, EventType, PerceivedSeverity
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.notify.outbox import Outbox
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import FM_API, AlarmRow, NotificationOutboxRow

__all__ = ["pg_database", "store", "url"]

INST = "0b7f9e2a-alarm-test-instance-0000001"
OTHER = "0b7f9e2a-alarm-test-instance-0000002"
SOL003_FIELDS = {
    "id",
    "managedObjectId",
    "vnfcInstanceIds",
    "rootCauseFaultyResource",
    "alarmRaisedTime",
    "ackState",
    "perceivedSeverity",
    "eventTime",
    "eventType",
    "faultType",
    "probableCause",
    "isRootCause",
    "correlatedAlarmIds",
    "faultDetails",
    "_links",
}


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.t += timedelta(seconds=1)
        return self.t


class NoBox(SecretBox):
    def __init__(self) -> None:
        pass


def fault(**over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "key": "watcher/i/web-0/VNFC_UNHEALTHY",
        "instance_id": INST,
        "vnfc_ids": ["web-0"],
        "severity": PerceivedSeverity.MAJOR,
        "event_type": EventType.PROCESSING_ERROR_ALARM,
        "probable_cause": "health probe web_health failed",
        "fault_type": "VNFC_UNHEALTHY",
        "root_cause_resource": {
            "faultyResource": {
                "resourceId": "vnfm-i-web-0",
                "vimLevelResourceType": "netns",
            },
            "faultyResourceType": "COMPUTE",
        },
        "fault_details": ["GET /health: connection refused"],
        "source": "watcher",
    }
    report.update(over)
    return report


def subscribe(s: Store, **flt: Any) -> str:
    doc = SubscriptionRegistry(s, NoBox()).add(
        FM_API, "/vnffm/v1/subscriptions", {"callbackUri": "http://nfvo/cb", "filter": flt}
    )
    return str(doc["id"])


def notes(s: Store, sub_id: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [(r.notification_type, r.payload) for r in Outbox(s).rows(sub_id)]


def alarm_rows(s: Store) -> int:
    with s.reading() as session:
        return int(session.scalar(select(func.count()).select_from(AlarmRow)) or 0)


def test_one_fault_is_one_alarm_updated_while_it_lasts(store: Store) -> None:
    sub = subscribe(store)
    svc = AlarmService(store, Clock())
    first = svc.raise_or_update(**fault())
    again = svc.raise_or_update(**fault())  # the watcher's next pass: the same fault
    assert again == first and alarm_rows(store) == 1
    doc = first.document()
    assert set(doc) >= SOL003_FIELDS and "alarmClearedTime" not in doc
    assert doc["managedObjectId"] == INST and doc["vnfcInstanceIds"] == ["web-0"]
    assert doc["ackState"] == "UNACKNOWLEDGED" and doc["isRootCause"] is True
    assert doc["_links"]["self"]["href"] == f"/vnffm/v1/alarms/{first.id}"
    assert doc["_links"]["objectInstance"]["href"] == f"/vnflcm/v2/vnf_instances/{INST}"
    assert [t for t, _ in notes(store, sub)] == ["AlarmNotification"]

    worse = svc.raise_or_update(**fault(severity=PerceivedSeverity.CRITICAL))
    assert worse.id == first.id and worse.perceivedSeverity == PerceivedSeverity.CRITICAL
    assert worse.alarmChangedTime is not None and worse.alarmChangedTime > first.alarmRaisedTime
    assert worse.alarmRaisedTime == first.alarmRaisedTime
    sent = notes(store, sub)
    assert [t for t, _ in sent] == ["AlarmNotification", "AlarmNotification"]
    assert sent[1][1]["alarm"]["perceivedSeverity"] == "CRITICAL"
    assert sent[1][1]["alarm"]["alarmChangedTime"] == worse.alarmChangedTime
    assert alarm_rows(store) == 1
    assert [a.id for a in svc.open_alarms(INST)] == [first.id] and svc.open_alarms(OTHER) == []


def test_cleared_once_then_the_same_fault_is_a_new_alarm(store: Store) -> None:
    sub = subscribe(store)
    svc = AlarmService(store, Clock())
    raised = svc.raise_or_update(**fault())
    cleared = svc.clear(key=raised.key)
    assert cleared is not None and cleared.id == raised.id and cleared.cleared
    assert cleared.perceivedSeverity == PerceivedSeverity.CLEARED
    assert svc.clear(key=raised.key) is None  # a fault ends once
    assert svc.open_alarms() == []
    kinds = [t for t, _ in notes(store, sub)]
    assert kinds == ["AlarmNotification", "AlarmClearedNotification"]
    payload = notes(store, sub)[1][1]
    assert payload["alarmId"] == raised.id
    assert payload["alarmClearedTime"] == cleared.alarmClearedTime
    assert payload["_links"]["alarm"]["href"] == f"/vnffm/v1/alarms/{raised.id}"

    back = svc.raise_or_update(**fault())  # the fault happens again later
    assert back.id != raised.id and alarm_rows(store) == 2
    assert [a.id for a in svc.alarms(INST)] == [raised.id, back.id]


def test_a_restart_finds_the_open_alarm_and_writes_nothing_new(store: Store, url: str) -> None:
    sub = subscribe(store)
    raised = AlarmService(store, Clock()).raise_or_update(**fault())
    store.engine.dispose()
    reopened = open_store(url)  # another process, or the server started again
    try:
        svc = AlarmService(reopened, Clock())
        assert svc.raise_or_update(**fault()).id == raised.id
        assert alarm_rows(reopened) == 1
        assert [t for t, _ in notes(reopened, sub)] == ["AlarmNotification"]
        svc.rebuild()
        kinds = [t for t, _ in notes(reopened, sub)]
        assert kinds == ["AlarmNotification", "AlarmListRebuiltNotification"]
        rebuilt = notes(reopened, sub)[-1][1]
        assert rebuilt["_links"]["alarms"]["href"] == "/vnffm/v1/alarms"
    finally:
        reopened.engine.dispose()


class Failing:
    """Writes the notification, then fails: the alarm's transaction must roll back whole."""

    def alarm(self, session: Session, alarm: dict[str, Any]) -> int:
        FM_NOTICES.alarm(session, alarm)
        session.flush()
        raise RuntimeError("the process dies before the commit")

    def cleared(self, session: Session, alarm: dict[str, Any], severity: str) -> int:
        FM_NOTICES.cleared(session, alarm, severity)
        session.flush()
        raise RuntimeError("the process dies before the commit")

    def rebuilt(self, session: Session) -> int:
        return FM_NOTICES.rebuilt(session)


def test_notifications_commit_with_the_alarm_or_not_at_all(store: Store) -> None:
    sub = subscribe(store)
    broken = AlarmService(store, Clock(), notices=Failing())
    with pytest.raises(RuntimeError):
        broken.raise_or_update(**fault())
    assert alarm_rows(store) == 0 and notes(store) == []

    svc = AlarmService(store, Clock())
    raised = svc.raise_or_update(**fault())
    with pytest.raises(RuntimeError):
        broken.clear(key=raised.key)
    assert [a.id for a in svc.open_alarms()] == [raised.id]  # not cleared
    assert [t for t, _ in notes(store, sub)] == ["AlarmNotification"]
    # the row and its notification share the transaction: the outbox row is there,
    # in the alarm's instance queue, with the alarm as the service returned it
    with store.reading() as s:
        row = s.scalars(select(NotificationOutboxRow)).one()
    assert row.vnf_instance_id == INST
    assert row.payload["alarm"] == raised.document()


def test_filters_choose_the_subscribers(store: Store) -> None:
    everyone = subscribe(store)
    critical = subscribe(store, perceivedSeverities=["CRITICAL"])
    other = subscribe(store, vnfInstanceSubscriptionFilter={"vnfInstanceIds": [OTHER]})
    clears = subscribe(store, notificationTypes=["AlarmClearedNotification"])
    comms = subscribe(store, eventTypes=["COMMUNICATIONS_ALARM"], faultyResourceTypes=["COMPUTE"])
    svc = AlarmService(store, Clock())
    major = svc.raise_or_update(**fault())
    svc.raise_or_update(**fault(severity=PerceivedSeverity.CRITICAL))
    svc.clear(key=major.key)
    svc.raise_or_update(
        **fault(key="k2", instance_id=OTHER, event_type=EventType.COMMUNICATIONS_ALARM)
    )
    svc.rebuild()

    def kinds(sub: str) -> list[str]:
        return [t for t, _ in notes(store, sub)]

    assert kinds(everyone) == [
        "AlarmNotification",
        "AlarmNotification",
        "AlarmClearedNotification",
        "AlarmNotification",
        "AlarmListRebuiltNotification",
    ]
    # the clear of a CRITICAL alarm reaches those who asked for CRITICAL ones
    assert kinds(critical) == [
        "AlarmNotification",
        "AlarmClearedNotification",
        "AlarmListRebuiltNotification",
    ]
    assert kinds(other) == ["AlarmNotification", "AlarmListRebuiltNotification"]
    assert kinds(clears) == ["AlarmClearedNotification"]
    assert kinds(comms) == ["AlarmNotification", "AlarmListRebuiltNotification"]


def test_two_writers_raising_the_same_fault_make_one_alarm(store: Store, url: str) -> None:
    sub = subscribe(store)
    stores = [open_store(url) for _ in range(4)]
    got: list[Alarm] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def raise_it(s: Store) -> None:
        try:
            start.wait()
            got.append(AlarmService(s, Clock()).raise_or_update(**fault()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=raise_it, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.engine.dispose()
    assert errors == []
    assert len({a.id for a in got}) == 1 and alarm_rows(store) == 1
    assert [t for t, _ in notes(store, sub)] == ["AlarmNotification"]


def test_acknowledge(store: Store) -> None:
    svc = AlarmService(store, Clock())
    raised = svc.raise_or_update(**fault())
    acked = svc.acknowledge(raised.id)
    assert acked.ackState == AckState.ACKNOWLEDGED and acked.alarmAcknowledgedTime
    with pytest.raises(LcmError) as conflict:
        svc.acknowledge(raised.id)
    assert conflict.value.status == 409
    back = svc.set_ack_state(raised.id, AckState.UNACKNOWLEDGED)
    assert back.ackState == AckState.UNACKNOWLEDGED and back.alarmAcknowledgedTime is None
    with pytest.raises(NotFound):
        svc.acknowledge("no-such-alarm")
    # an acknowledged alarm keeps its acknowledgement while the fault lasts
    svc.acknowledge(raised.id)
    worse = svc.raise_or_update(**fault(severity=PerceivedSeverity.CRITICAL))
    assert worse.ackState == AckState.ACKNOWLEDGED


def test_clear_instance_and_counts(store: Store) -> None:
    svc = AlarmService(store, Clock())
    svc.raise_or_update(**fault())
    svc.raise_or_update(**fault(key="k2", vnfc_ids=["web-1"], severity=PerceivedSeverity.CRITICAL))
    svc.raise_or_update(**fault(key="k3", instance_id=OTHER))
    assert svc.open_count() == {"MAJOR": 2, "CRITICAL": 1}
    assert len(svc.clear_instance(INST)) == 2
    assert [a.key for a in svc.open_alarms()] == ["k3"]
    assert svc.open_count() == {"MAJOR": 1}


def test_bad_reports_are_refused(store: Store) -> None:
    svc = AlarmService(store, Clock())
    with pytest.raises(LcmError):
        svc.raise_or_update(**fault(key=""))
    with pytest.raises(LcmError):
        svc.raise_or_update(**fault(key="k" * 513))
    with pytest.raises(LcmError):
        svc.raise_or_update(**fault(severity=PerceivedSeverity.CLEARED))
    assert alarm_rows(store) == 0
