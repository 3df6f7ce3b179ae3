"""Notifications written in the transaction of the change they announce.

Every ``Store`` installs a :class:`Journal` on its sessions. Before a session
flushes, the journal looks at what the flush writes and, for each change a
subscriber may be told about, adds one outbox row per matching subscription
to the same flush:

- a VnfInstance inserted or deleted (``VnfIdentifierCreation/DeletionNotification``);
- an LcmOpOcc inserted (STARTING) or entering a state: a new
  (``operationState``, ``stateEnteredTime``) in its document
  (``VnfLcmOperationOccurrenceNotification``);
- a VnfPkgInfo becoming ONBOARDED (``VnfPackageOnboardingNotification``), changing
  its operational state or being deleted (``VnfPackageChangeNotification``).

So whichever process makes the change — the CLI, a Python program using
``Vnfm``, the API server — the notification exists exactly when the change
is committed: a process that dies right after loses nothing, and a change
rolled back announces nothing. Delivery is the worker's (worker.py); after a
commit that wrote rows, the journal wakes the workers of this process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from vnfm_runner.notify import documents, packages
from vnfm_runner.notify.outbox import outbox_row
from vnfm_runner.store.db import now
from vnfm_runner.store.tables import (
    LCM_API,
    PKGM_API,
    InstanceRow,
    NotificationOutboxRow,
    OperationRow,
    PackageRow,
    PkgInfoRow,
    SubscriptionRow,
)

log = logging.getLogger("vnfm.notify")
_WROTE = "vnfm_notifications_written"


@dataclass(frozen=True)
class Event:
    """One announceable change, and how to build its notification for a subscription."""

    api: str  # which subscriptions may want it (SubscriptionRow.api)
    key: str  # unique per event: an event seen twice is written once
    queue: str  # the outbox queue (VNF instance or VNF package id): delivered in order
    selects: Callable[[dict[str, Any]], bool]  # the subscription's filter -> wanted?
    build: Callable[[str, dict[str, Any]], dict[str, Any]]  # (sub id, sub doc) -> notification


# (SubscriptionRow.api, the event) of one change, the event made only when needed
Change = tuple[str, Callable[[], Event]]


class Journal:
    def __init__(self) -> None:
        # called after a commit that wrote notifications (the local delivery workers)
        self.wakers: list[Callable[[], None]] = []

    def install(self, sessions: sessionmaker[Session]) -> None:
        event.listen(sessions, "before_flush", self._before_flush)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_rollback", self._after_rollback)

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        changes = list(_changes(session))
        if not changes:
            return
        with session.no_autoflush:
            if _write(session, changes):
                session.info[_WROTE] = True

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_WROTE, False):
            for wake in list(self.wakers):
                wake()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_WROTE, None)


def announce(session: Session, api: str, make: Callable[[], Event]) -> int:
    """Write the notifications of an event its maker announces itself, in the maker's
    transaction: changes no flush shows (an alarm list rebuilt) or whose meaning only
    the maker knows (an alarm raised, changed, cleared: notify/fm.py)."""
    with session.no_autoflush:
        count = _write(session, [(api, make)])
    if count:
        session.info[_WROTE] = True  # wakes this process's delivery workers at commit
    return count


def _write(session: Session, changes: list[Change]) -> int:
    subs: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for api in {api for api, _ in changes}:
        rows = session.execute(
            select(SubscriptionRow.id, SubscriptionRow.doc)
            .where(SubscriptionRow.api == api)
            .order_by(SubscriptionRow.created_at, SubscriptionRow.id)
        )
        subs[api] = [(str(sub_id), dict(doc)) for sub_id, doc in rows]
    # events are worked out (which may read the instance or package) only for subscribers
    events = [make() for api, make in changes if subs[api]]
    if not events:
        return 0
    Row = NotificationOutboxRow
    keys = {e.key for e in events}
    written = {
        (str(sub_id), str(key))
        for sub_id, key in session.execute(
            select(Row.subscription_id, Row.event_key).where(Row.event_key.in_(keys))
        )
    }
    stamp = now()
    count = 0
    for ev in events:
        for sub_id, doc in subs[ev.api]:
            if (sub_id, ev.key) in written:
                continue
            try:
                if not ev.selects(doc.get("filter") or {}):
                    continue
                notification = ev.build(sub_id, doc)
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                # a filter that cannot be evaluated must not fail the change itself
                log.warning("subscription %s: filter not usable: %s", sub_id, type(exc).__name__)
                continue
            session.add(outbox_row(notification, ev.key, ev.queue, stamp))
            written.add((sub_id, ev.key))
            count += 1
    return count


# -- what a flush announces -------------------------------------------------------------------
def _changes(session: Session) -> Iterator[Change]:
    """(api, how to make the event) of each announceable change in the flush; the
    events are made only when somebody subscribed to that api."""
    for obj in session.new:
        if isinstance(obj, InstanceRow):
            yield LCM_API, partial(_instance_event, "instance_created", obj)
        elif isinstance(obj, OperationRow):
            yield LCM_API, partial(_operation_event, session, obj)
        elif (
            isinstance(obj, PkgInfoRow) and obj.onboarding_state == "ONBOARDED" and not obj.deleted
        ):  # a package onboarded elsewhere (CLI), adopted by the API now
            yield PKGM_API, partial(_package_event, session, obj, packages.ONBOARDED)
    for obj in session.dirty:
        if isinstance(obj, OperationRow) and _entered_a_state(obj):
            yield LCM_API, partial(_operation_event, session, obj)
        elif isinstance(obj, PkgInfoRow):
            change = _package_change(obj)
            if change is not None:
                yield PKGM_API, partial(_package_event, session, obj, change)
    for obj in session.deleted:
        if isinstance(obj, InstanceRow):
            yield LCM_API, partial(_instance_event, "instance_deleted", obj)


def _entered_a_state(op: OperationRow) -> bool:
    """A new state column, or a document entering a state (Vnfm._set_state sets
    both: a new ``stateEnteredTime`` even when the state is the same again)."""
    attrs = inspect(op).attrs
    if attrs.state.history.added:
        return True
    history = attrs.doc.history
    if not history.added:
        return False
    new = history.added[0]
    old = history.deleted[0] if history.deleted else None
    return not isinstance(old, dict) or (
        documents.event_key("operation", old) != documents.event_key("operation", new)
    )


def _lcm_event(kind: str, doc: dict[str, Any], instance: dict[str, Any] | None) -> Event:
    probe = documents.probe(kind, doc)
    return Event(
        api=LCM_API,
        key=documents.event_key(kind, doc),
        queue=documents.instance_id_of(kind, doc),
        selects=lambda flt: documents.selects(flt, probe, instance),
        build=lambda sub_id, sub: documents.build(kind, doc, {**sub, "id": sub_id}),
    )


def _instance_event(kind: str, row: InstanceRow) -> Event:
    doc = {**row.doc, "id": row.id}
    return _lcm_event(kind, doc, doc)


def _operation_event(session: Session, op: OperationRow) -> Event:
    # the row's columns over its document: they are what the store relies on
    doc = {
        "operation": op.operation,
        **op.doc,
        "operationState": op.state,
        "id": op.id,
        "vnfInstanceId": op.vnf_instance_id,
    }
    instance = session.get(InstanceRow, op.vnf_instance_id)
    return _lcm_event("operation", doc, {**instance.doc} if instance is not None else None)


def _package_change(pkg: PkgInfoRow) -> str | None:
    """What a change of a VnfPkgInfo announces (packages.ONBOARDED, OP_STATE_CHANGE,
    PKG_DELETE), if anything."""
    attrs = inspect(pkg).attrs
    if attrs.deleted.history.added and pkg.deleted:
        return packages.PKG_DELETE
    if pkg.deleted or pkg.onboarding_state != "ONBOARDED":
        return None
    if attrs.onboarding_state.history.added:
        return packages.ONBOARDED  # the operational state it starts in comes with it
    if attrs.operational_state.history.added:
        return packages.OP_STATE_CHANGE
    return None


def _package_event(session: Session, pkg: PkgInfoRow, change: str) -> Event:
    view = _package_view(session, pkg)
    kind = packages.notification_type(change)
    return Event(
        api=PKGM_API,
        key=packages.event_key(view, change),
        queue=pkg.id,
        selects=lambda flt: packages.selects(flt, kind, view),
        build=lambda sub_id, _sub: packages.build(view, change, sub_id),
    )


def _package_view(session: Session, pkg: PkgInfoRow) -> dict[str, Any]:
    """What package notifications carry and their filters look at."""
    view: dict[str, Any] = {
        "vnfPkgId": pkg.id,
        "operationalState": pkg.operational_state,
        "usageState": "NOT_IN_USE",
    }
    stored = session.get(PackageRow, pkg.store_package_id) if pkg.store_package_id else None
    if stored is not None:
        summary = stored.summary or {}
        view.update(
            vnfdId=summary.get("vnfdId"),
            vnfProvider=summary.get("provider"),
            vnfProductName=summary.get("productName"),
            vnfSoftwareVersion=summary.get("softwareVersion"),
            vnfdVersion=summary.get("vnfdVersion"),
        )
        used = session.scalars(
            select(InstanceRow.id).where(InstanceRow.package_id == stored.id).limit(1)
        ).first()
        if used is not None:
            view["usageState"] = "IN_USE"
    return view
