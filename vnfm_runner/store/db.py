"""The store: one SQLAlchemy engine, short transactions, plain dict documents."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vnfm_runner.store.tables import (
    FINAL_STATES,
    InstanceRow,
    OperationRow,
    PackageRow,
    PkgInfoRow,
    VimRow,
)

if TYPE_CHECKING:
    from vnfm_runner.notify.journal import Journal

__all__ = ["FINAL_STATES", "BusyError", "Store", "iso", "now"]


def now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BusyError(Exception):
    """Another operation is in progress on the same VNF instance."""


class Store:
    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            # Serialise writers across processes: pysqlite's own transaction
            # handling off, every transaction a BEGIN IMMEDIATE.
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        # The schema comes from the migrations (store/migrations/), never create_all.
        # Imported here so that `python -m vnfm_runner.store.migrate` runs it fresh.
        from vnfm_runner.store import migrate

        migrate.upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads need no write lock: on SQLite a plain BEGIN (WAL readers never
        # wait for the writer); listings do not queue behind operations.
        self._read_engine = self.engine.execution_options(vnfm_readonly=True)
        self._reads = sessionmaker(self._read_engine, expire_on_commit=False)
        # Every change a subscriber may be told about writes its notifications in
        # its own transaction, whichever process makes it (notify/journal.py).
        from vnfm_runner.notify.journal import Journal

        self.journal: Journal = Journal()
        self.journal.install(self._sessions)

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
    def add_package(self, row: PackageRow, info: PkgInfoRow | None = None) -> None:
        """Record an onboarded package, with its SOL005 VnfPkgInfo when given (one
        transaction: the onboarding notification goes out with the package)."""
        with self.session() as s:
            s.add(row)
            if info is not None:
                s.flush()  # the package row first: the journal reads it for the notification
                s.add(info)

    def packages(self) -> list[PackageRow]:
        with self.reading() as s:
            return list(s.scalars(select(PackageRow).order_by(PackageRow.created_at)))

    def package(self, package_id: str) -> PackageRow | None:
        with self.reading() as s:
            return s.get(PackageRow, package_id)

    def package_by_vnfd(self, vnfd_id: str) -> PackageRow | None:
        with self.reading() as s:
            rows = s.scalars(
                select(PackageRow)
                .where(PackageRow.vnfd_id == vnfd_id, PackageRow.onboarding_state == "ONBOARDED")
                .order_by(PackageRow.created_at.desc())
            )
            return rows.first()

    # -- instances ----------------------------------------------------------------
    def add_instance(self, row: InstanceRow) -> None:
        with self.session() as s:
            s.add(row)

    def instance(self, instance_id: str) -> InstanceRow | None:
        with self.reading() as s:
            return s.get(InstanceRow, instance_id)

    def instances(self) -> list[InstanceRow]:
        with self.reading() as s:
            return list(s.scalars(select(InstanceRow).order_by(InstanceRow.created_at)))

    def update_instance(self, instance_id: str, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(InstanceRow, instance_id)
            if row is None:
                raise KeyError(instance_id)
            for key, value in fields.items():
                setattr(row, key, copy.deepcopy(value))

    def delete_instance(self, instance_id: str) -> None:
        with self.session() as s:
            row = s.get(InstanceRow, instance_id)
            if row is not None:
                s.delete(row)

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
    def start_operation(self, row: OperationRow) -> None:
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
                        OperationRow.vnf_instance_id == row.vnf_instance_id,
                        OperationRow.state.not_in(FINAL_STATES),
                    )
                    .with_for_update()
                ).first()
                if busy is not None:
                    raise _busy(row.vnf_instance_id, busy)
                s.add(row)
        except IntegrityError:
            busy = self.active_operation(row.vnf_instance_id)
            if busy is None or busy.id == row.id:
                raise  # not the one-operation rule (a duplicate id, say)
            raise _busy(row.vnf_instance_id, busy) from None

    def active_operation(self, instance_id: str) -> OperationRow | None:
        """The instance's operation that is not in a final state, if any."""
        with self.reading() as s:
            return s.scalars(
                select(OperationRow).where(
                    OperationRow.vnf_instance_id == instance_id,
                    OperationRow.state.not_in(FINAL_STATES),
                )
            ).first()

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

    def release_lease(self, op_id: str, engine_id: str) -> None:
        with self.session() as s:
            s.execute(
                update(OperationRow)
                .where(OperationRow.id == op_id, OperationRow.engine_id == engine_id)
                .values(engine_id=None, lease_expires_at=None)
            )

    def expired_operations(self) -> list[OperationRow]:
        """Running operations (not final, not FAILED_TEMP) whose lease has expired."""
        with self.reading() as s:
            return list(
                s.scalars(
                    select(OperationRow).where(
                        OperationRow.state.in_(("STARTING", "PROCESSING", "ROLLING_BACK")),
                        OperationRow.lease_expires_at < now(),
                    )
                )
            )

    def cancel_mode(self, op_id: str) -> str | None:
        row = self.operation(op_id)
        if row is None or not row.doc.get("isCancelPending"):
            return None
        return str(row.doc.get("cancelMode") or "FORCEFUL")

    def operation(self, op_id: str) -> OperationRow | None:
        with self.reading() as s:
            return s.get(OperationRow, op_id)

    def operations(self, instance_id: str | None = None) -> list[OperationRow]:
        with self.reading() as s:
            q = select(OperationRow).order_by(OperationRow.created_at)
            if instance_id:
                q = q.where(OperationRow.vnf_instance_id == instance_id)
            return list(s.scalars(q))

    def update_operation(self, op_id: str, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(OperationRow, op_id)
            if row is None:
                raise KeyError(op_id)
            for key, value in fields.items():
                setattr(row, key, copy.deepcopy(value))


def _busy(instance_id: str, busy: OperationRow) -> BusyError:
    return BusyError(
        f"VNF instance {instance_id} has operation {busy.id} "
        f"({busy.operation}) in state {busy.state}"
    )


def _sqlite_begin(conn: Any) -> None:
    readonly = conn.get_execution_options().get("vnfm_readonly")
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
