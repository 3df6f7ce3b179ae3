"""The package service's rules (vnfm_runner/pkgm) on a real store, with the LCM
service's onboarding faked (its port): no server, no Ansible."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from vnfm_runner.bootstrap import open_store
from vnfm_runner.core import PackageError
from vnfm_runner.domain import OnboardingState, PackageOperationalState
from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.pkgm import PackageService
from vnfm_runner.store.db import Store, now

SUMMARY = {
    "vnfdId": "vnfd-1",
    "provider": "acme",
    "productName": "web",
    "softwareVersion": "1.0",
    "vnfdVersion": "1",
}


class FakeOnboarder:
    """Stores a package row for what it is given, or fails as told."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root
        self.error: Exception | None = None

    def onboard(
        self, path: str | Path, package_id: str | None = None, *, with_pkg_info: bool = True
    ) -> VnfPackageRecord:
        if self.error is not None:
            raise self.error
        row = VnfPackageRecord(
            id=f"store-{Path(path).stem}",
            vnfd_id=SUMMARY["vnfdId"],
            path=str(self.root),
            summary=SUMMARY,
            onboarding_state=OnboardingState.ONBOARDED,
            operational_state=PackageOperationalState.ENABLED,
            created_at=now(),
        )
        self.store.add_package(row)
        return row


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'vnfm.db'}")


@pytest.fixture
def onboarder(store: Store, tmp_path: Path) -> FakeOnboarder:
    root = tmp_path / "stored"
    (root / "Definitions").mkdir(parents=True)
    (root / "Definitions" / "vnfd.yaml").write_text("tosca_definitions_version: x\n")
    (root / "TOSCA-Metadata").mkdir()
    meta = "TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: Definitions/vnfd.yaml\n"
    (root / "TOSCA-Metadata" / "TOSCA.meta").write_text(meta)
    return FakeOnboarder(store, root)


@pytest.fixture
def pkgs(store: Store, onboarder: FakeOnboarder, tmp_path: Path) -> PackageService:
    return PackageService(
        store=store, onboarder=onboarder, uploads=tmp_path / "uploads", max_package_mb=1
    )


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _upload(pkgs: PackageService, pkg_id: str, *parts: bytes) -> Path:
    return asyncio.run(pkgs.receive(pkg_id, _chunks(*parts)))


def _status(exc: pytest.ExceptionInfo[LcmError]) -> int:
    return exc.value.status


def test_created_empty_then_onboarded_enabled_then_deleted(pkgs: PackageService) -> None:
    doc = pkgs.create({"team": "a"})
    assert doc["onboardingState"] == "CREATED" and doc["operationalState"] == "DISABLED"
    assert doc["usageState"] == "NOT_IN_USE" and "vnfdId" not in doc
    pkg_id = doc["id"]
    with pytest.raises(LcmError) as refused:  # not onboarded: nothing to enable
        pkgs.modify(pkg_id, {"operationalState": "ENABLED"})
    assert _status(refused) == 409

    target = _upload(pkgs, pkg_id, b"PK", b"zip")
    assert pkgs.document(pkg_id)["onboardingState"] == "PROCESSING"
    pkgs.onboard(pkg_id, target)
    doc = pkgs.document(pkg_id)
    assert doc["onboardingState"] == "ONBOARDED" and doc["operationalState"] == "ENABLED"
    assert doc["vnfdId"] == "vnfd-1" and doc["checksum"]["algorithm"] == "SHA-256"
    assert pkgs.vnfd(pkg_id, as_zip=False).startswith(b"tosca_definitions_version")

    with pytest.raises(LcmError) as refused:
        pkgs.delete(pkg_id)  # ENABLED
    assert _status(refused) == 409
    changes = {"operationalState": "DISABLED", "userDefinedData": {"team": None, "x": 1}}
    assert pkgs.modify(pkg_id, changes) == changes
    assert pkgs.document(pkg_id)["userDefinedData"] == {"x": 1}
    pkgs.delete(pkg_id)
    with pytest.raises(NotFound):
        pkgs.document(pkg_id)


def test_upload_refusals_leave_it_created(pkgs: PackageService) -> None:
    pkg_id = pkgs.create(None)["id"]
    with pytest.raises(LcmError) as empty:
        _upload(pkgs, pkg_id)
    assert _status(empty) == 400
    with pytest.raises(LcmError) as large:
        _upload(pkgs, pkg_id, b"x" * (1024 * 1024), b"x")
    assert _status(large) == 413
    assert pkgs.document(pkg_id)["onboardingState"] == "CREATED"
    assert not list((pkgs.uploads).glob("*.zip"))
    _upload(pkgs, pkg_id, b"PK")
    with pytest.raises(LcmError) as again:  # PROCESSING now
        _upload(pkgs, pkg_id, b"PK")
    assert _status(again) == 409


def test_invalid_package_ends_error_and_a_conflict_goes_back_to_created(
    pkgs: PackageService, onboarder: FakeOnboarder
) -> None:
    pkg_id = pkgs.create(None)["id"]
    target = _upload(pkgs, pkg_id, b"PK")
    onboarder.error = PackageError([f"{target}:3: bad"])
    pkgs.onboard(pkg_id, target)
    doc = pkgs.document(pkg_id)
    assert doc["onboardingState"] == "ERROR"
    assert doc["onboardingFailureDetails"]["detail"] == "package content:3: bad"  # no path

    pkg_id = pkgs.create(None)["id"]
    target = _upload(pkgs, pkg_id, b"PK")
    onboarder.error = LcmError("vnfdId vnfd-1 is already onboarded", 409)
    pkgs.onboard(pkg_id, target)
    doc = pkgs.document(pkg_id)
    assert doc["onboardingState"] == "CREATED" and not target.exists()
    assert doc["onboardingFailureDetails"]["status"] == 409


def test_reads_never_write_adoption_is_explicit(
    pkgs: PackageService, store: Store, onboarder: FakeOnboarder
) -> None:
    onboarder.onboard(Path("old.zip"))  # a package from before VnfPkgInfo existed
    assert pkgs.documents() == []  # a read adopts nothing
    with pytest.raises(NotFound):
        pkgs.document("store-old")
    assert pkgs.adopt() == 1 and pkgs.adopt() == 0
    (doc,) = pkgs.documents()
    assert doc["id"] == "store-old" and doc["onboardingState"] == "ONBOARDED"
