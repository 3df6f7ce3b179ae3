"""The outbox: notifications written when events happen, read by delivery workers.

Rows are written by the store's journal (journal.py) in the transaction of
the change they announce. Everything here is one short transaction on the
store's database, so several servers sharing it (PostgreSQL) cooperate: a row
is sent by the worker that claimed it (compare-and-set with a lease), and only
when it is the oldest PENDING row of its queue: (subscription, VNF instance) for
LCM notifications, (subscription, VNF package) for package management ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import NotificationOutboxRow as Row

PENDING, SENT, DROPPED = "PENDING", "SENT", "DROPPED"


class Subscriptions(Protocol):
    """What delivery needs from the subscription registry (notify/subscriptions.py)."""

    def get(self, sub_id: str) -> dict[str, Any] | None: ...

    def authentication(self, sub_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds the lease of."""

    seq: int
    id: str
    subscription_id: str
    vnf_instance_id: str
    notification_type: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- writing (the store's journal writes rows as changes happen: journal.py) ---------------
    def add(self, key: str, instance_id: str, notifications: list[dict[str, Any]]) -> int:
        """Insert one row per notification (one per subscription) unless already there."""
        if not notifications:
            return 0
        stamp = now()
        try:
            with self.store.session() as s:
                have = set(
                    s.scalars(
                        select(Row.subscription_id).where(
                            Row.event_key == key,
                            Row.subscription_id.in_([n["subscriptionId"] for n in notifications]),
                        )
                    )
                )
                fresh = [n for n in notifications if n["subscriptionId"] not in have]
                for n in fresh:
                    s.add(outbox_row(n, key, instance_id, stamp))
                return len(fresh)
        except IntegrityError:
            return 0  # another process wrote the same event at the same time

    # -- reading the queues ------------------------------------------------------------------
    def heads(self, limit: int, skip_subscriptions: set[str]) -> list[tuple[int, str]]:
        """Rows due now, each the oldest PENDING one of its (subscription, instance) queue:
        (seq, subscription id), oldest first."""
        stamp = now()
        earlier = aliased(Row)
        q = (
            select(Row.seq, Row.subscription_id)
            .where(
                Row.status == PENDING,
                Row.next_attempt_at <= stamp,
                or_(Row.lease_expires_at.is_(None), Row.lease_expires_at < stamp),
                ~exists().where(
                    and_(
                        earlier.status == PENDING,
                        earlier.subscription_id == Row.subscription_id,
                        earlier.vnf_instance_id == Row.vnf_instance_id,
                        earlier.seq < Row.seq,
                    )
                ),
            )
            .order_by(Row.seq)
            .limit(limit)
        )
        if skip_subscriptions:
            q = q.where(Row.subscription_id.not_in(sorted(skip_subscriptions)))
        with self.store.reading() as s:
            return [(int(seq), str(sub)) for seq, sub in s.execute(q)]

    def claim(self, seq: int, worker: str, lease: timedelta) -> Claimed | None:
        """Take a row unless it is done or another worker holds a live lease on it."""
        stamp = now()
        with self.store.session() as s:
            result = s.execute(
                update(Row)
                .where(
                    Row.seq == seq,
                    Row.status == PENDING,
                    or_(
                        Row.claimed_by.is_(None),
                        Row.claimed_by == worker,
                        Row.lease_expires_at < stamp,
                    ),
                )
                .values(claimed_by=worker, lease_expires_at=stamp + lease)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            row = s.get(Row, seq)
            if row is None:
                return None
            return Claimed(
                seq=row.seq,
                id=row.id,
                subscription_id=row.subscription_id,
                vnf_instance_id=row.vnf_instance_id,
                notification_type=row.notification_type,
                payload=dict(row.payload),
                attempts=row.attempts,
                created_at=row.created_at,
            )

    # -- outcomes (only while holding the lease) -------------------------------------------------
    def sent(self, seq: int, worker: str) -> bool:
        return self._finish(seq, worker, status=SENT, done_at=now())

    def dropped(self, seq: int, worker: str, reason: str) -> bool:
        return self._finish(seq, worker, status=DROPPED, done_at=now(), last_error=reason[:1024])

    def failed(self, seq: int, worker: str, error: str, retry_at: datetime) -> bool:
        return self._finish(
            seq,
            worker,
            attempts=Row.attempts + 1,
            next_attempt_at=retry_at,
            last_error=error[:1024],
        )

    def _finish(self, seq: int, worker: str, **values: Any) -> bool:
        with self.store.session() as s:
            result = s.execute(
                update(Row)
                .where(Row.seq == seq, Row.claimed_by == worker, Row.status == PENDING)
                .values(claimed_by=None, lease_expires_at=None, **values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, worker: str) -> None:
        """Give back every lease of a worker (it stops)."""
        with self.store.session() as s:
            s.execute(
                update(Row)
                .where(Row.claimed_by == worker, Row.status == PENDING)
                .values(claimed_by=None, lease_expires_at=None)
            )

    # -- housekeeping --------------------------------------------------------------------------
    def drop_older_than(self, cutoff: datetime) -> int:
        """Give up on PENDING rows created before cutoff that nobody is sending now."""
        stamp = now()
        with self.store.session() as s:
            result = s.execute(
                update(Row)
                .where(
                    Row.status == PENDING,
                    Row.created_at < cutoff,
                    or_(Row.lease_expires_at.is_(None), Row.lease_expires_at < stamp),
                )
                .values(
                    status=DROPPED,
                    done_at=stamp,
                    claimed_by=None,
                    lease_expires_at=None,
                    last_error="gave up: older than the maximum age",
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def purge(self, cutoff: datetime) -> int:
        """Delete SENT and DROPPED rows finished before cutoff."""
        with self.store.session() as s:
            result = s.execute(
                delete(Row).where(Row.status.in_((SENT, DROPPED)), Row.done_at < cutoff)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def backlog(self) -> tuple[int, datetime | None]:
        """How many rows are PENDING, and when the oldest was written."""
        with self.store.reading() as s:
            count, oldest = s.execute(
                select(func.count(), func.min(Row.created_at)).where(Row.status == PENDING)
            ).one()
        if isinstance(oldest, str):  # SQLite returns min() of a datetime column as text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # stored as UTC (UTCDateTime)
        return int(count), oldest

    def rows(self, subscription_id: str | None = None) -> list[Row]:
        """Every row, in order (for tests and tooling)."""
        with self.store.reading() as s:
            q = select(Row).order_by(Row.seq)
            if subscription_id:
                q = q.where(Row.subscription_id == subscription_id)
            return list(s.scalars(q))


def outbox_row(notification: dict[str, Any], key: str, queue: str, stamp: datetime) -> Row:
    """The PENDING row of one notification, in the queue of a VNF instance or package."""
    return Row(
        id=notification["id"],
        subscription_id=notification["subscriptionId"],
        vnf_instance_id=queue,
        notification_type=notification["notificationType"],
        event_key=key,
        payload=notification,
        status=PENDING,
        attempts=0,
        next_attempt_at=stamp,
        created_at=stamp,
    )


def new_worker_id() -> str:
    return f"notify-{uuid.uuid4()}"
