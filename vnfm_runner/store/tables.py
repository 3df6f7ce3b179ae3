"""SQLAlchemy tables. Documents are stored as JSON in their SOL003 shape."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DontWrapMixin
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from vnfm_runner.domain.states import OperationState
from vnfm_runner.errors import LcmError

# Operation states after which nothing more happens to an operation.
FINAL_STATES = (OperationState.COMPLETED, OperationState.FAILED, OperationState.ROLLED_BACK)
# SQL for "the operation is not final": the partial unique index below.
NOT_FINAL_SQL = "state NOT IN ({})".format(", ".join(f"'{s}'" for s in FINAL_STATES))


class UnstorableValue(DontWrapMixin, LcmError):
    """A document holding what JSON cannot carry faithfully (a lone surrogate, NaN or
    Infinity, nesting too deep to write): refused before it reaches the database,
    where it would break every later read and listing of the record. Not wrapped by
    SQLAlchemy: entry points see an LcmError (the CLI's message, the API's 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 422)


def strict_json(value: Any) -> str:
    """The engines' JSON serializer (db.Store): valid Unicode and finite numbers only."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")  # a lone surrogate cannot be encoded
    except (ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise UnstorableValue(f"not stored: {_unstorable(value, exc)}") from None
    return text


def _unstorable(value: Any, exc: BaseException) -> str:
    """Where in the document the first bad value is (iterative: the document may be deep)."""
    todo: list[tuple[Any, str]] = [(value, "")]
    while todo:
        item, where = todo.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return f"{where or 'the value'} is not valid Unicode (a lone surrogate)"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where or 'the value'} is not a finite number ({item})"
        elif isinstance(item, dict):
            for key, member in item.items():
                name = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
                todo.append((key, f"{where}.{name}".lstrip(".") + " (a name)"))
                todo.append((member, f"{where}.{name}".lstrip(".")))
        elif isinstance(item, list | tuple):
            todo.extend((member, f"{where}[{i}]") for i, member in enumerate(item))
    return f"the document cannot be written as JSON ({type(exc).__name__})"


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always holds UTC.

    Written as UTC (a naive value is taken as UTC already): SQLite keeps naive
    text, so every stored value and every bound comparison value must be in the
    same zone for ``<`` to mean "earlier". Read back as an aware UTC datetime
    on every backend (SQLite returns naive, PostgreSQL the session's zone).
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class PackageRow(Base):
    __tablename__ = "vnf_packages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vnfd_id: Mapped[str] = mapped_column(String(255), index=True)
    path: Mapped[str] = mapped_column(String(4096))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    onboarding_state: Mapped[str] = mapped_column(String(32))
    operational_state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InstanceRow(Base):
    __tablename__ = "vnf_instances"
    # Keyset paging of the API lists: ORDER BY created_at, id (migration 0004; the
    # name is older than the migration, from when the API server made it).
    __table_args__ = (Index("ix_api_vnf_instances_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vnfd_id: Mapped[str] = mapped_column(String(255), index=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("vnf_packages.id"))
    instantiation_state: Mapped[str] = mapped_column(String(32))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    desired_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The VIM the instance lives on: {name, connection, credentials: sealed token | None}.
    vim: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OperationRow(Base):
    __tablename__ = "vnf_lcm_op_occs"
    __table_args__ = (
        # One operation at a time per instance, enforced by the database itself
        # (several processes may share it): at most one row per instance that
        # is not in a final state. Migration 0002.
        Index(
            "uq_vnf_lcm_op_occs_active_instance",
            "vnf_instance_id",
            unique=True,
            sqlite_where=text(NOT_FINAL_SQL),
            postgresql_where=text(NOT_FINAL_SQL),
        ),
        Index("ix_api_vnf_lcm_op_occs_created", "created_at", "id"),  # paging, as above
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vnf_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    runner_ident: Mapped[str | None] = mapped_column(String(255), nullable=True)
    artifacts_dir: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    # Desired states around the operation: rollback reconciles to the "before" one.
    desired_before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    desired_after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The engine running it holds a lease it keeps renewing; an expired lease
    # means the engine died and the operation is recovered (see engine.py).
    engine_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VimRow(Base):
    """A registered VIM. Secrets are never stored here in clear."""

    __tablename__ = "vims"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    vim_type: Mapped[str] = mapped_column(String(64))
    connection: Mapped[dict[str, Any]] = mapped_column(JSON)
    credentials: Mapped[str | None] = mapped_column(String(8192), nullable=True)  # sealed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationOutboxRow(Base):
    """One LCM notification for one subscription, waiting for (or done with) delivery.

    Written by the notification listener when the event happens (vnfm_runner/notify),
    sent by a delivery worker. ``seq`` orders the notifications: a worker sends a
    row only when no earlier PENDING row has the same subscription and VNF
    instance. A worker claims a row with a lease (compare-and-set on
    ``claimed_by``/``lease_expires_at``), so workers sharing a database never
    send one row twice at once. Migration 0003.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        # One row per event and subscription: an event seen twice is written once.
        UniqueConstraint("subscription_id", "event_key", name="uq_notification_outbox_event"),
        # The head of each (subscription, instance) queue.
        Index(
            "ix_notification_outbox_queue",
            "status",
            "subscription_id",
            "vnf_instance_id",
            "seq",
        ),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(36), unique=True)  # the notification's id
    subscription_id: Mapped[str] = mapped_column(String(36))
    # The queue the row belongs to: the VNF instance of an LCM notification, the
    # VNF package (VnfPkgInfo id) of a package management one.
    vnf_instance_id: Mapped[str] = mapped_column(String(36))
    notification_type: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # PENDING | SENT | DROPPED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PkgInfoRow(Base):
    """The SOL005 side of a VNF package (``/vnfpkgm``): it exists from its creation,
    before any content is uploaded; ``store_package_id`` names the onboarded
    ``vnf_packages`` row once there is one. Migration 0004 (made by the API server
    with create_all before)."""

    __tablename__ = "api_vnf_packages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_package_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    onboarding_state: Mapped[str] = mapped_column(String(32))
    operational_state: Mapped[str] = mapped_column(String(32))
    user_defined_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # what onboarding learnt: entry definitions, checksum, artifacts
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    upload_path: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# SubscriptionRow.api: which notifications a subscription is for.
LCM_API, PKGM_API = "vnflcm", "vnfpkgm"


