"""The VnfPkgInfo records (``api_vnf_packages``) and the document SOL005 shows of one.

Every write is one transaction with a typed change; reads never write (the
packages onboarded before VnfPkgInfo existed are adopted by an explicit step,
``adopt``, that the server runs once at start).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from vnfm_runner.domain import OnboardingState, PackageOperationalState, UsageState
from vnfm_runner.errors import NotFound
from vnfm_runner.package_details import package_details
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import InstanceRow, PackageRow, PkgInfoRow

BASE = "/vnfpkgm/v1/vnf_packages"


class _Keep(Enum):
    KEEP = "keep"  # "leave this field as it is" in a change


_KEEP: Final = _Keep.KEEP


@dataclass(frozen=True)
class Change:
    """What one write changes; fields left at ``_KEEP`` stay as they are."""

    onboarding: OnboardingState | _Keep = _KEEP
    operational: PackageOperationalState | _Keep = _KEEP
    user_defined_data: dict[str, Any] | _Keep = _KEEP
    failure: dict[str, Any] | _Keep | None = _KEEP
    details: dict[str, Any] | _Keep = _KEEP
    upload_path: str | _Keep | None = _KEEP
    store_package_id: str | _Keep | None = _KEEP
    deleted: bool | _Keep = _KEEP

    def apply(self, row: PkgInfoRow) -> None:
        for name, column in (
            ("onboarding", "onboarding_state"),
            ("operational", "operational_state"),
            ("user_defined_data", "user_defined_data"),
            ("failure", "failure"),
            ("details", "details"),
            ("upload_path", "upload_path"),
            ("store_package_id", "store_package_id"),
            ("deleted", "deleted"),
        ):
            value = getattr(self, name)
            if value is not _KEEP:
                setattr(row, column, str(value) if name in ("onboarding", "operational") else value)


class PkgInfoRecords:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, user_defined_data: dict[str, Any]) -> PkgInfoRow:
        row = PkgInfoRow(
            id=str(uuid.uuid4()),
            store_package_id=None,
            onboarding_state=OnboardingState.CREATED,
            operational_state=PackageOperationalState.DISABLED,
            user_defined_data=user_defined_data,
            failure=None,
            details={},
            upload_path=None,
            deleted=False,
            created_at=now(),
        )
        with self.store.session() as s:
            s.add(row)
        return row

    def get(self, pkg_id: str) -> PkgInfoRow:
        """The live record, or NotFound."""
        with self.store.reading() as s:
            row = s.get(PkgInfoRow, pkg_id)
        if row is None or row.deleted:
            raise NotFound(f"no VNF package {pkg_id}")
        return row

    def live(self) -> list[PkgInfoRow]:
        with self.store.reading() as s:
            return list(
                s.scalars(
                    select(PkgInfoRow)
                    .where(PkgInfoRow.deleted.is_(False))
                    .order_by(PkgInfoRow.created_at, PkgInfoRow.id)
                )
            )

    def change(self, pkg_id: str, change: Change) -> None:
        with self.store.session() as s:
            row = s.get(PkgInfoRow, pkg_id)
            if row is not None:
                change.apply(row)

    def in_use(self, row: PkgInfoRow) -> bool:
        if row.store_package_id is None:
            return False
        with self.store.reading_rows() as conn:
            found = conn.execute(
                select(InstanceRow.id)
                .where(InstanceRow.package_id == row.store_package_id)
                .limit(1)
            ).first()
        return found is not None

    def adopt(self) -> int:
        """Give the packages onboarded without one (before VnfPkgInfo existed) their
        VnfPkgInfo; how many. Run once at server start, never on a read."""
        added = 0
        with self.store.session() as s:
            known = set(s.scalars(select(PkgInfoRow.store_package_id)))
            for pkg in s.scalars(select(PackageRow)):
                if pkg.id in known or pkg.onboarding_state != OnboardingState.ONBOARDED:
                    continue
                s.add(
                    PkgInfoRow(
                        id=pkg.id,
                        store_package_id=pkg.id,
                        onboarding_state=OnboardingState.ONBOARDED,
                        operational_state=pkg.operational_state,
                        user_defined_data={},
                        failure=None,
                        details=package_details(Path(pkg.path)),
                        upload_path=None,
                        deleted=False,
                        created_at=pkg.created_at,
                    )
                )
                added += 1
        return added

    def document(self, row: PkgInfoRow) -> dict[str, Any]:
        """SOL005 VnfPkgInfo of a record."""
        summary: dict[str, Any] = {}
        if row.store_package_id:
            pkg = self.store.package(row.store_package_id)
            summary = pkg.summary if pkg is not None else {}
        details = row.details or {}
        usage = UsageState.IN_USE if self.in_use(row) else UsageState.NOT_IN_USE
        out: dict[str, Any] = {
            "id": row.id,
            "onboardingState": row.onboarding_state,
            "operationalState": row.operational_state,
            "usageState": str(usage),
            "userDefinedData": row.user_defined_data or {},
            "_links": {
                "self": {"href": f"{BASE}/{row.id}"},
                "packageContent": {"href": f"{BASE}/{row.id}/package_content"},
            },
        }
        if summary:
            out.update(
                vnfdId=summary.get("vnfdId"),
                vnfProvider=summary.get("provider"),
                vnfProductName=summary.get("productName"),
                vnfSoftwareVersion=summary.get("softwareVersion"),
                vnfdVersion=summary.get("vnfdVersion"),
                softwareImages=[],
                additionalArtifacts=details.get("artifacts", []),
                packageSecurityOption="OPTION_1",
            )
            out["_links"]["vnfd"] = {"href": f"{BASE}/{row.id}/vnfd"}
        if details.get("checksum"):
            out["checksum"] = details["checksum"]
        if row.failure:
            out["onboardingFailureDetails"] = row.failure
        return out

    def api_ids(self) -> dict[str, str]:
        """Store package id -> the VnfPkgInfo id the API shows for it (the oldest live one)."""
        out: dict[str, str] = {}
        # every listing page asks: a Core read (no ORM session), never SQLite's write lock
        with self.store.reading_rows() as conn:
            rows = conn.execute(
                select(PkgInfoRow.store_package_id, PkgInfoRow.id)
                .where(PkgInfoRow.deleted.is_(False), PkgInfoRow.store_package_id.is_not(None))
                .order_by(PkgInfoRow.created_at.desc())
            )
            for store_id, api_id in rows:
                out[str(store_id)] = str(api_id)
        return out
