"""Alarms: SOL003 VNF fault management's records (``/vnffm/v1/alarms``).

One fault is one alarm. A source (the watcher's drifts and probes, the
Alertmanager webhook) names its fault with a ``key`` and calls
:meth:`AlarmService.raise_or_update` while the fault lasts and
:meth:`AlarmService.clear` when it ends: the first call raises the alarm, later
ones change it only when something changed (severity, VNFCs, details...), and
the clear happens once. The database holds at most one open alarm per key (a
partial unique index), so neither a restart nor two processes raising the same
fault duplicate it. Every raise, change and clear writes its notification
(AlarmNotification, AlarmClearedNotification) in the same transaction as the
alarm (the store's outbox); :meth:`AlarmService.rebuild` announces
AlarmListRebuiltNotification after a start-up.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vnfm_runner.assurance.fm_ports import (
    FM_NOTICES,
    UTC_CLOCK,
    AlarmRecords,
    Clock,
    FmNotices,
)
from vnfm_runner.domain import AckState, EventType, PerceivedSeverity
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.notify.fm import alarm_links
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import iso
from vnfm_runner.store.tables import AlarmRow

__all__ = ["Alarm", "AlarmService"]

KEY_MAX = 512  # AlarmRow.key


@dataclass(frozen=True)
class Alarm:
    """A SOL003 ``Alarm`` (7.5.2.4) with the fault ``key`` it stands for. Times are
    SOL013 date-time strings; :meth:`document` is the JSON the API returns
    (``links`` is its ``_links``)."""

    id: str
    key: str
    managedObjectId: str
    vnfcInstanceIds: list[str]
    rootCauseFaultyResource: dict[str, Any] | None
    alarmRaisedTime: str
    alarmChangedTime: str | None
    alarmClearedTime: str | None
    alarmAcknowledgedTime: str | None
    ackState: AckState
    perceivedSeverity: PerceivedSeverity
    eventTime: str
    eventType: EventType
    faultType: str | None
    probableCause: str
    isRootCause: bool
    correlatedAlarmIds: list[str] = field(default_factory=list)
    faultDetails: list[str] = field(default_factory=list)
    links: dict[str, Any] = field(default_factory=dict)

    @property
    def cleared(self) -> bool:
        return self.alarmClearedTime is not None

    def document(self) -> dict[str, Any]:
        """The SOL003 Alarm: absent optional attributes left out."""
        doc: dict[str, Any] = {
            "id": self.id,
            "managedObjectId": self.managedObjectId,
            "vnfcInstanceIds": list(self.vnfcInstanceIds),
            "rootCauseFaultyResource": copy.deepcopy(self.rootCauseFaultyResource),
            "alarmRaisedTime": self.alarmRaisedTime,
            "alarmChangedTime": self.alarmChangedTime,
            "alarmClearedTime": self.alarmClearedTime,
            "alarmAcknowledgedTime": self.alarmAcknowledgedTime,
            "ackState": self.ackState.value,
            "perceivedSeverity": self.perceivedSeverity.value,
            "eventTime": self.eventTime,
            "eventType": self.eventType.value,
            "faultType": self.faultType,
            "probableCause": self.probableCause,
            "isRootCause": self.isRootCause,
            "correlatedAlarmIds": list(self.correlatedAlarmIds),
            "faultDetails": list(self.faultDetails),
            "_links": copy.deepcopy(self.links),
        }
        return {k: v for k, v in doc.items() if v is not None}

    @classmethod
    def from_document(cls, key: str, doc: dict[str, Any]) -> Alarm:
        return cls(
            id=str(doc["id"]),
            key=key,
            managedObjectId=str(doc["managedObjectId"]),
            vnfcInstanceIds=list(doc.get("vnfcInstanceIds") or []),
            rootCauseFaultyResource=copy.deepcopy(doc.get("rootCauseFaultyResource")),
            alarmRaisedTime=str(doc["alarmRaisedTime"]),
            alarmChangedTime=doc.get("alarmChangedTime"),
            alarmClearedTime=doc.get("alarmClearedTime"),
            alarmAcknowledgedTime=doc.get("alarmAcknowledgedTime"),
            ackState=AckState(doc["ackState"]),
            perceivedSeverity=PerceivedSeverity(doc["perceivedSeverity"]),
            eventTime=str(doc["eventTime"]),
            eventType=EventType(doc["eventType"]),
            faultType=doc.get("faultType"),
            probableCause=str(doc["probableCause"]),
            isRootCause=bool(doc.get("isRootCause", True)),
            correlatedAlarmIds=list(doc.get("correlatedAlarmIds") or []),
            faultDetails=list(doc.get("faultDetails") or []),
            links=copy.deepcopy(doc.get("_links") or {}),
        )


def _alarm(row: AlarmRow) -> Alarm:
    return Alarm.from_document(row.key, row.doc)


# What a later report of an open fault may change (the rest is the alarm's identity).
_CHANGEABLE = (
    "perceivedSeverity",
    "vnfcInstanceIds",
    "rootCauseFaultyResource",
    "eventType",
    "faultType",
    "probableCause",
    "faultDetails",
)


class AlarmService:
    """Raises, changes, clears and acknowledges alarms; each change with its notification
    in one transaction (see the module doc)."""

    def __init__(
        self, records: AlarmRecords, clock: Clock, notices: FmNotices = FM_NOTICES
    ) -> None:
        self.records = records
        self.clock = clock
        self.notices = notices

    @classmethod
    def open(cls, settings: Settings) -> AlarmService:
        """The alarms of a VNFM's store (``VNFM_HOME`` / ``VNFM_DATABASE_URL``), for a
        program embedding the VNFM and for the CLI: its changes notify subscribers as the
        server's do (the store's outbox; a server on the same store delivers them)."""
        from vnfm_runner.bootstrap import open_store  # the composition root, when asked

        return cls(open_store(settings.db_url), UTC_CLOCK)

    # -- the sources' side ---------------------------------------------------------------
    def raise_or_update(
        self,
        *,
        key: str,
        instance_id: str,
        vnfc_ids: list[str],
        severity: PerceivedSeverity,
        event_type: EventType,
        probable_cause: str,
        fault_type: str,
        root_cause_resource: dict[str, Any] | None,
        fault_details: list[str],
        source: str,
        event_time: datetime | None = None,
    ) -> Alarm:
        """The open alarm of ``key``: raised now, changed if the report differs from it,
        or as it was. An AlarmNotification is written when it is raised or changed."""
        if not key or len(key) > KEY_MAX:
            raise LcmError(f"an alarm key has 1 to {KEY_MAX} characters", 422)
        if severity == PerceivedSeverity.CLEARED:
            raise LcmError("a fault is cleared with clear(), not raised as CLEARED", 422)
        report: dict[str, Any] = {
            "perceivedSeverity": PerceivedSeverity(severity).value,
            "vnfcInstanceIds": sorted(set(vnfc_ids)),
            "rootCauseFaultyResource": copy.deepcopy(root_cause_resource),
            "eventType": EventType(event_type).value,
            "faultType": fault_type,
            "probableCause": probable_cause,
            "faultDetails": [*fault_details, f"source: {source}"],
        }
        try:
            return self._raise_or_update(key, instance_id, report, event_time)
        except IntegrityError:
            # another process raised the same fault at the same moment (PostgreSQL: the
            # partial unique index refused our insert): the alarm is theirs, update it
            return self._raise_or_update(key, instance_id, report, event_time)

    def _raise_or_update(
        self,
        key: str,
        instance_id: str,
        report: dict[str, Any],
        event_time: datetime | None,
    ) -> Alarm:
        stamp = self.clock.now()
        with self.records.session() as s:
            row = _open_row(s, key)
            if row is None:
                alarm_id = str(uuid.uuid4())
                doc: dict[str, Any] = {
                    "id": alarm_id,
                    "managedObjectId": instance_id,
                    **report,
                    "alarmRaisedTime": iso(stamp),
                    "ackState": AckState.UNACKNOWLEDGED.value,
                    "eventTime": iso(event_time or stamp),
                    "isRootCause": True,
                    "correlatedAlarmIds": [],
                    "_links": alarm_links(alarm_id, instance_id),
                }
                doc = {k: v for k, v in doc.items() if v is not None}
                s.add(
                    AlarmRow(
                        id=alarm_id,
                        key=key,
                        vnf_instance_id=instance_id,
                        perceived_severity=doc["perceivedSeverity"],
                        ack_state=doc["ackState"],
                        doc=doc,
                        created_at=stamp,
                        changed_at=stamp,
                        cleared_at=None,
                    )
                )
                s.flush()  # the unique index speaks now, before the notification is built
                self.notices.alarm(s, doc)
                return Alarm.from_document(key, doc)
            changed = {name: value for name, value in report.items() if row.doc.get(name) != value}
            changed = {k: v for k, v in changed.items() if not (v is None and k not in row.doc)}
            if not changed:
                return _alarm(row)
            doc = {**row.doc, **changed, "alarmChangedTime": iso(stamp)}
            if event_time is not None:
                doc["eventTime"] = iso(event_time)
            doc = {k: v for k, v in doc.items() if v is not None}
            row.doc = doc
            row.perceived_severity = doc["perceivedSeverity"]
            row.changed_at = stamp
            self.notices.alarm(s, doc)
            return Alarm.from_document(key, doc)

    def clear(self, *, key: str) -> Alarm | None:
        """Clear the open alarm of ``key`` (AlarmClearedNotification); None when there is
        none: a fault ends once, a second clear does nothing."""
        stamp = self.clock.now()
        with self.records.session() as s:
            row = _open_row(s, key)
            if row is None:
                return None
            return self._clear_row(s, row, stamp)

    def clear_instance(self, instance_id: str) -> list[Alarm]:
        """Clear every open alarm of an instance (it was terminated or deleted)."""
        stamp = self.clock.now()
        with self.records.session() as s:
            rows = list(
                s.scalars(
                    select(AlarmRow)
                    .where(AlarmRow.vnf_instance_id == instance_id, AlarmRow.cleared_at.is_(None))
                    .order_by(AlarmRow.created_at, AlarmRow.id)
                )
            )
            return [self._clear_row(s, row, stamp) for row in rows]

    def _clear_row(self, s: Session, row: AlarmRow, stamp: datetime) -> Alarm:
        severity = str(row.doc.get("perceivedSeverity"))
        doc = {
            **row.doc,
            "perceivedSeverity": PerceivedSeverity.CLEARED.value,
            "alarmClearedTime": iso(stamp),
        }
        row.doc = doc
        row.perceived_severity = PerceivedSeverity.CLEARED.value
        row.cleared_at = stamp
        self.notices.cleared(s, doc, severity)
        return _alarm(row)

    def rebuild(self) -> None:
        """Announce that the alarm list was rebuilt (AlarmListRebuiltNotification): after a
        start-up, once the sources have brought the open alarms up to date, subscribers
        re-read ``/vnffm/v1/alarms`` rather than trust what they missed."""
        with self.records.session() as s:
            self.notices.rebuilt(s)

    # -- the API's side ------------------------------------------------------------------
    def get(self, alarm_id: str) -> Alarm | None:
        with self.records.reading() as s:
            row = s.get(AlarmRow, alarm_id)
            return _alarm(row) if row is not None else None

    def open_alarms(self, instance_id: str | None = None) -> list[Alarm]:
        """The alarms not cleared (of one instance), oldest first."""
        q = (
            select(AlarmRow)
            .where(AlarmRow.cleared_at.is_(None))
            .order_by(AlarmRow.created_at, AlarmRow.id)
        )
        if instance_id is not None:
            q = q.where(AlarmRow.vnf_instance_id == instance_id)
        with self.records.reading() as s:
            return [_alarm(row) for row in s.scalars(q)]

    def alarms(self, instance_id: str | None = None) -> list[Alarm]:
        """Every alarm, cleared ones too (of one instance), oldest first."""
        q = select(AlarmRow).order_by(AlarmRow.created_at, AlarmRow.id)
        if instance_id is not None:
            q = q.where(AlarmRow.vnf_instance_id == instance_id)
        with self.records.reading() as s:
            return [_alarm(row) for row in s.scalars(q)]

    def open_count(self) -> dict[str, int]:
        """Open alarms per perceived severity (the loop's figure on /metrics)."""
        q = (
            select(AlarmRow.perceived_severity, func.count())
            .where(AlarmRow.cleared_at.is_(None))
            .group_by(AlarmRow.perceived_severity)
        )
        with self.records.reading() as s:
            return {str(sev): int(n) for sev, n in s.execute(q)}

    def acknowledge(self, alarm_id: str) -> Alarm:
        """PATCH ackState ACKNOWLEDGED (409 when it already is)."""
        return self.set_ack_state(alarm_id, AckState.ACKNOWLEDGED)

    def set_ack_state(self, alarm_id: str, state: AckState) -> Alarm:
        """SOL003 7.4.3.3.4: 404 for an unknown alarm, 409 when already in that state."""
        state = AckState(state)
        stamp = self.clock.now()
        with self.records.session() as s:
            row = s.get(AlarmRow, alarm_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no alarm {alarm_id}")
            if row.ack_state == state.value:
                raise LcmError(f"alarm {alarm_id} is already {state.value}", 409)
            doc = {**row.doc, "ackState": state.value}
            if state == AckState.ACKNOWLEDGED:
                doc["alarmAcknowledgedTime"] = iso(stamp)
            else:
                doc.pop("alarmAcknowledgedTime", None)
            row.doc = doc
            row.ack_state = state.value
            return _alarm(row)


def _open_row(s: Session, key: str) -> AlarmRow | None:
    return s.scalars(
        select(AlarmRow).where(AlarmRow.key == key, AlarmRow.cleared_at.is_(None)).with_for_update()
    ).first()
