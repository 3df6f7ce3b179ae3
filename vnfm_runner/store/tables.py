"""SQLAlchemy tables. Documents are stored as JSON in their SOL003 shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstanceRow(Base):
    __tablename__ = "vnf_instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vnfd_id: Mapped[str] = mapped_column(String(255), index=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("vnf_packages.id"))
    instantiation_state: Mapped[str] = mapped_column(String(32))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    desired_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The VIM the instance lives on: {name, connection, credentials: sealed token | None}.
    vim: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OperationRow(Base):
    __tablename__ = "vnf_lcm_op_occs"

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
        DateTime(timezone=True), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VimRow(Base):
    """A registered VIM. Secrets are never stored here in clear."""

    __tablename__ = "vims"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    vim_type: Mapped[str] = mapped_column(String(64))
    connection: Mapped[dict[str, Any]] = mapped_column(JSON)
    credentials: Mapped[str | None] = mapped_column(String(8192), nullable=True)  # sealed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
