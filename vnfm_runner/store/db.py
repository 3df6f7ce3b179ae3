"""The store: one SQLAlchemy engine, short transactions; packages, instances and operation
occurrences go in and out as the domain's records (store/mapping.py), never as rows."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, event, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vnfm_runner.domain import (
    InstantiationState,
    OnboardingState,
    OperationState,
    PackageOperationalState,
)
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.store import mapping
from vnfm_runner.store.changes import UNSET, UnitOfWork, Unset
from vnfm_runner.store.tables import (
    FINAL_STATES,
    InstanceRow,
    OperationRow,
    PackageRow,
    PkgInfoRow,
    VimRow,
    strict_json,
)

# How long a SQLite writer waits for another process's transaction.
_SQLITE_BUSY_MS = 10_000

__all__ = ["FINAL_STATES", "UNSET", "BusyError", "Store", "UnitOfWork", "Unset", "iso", "now"]


def now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BusyError(Exception):
    """Another operation is in progress on the same VNF instance."""


class Journal(Protocol):
    """What the composition root installs on the store's sessions: the notification
    journal (notify/journal.py) writes outbox rows in the transaction of the change,
    then wakes this process's delivery workers."""

    wakers: list[Callable[[], None]]

    def install(self, sessions: sessionmaker[Session]) -> None: ...


class NoJournal:
    """A store nobody installed a journal on: nothing is announced."""

    def __init__(self) -> None:
        self.wakers: list[Callable[[], None]] = []

    def install(self, sessions: sessionmaker[Session]) -> None:
        return None


