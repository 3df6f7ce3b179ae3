"""The API's own records, in the store's database but apart from its tables.

``api_vnf_packages``: the SOL005 side of a package (a package exists from its
creation, before any content is uploaded; the store records onboarded ones).
``api_subscriptions``: LCM notification subscriptions (see subscriptions.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vnfm_runner.store.db import Store


class ApiBase(DeclarativeBase):
    pass


class PkgInfoRow(ApiBase):
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubscriptionRow(ApiBase):
    __tablename__ = "api_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # the LccnSubscription as returned (never holds credentials)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SubscriptionAuthentication sealed with the store's SecretBox, or None
    authentication: Mapped[str | None] = mapped_column(String(8192), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def create_tables(store: Store) -> None:
    ApiBase.metadata.create_all(store.engine)