class SubscriptionRow(Base):
    """A notification subscription: SOL003 LCM (``/vnflcm/v2/subscriptions``) or
    SOL005 package management (``/vnfpkgm/v1/subscriptions``). Migration 0004."""

    __tablename__ = "api_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    api: Mapped[str] = mapped_column(String(16), server_default=LCM_API)
    # the LccnSubscription / PkgmSubscription as returned (never holds credentials)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SubscriptionAuthentication sealed with the store's SecretBox, or None
    authentication: Mapped[str | None] = mapped_column(String(8192), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# SubscriptionRow.api of SOL003 VNF fault management subscriptions (/vnffm/v1).
FM_API = "vnffm"
# SubscriptionRow.api of the callbacks of PM jobs and thresholds (/vnfpm/v2).
PM_API = "vnfpm"
# SQL for "the alarm is not cleared": the partial unique index of AlarmRow.
ALARM_OPEN_SQL = "cleared_at IS NULL"


class AlarmRow(Base):
    """A SOL003 alarm (``/vnffm/v1/alarms``), kept across restarts. ``key`` names the fault
    (a drift, an Alertmanager alert): one open alarm per key, enforced by the database
    (several processes may raise the same fault); once cleared, the same fault raises a
    new alarm. ``doc`` is the Alarm as the API returns it. Migration 0005."""

    __tablename__ = "fm_alarms"
    __table_args__ = (
        Index(
            "uq_fm_alarms_open_key",
            "key",
            unique=True,
            sqlite_where=text(ALARM_OPEN_SQL),
            postgresql_where=text(ALARM_OPEN_SQL),
        ),
        Index("ix_fm_alarms_created", "created_at", "id"),  # API paging
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(512))
    vnf_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    perceived_severity: Mapped[str] = mapped_column(String(16))
    ack_state: Mapped[str] = mapped_column(String(16))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # alarmRaisedTime
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)


class PmJobRow(Base):
    """A SOL003 PM job (``/vnfpm/v2/pm_jobs``, vnfm_runner/assurance/pm.py). ``doc`` is the
    PmJob as the API returns it. Its callbackUri and sealed authentication are a
    ``api_subscriptions`` row of the same id (api ``vnfpm``): the notification outbox
    delivers to it as to any subscription. Collection period ``k`` ends at
    ``anchor + k * collectionPeriod``. Migration 0006."""

    __tablename__ = "pm_jobs"
    __table_args__ = (Index("ix_pm_jobs_created", "created_at", "id"),)  # API paging

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    anchor: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PmReportRow(Base):
    """One performance report: at most one per PM job and reporting period (the unique
    key is what keeps a restart from duplicating one). Migration 0006."""

    __tablename__ = "pm_reports"
    __table_args__ = (UniqueConstraint("pm_job_id", "period_index", name="uq_pm_reports_period"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pm_job_id: Mapped[str] = mapped_column(String(36), index=True)
    period_index: Mapped[int] = mapped_column(Integer)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)  # the PerformanceReport
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PmThresholdRow(Base):
    """A SOL003 threshold (``/vnfpm/v2/thresholds``). ``state`` is the crossing state
    per measured (sub-)object, kept so a restart sends no second crossing. Migration 0006."""

    __tablename__ = "pm_thresholds"
    __table_args__ = (Index("ix_pm_thresholds_created", "created_at", "id"),)  # API paging

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vnf_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# SubscriptionRow.api of SOL003 VNF indicator subscriptions (/vnfind/v1).
IND_API = "vnfind"


class IndicatorRow(Base):
    """The current value of one VNF indicator of one instance (``/vnfind/v1/indicators``,
    vnfm_runner/assurance/indicators.py); ``value`` is a bounded number or string.
    Migration 0007."""

    __tablename__ = "vnf_indicators"
    __table_args__ = (Index("ix_vnf_indicators_created", "created_at", "vnf_instance_id"),)

    vnf_instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    value: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IndicatorSetRow(Base):
    """The indicators an instance supports, as last announced (SOL003
    SupportedIndicatorsChangeNotification): a new instance or a package change is a
    set that differs from this one. Migration 0007."""

    __tablename__ = "vnf_indicator_sets"

    vnf_instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(36))
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{vnfIndicatorId, name}]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