class Store:
    """The records, over one database. The constructor only connects: the schema
    (migrate.upgrade) and the notification journal come from the composition root
    (vnfm_runner/bootstrap.py, ``open_store``)."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # strict_json: no document the database would hold but no reader could use
        self.engine: Engine = create_engine(url, future=True, json_serializer=strict_json)
        if url.startswith("sqlite"):
            # Serialise writers across processes: pysqlite's own transaction
            # handling off, every transaction a BEGIN IMMEDIATE.
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads need no write lock: on SQLite a plain BEGIN (WAL readers never
        # wait for the writer); listings do not queue behind operations.
        self._read_engine = self.engine.execution_options(vnfm_readonly=True)
        self._reads = sessionmaker(self._read_engine, expire_on_commit=False)
        self.journal: Journal = NoJournal()

    def install_journal(self, journal: Journal) -> None:
        """Every change a subscriber may be told about then writes its notifications in
        its own transaction, whichever process makes it."""
        journal.install(self._sessions)
        self.journal = journal

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One transaction for what belongs together: an operation's state, the instance
        change it implies and (the journal's) notification rows commit at once."""
        with self.session() as s:
            yield UnitOfWork(s)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads."""
        with self._reads.begin() as s:
            yield s

    @contextmanager
    def reading_rows(self) -> Iterator[Connection]:
        """A transaction that only reads, for Core queries: no ORM session to set up
        (API listings run one per page)."""
        with self._read_engine.connect() as conn, conn.begin():
            yield conn

    # -- packages -------------------------------------------------------------
    def add_package(self, pkg: VnfPackageRecord, info: PkgInfoRow | None = None) -> None:
        """Record an onboarded package, with its SOL005 VnfPkgInfo when given (one
        transaction: the onboarding notification goes out with the package)."""
        with self.session() as s:
            s.add(mapping.package_row(pkg))
            if info is not None:
                s.flush()  # the package row first: the journal reads it for the notification
                s.add(info)

    def packages(self) -> list[VnfPackageRecord]:
        with self.reading() as s:
            rows = s.scalars(select(PackageRow).order_by(PackageRow.created_at))
            return [mapping.package_record(row) for row in rows]

    def package(self, package_id: str) -> VnfPackageRecord | None:
        with self.reading() as s:
            row = s.get(PackageRow, package_id)
            return None if row is None else mapping.package_record(row)

    def package_by_vnfd(self, vnfd_id: str) -> VnfPackageRecord | None:
        with self.reading() as s:
            rows = s.scalars(
                select(PackageRow)
                .where(
                    PackageRow.vnfd_id == vnfd_id,
                    PackageRow.onboarding_state == OnboardingState.ONBOARDED,
                )
                .order_by(PackageRow.created_at.desc())
            )
            row = rows.first()
            return None if row is None else mapping.package_record(row)

    def package_enabled(self, pkg: VnfPackageRecord) -> bool:
        """Whether new instances may use the package: its VnfPkgInfo (SOL005) is ENABLED
        and not deleted; one onboarded with the CLI and not yet seen by the API has
        none, and its own operational state says."""
        with self.reading() as s:
            rows = list(
                s.execute(
                    select(PkgInfoRow.operational_state, PkgInfoRow.deleted).where(
                        PkgInfoRow.store_package_id == pkg.id
                    )
                )
            )
        enabled = PackageOperationalState.ENABLED
        if not rows:
            return pkg.operational_state == enabled
        return any(state == enabled and not deleted for state, deleted in rows)

    # -- instances ----------------------------------------------------------------
    def add_instance(self, instance: VnfInstanceRecord) -> None:
        with self.session() as s:
            s.add(mapping.instance_row(instance))

    def instance(self, instance_id: str) -> VnfInstanceRecord | None:
        with self.reading() as s:
            row = s.get(InstanceRow, instance_id)
            return None if row is None else mapping.instance_record(row)

    def instances(self) -> list[VnfInstanceRecord]:
        with self.reading() as s:
            rows = s.scalars(select(InstanceRow).order_by(InstanceRow.created_at))
            return [mapping.instance_record(row) for row in rows]

    def update_instance(
        self,
        instance_id: str,
        *,
        doc: dict[str, Any] | Unset = UNSET,
        instantiation_state: InstantiationState | Unset = UNSET,
        desired_state: dict[str, Any] | Unset | None = UNSET,
        vim: dict[str, Any] | Unset | None = UNSET,
        package: VnfPackageRecord | Unset = UNSET,
    ) -> None:
        """Change an instance's record in a transaction of its own (UnitOfWork.instance)."""
        with self.unit_of_work() as uow:
            uow.instance(
                instance_id,
                doc=doc,
                instantiation_state=instantiation_state,
                desired_state=desired_state,
                vim=vim,
                package=package,
            )

    def delete_instance(self, instance_id: str) -> None:
        with self.session() as s:
            row = s.get(InstanceRow, instance_id)
            if row is not None:
                s.delete(row)

    def operated_instance_ids(self) -> set[str]:
        """Every instance id an operation of this store named: the instances this VNFM made,
        kept after their records go (operation occurrences outlive their instance)."""
        with self.reading() as s:
            return set(s.scalars(select(OperationRow.vnf_instance_id).distinct()))

    # -- VIMs ---------------------------------------------------------------------------
    def add_vim(self, row: VimRow) -> None:
        with self.session() as s:
            if s.get(VimRow, row.name) is not None:
                raise KeyError(row.name)
            s.add(row)

    def vim(self, name: str) -> VimRow | None:
        with self.reading() as s:
            return s.get(VimRow, name)

    def vims(self) -> list[VimRow]:
        with self.reading() as s:
            return list(s.scalars(select(VimRow).order_by(VimRow.name)))

    def remove_vim(self, name: str) -> None:
        with self.session() as s:
            row = s.get(VimRow, name)
            if row is not None:
                s.delete(row)

    # -- operations ------------------------------------------------------------------
    def start_operation(self, op: VnfLcmOpOccRecord) -> None:
        """Insert an operation unless the instance has one that is not final.

        SQLite: writers are serialised (BEGIN IMMEDIATE), the check is enough.
        PostgreSQL: two transactions may both pass the check; the partial unique
        index (one non-final operation per instance) makes the second insert fail
        once the first commits, and that failure is the same BusyError.
        """
        try:
            with self.session() as s:
                busy = s.scalars(
                    select(OperationRow)
                    .where(
                        OperationRow.vnf_instance_id == op.vnf_instance_id,
                        OperationRow.state.not_in(FINAL_STATES),
                    )
                    .with_for_update()
                ).first()
                if busy is not None:
                    raise _busy(op.vnf_instance_id, busy.id, busy.operation, busy.state)
                s.add(mapping.operation_row(op))
        except IntegrityError:
            active = self.active_operation(op.vnf_instance_id)
            if active is None or active.id == op.id:
                raise  # not the one-operation rule (a duplicate id, say)
            raise _busy(op.vnf_instance_id, active.id, active.operation, active.state) from None

    def active_operation(self, instance_id: str) -> VnfLcmOpOccRecord | None:
        """The instance's operation that is not in a final state, if any."""
        with self.reading() as s:
            row = s.scalars(
                select(OperationRow).where(
                    OperationRow.vnf_instance_id == instance_id,
                    OperationRow.state.not_in(FINAL_STATES),
                )
            ).first()
            return None if row is None else mapping.operation_record(row)

    # -- leases (see engine.py) ------------------------------------------------------
    def claim_operation(self, op_id: str, engine_id: str, ttl: timedelta) -> bool:
        """Take the operation unless another engine holds a live lease on it."""
        stamp = now()
        with self.session() as s:
            result = s.execute(
                update(OperationRow)
                .where(
                    OperationRow.id == op_id,
                    or_(
                        OperationRow.engine_id.is_(None),
                        OperationRow.engine_id == engine_id,
                        OperationRow.lease_expires_at < stamp,
                    ),
                )
                .values(engine_id=engine_id, lease_expires_at=stamp + ttl)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew_lease(self, op_id: str, engine_id: str, ttl: timedelta) -> bool:
        with self.session() as s:
            result = s.execute(
                update(OperationRow)
                .where(OperationRow.id == op_id, OperationRow.engine_id == engine_id)
                .values(lease_expires_at=now() + ttl)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def renew_leases(self, op_ids: list[str], engine_id: str, ttl: timedelta) -> int:
        """Renew the engine's leases on several operations at once (a server's queue)."""
        with self.session() as s:
            result = s.execute(
                update(OperationRow)
                .where(OperationRow.id.in_(op_ids), OperationRow.engine_id == engine_id)
                .values(lease_expires_at=now() + ttl)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def release_lease(self, op_id: str, engine_id: str) -> None:
        with self.session() as s:
            s.execute(
                update(OperationRow)
                .where(OperationRow.id == op_id, OperationRow.engine_id == engine_id)
                .values(engine_id=None, lease_expires_at=None)
            )

    def expired_operations(self) -> list[VnfLcmOpOccRecord]:
        """Running operations (not final, not FAILED_TEMP) whose lease has expired."""
        with self.reading() as s:
            rows = s.scalars(
                select(OperationRow).where(
                    OperationRow.state.in_([s for s in OperationState if s.running]),
                    OperationRow.lease_expires_at < now(),
                )
            )
            return [mapping.operation_record(row) for row in rows]

    def cancel_mode(self, op_id: str) -> str | None:
        row = self.operation(op_id)
        if row is None or not row.doc.get("isCancelPending"):
            return None
        return str(row.doc.get("cancelMode") or "FORCEFUL")

    def operation(self, op_id: str) -> VnfLcmOpOccRecord | None:
        with self.reading() as s:
            row = s.get(OperationRow, op_id)
            return None if row is None else mapping.operation_record(row)

    def operations(self, instance_id: str | None = None) -> list[VnfLcmOpOccRecord]:
        with self.reading() as s:
            q = select(OperationRow).order_by(OperationRow.created_at)
            if instance_id:
                q = q.where(OperationRow.vnf_instance_id == instance_id)
            return [mapping.operation_record(row) for row in s.scalars(q)]

    def update_operation(
        self,
        op_id: str,
        *,
        state: OperationState | Unset = UNSET,
        doc: dict[str, Any] | Unset = UNSET,
        runner_ident: str | Unset | None = UNSET,
        artifacts_dir: str | Unset | None = UNSET,
        desired_after: dict[str, Any] | Unset | None = UNSET,
    ) -> None:
        """Change an operation's record in a transaction of its own (UnitOfWork.operation)."""
        with self.unit_of_work() as uow:
            uow.operation(
                op_id,
                state=state,
                doc=doc,
                runner_ident=runner_ident,
                artifacts_dir=artifacts_dir,
                desired_after=desired_after,
            )


def _busy(instance_id: str, op_id: str, operation: str, state: str) -> BusyError:
    return BusyError(
        f"VNF instance {instance_id} has operation {op_id} ({operation}) in state {state}"
    )


def _sqlite_begin(conn: Any) -> None:
    readonly = conn.get_execution_options().get("vnfm_readonly")
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
        _switch_to_wal(cur)
    finally:
        cur.close()


def _switch_to_wal(cur: Any) -> None:
    """Put the database in WAL mode (persistent: a no-op once done).

    On a new database, processes that switch at once each hold a read lock and want
    the write lock: SQLite answers one of them "database is locked" at once, without
    waiting (its deadlock rule, which busy_timeout does not cover). Ask again until
    the winner has switched; then the pragma only reads."""
    deadline = time.monotonic() + _SQLITE_BUSY_MS / 1000
    delay = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
