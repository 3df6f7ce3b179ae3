"""The ports of the alarm service (alarms.py): where alarms are kept, what time it is,
and how their notifications are written.

The composition root gives the real ones (the ``Store``, the system clock,
``FM_NOTICES`` over notify/fm.py); tests may give fakes. Alarms and their
notifications share one transaction, so the notices port works on the records'
own session.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from vnfm_runner.notify import fm
from vnfm_runner.store.db import now


class AlarmRecords(Protocol):
    """Transactions on the store holding ``fm_alarms`` (store.db.Store)."""

    def session(self) -> AbstractContextManager[Session]: ...

    def reading(self) -> AbstractContextManager[Session]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class UtcClock:
    """The system clock (UTC), as the store stamps its records."""

    def now(self) -> datetime:
        return now()


class FmNotices(Protocol):
    """Writes the FM notifications of a change in the change's own session."""

    def alarm(self, session: Session, alarm: dict[str, Any]) -> int: ...

    def cleared(self, session: Session, alarm: dict[str, Any], severity: str) -> int: ...

    def rebuilt(self, session: Session) -> int: ...


class OutboxNotices:
    """The real notices: outbox rows for the matching FM subscriptions (notify/fm.py)."""

    def alarm(self, session: Session, alarm: dict[str, Any]) -> int:
        return fm.announce_alarm(session, alarm)

    def cleared(self, session: Session, alarm: dict[str, Any], severity: str) -> int:
        return fm.announce_cleared(session, alarm, severity)

    def rebuilt(self, session: Session) -> int:
        return fm.announce_rebuilt(session)


FM_NOTICES = OutboxNotices()
UTC_CLOCK = UtcClock()
