"""The package management service: the rules of SOL005 VNF packages, for the API and the CLI.

A package resource is created empty (CREATED), takes its content by upload or by
download from a URI (UPLOADING), is onboarded through the LCM service's
``onboard`` (PROCESSING -> ONBOARDED, or ERROR with every ``FILE:LINE`` problem in
``onboardingFailureDetails``) and is then read, enabled, disabled and deleted.
Refusals are LcmError with the HTTP status they stand for (entry points turn them
into a ProblemDetails or a message).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

from vnfm_runner.core import PackageError
from vnfm_runner.domain import OnboardingState, PackageOperationalState
from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.nospace import NO_SPACE_DETAIL, is_no_space
from vnfm_runner.package_details import file_sha256, package_details
from vnfm_runner.pkgm import content
from vnfm_runner.pkgm.fetch import FetchError, Source, fetch
from vnfm_runner.pkgm.records import Change, PkgInfoRecords
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import PkgInfoRow

log = logging.getLogger("vnfm.pkgm")
_ON, _OP = OnboardingState, PackageOperationalState


class Onboarder(Protocol):
    """The LCM service's onboarding (``Vnfm.onboard``): validate and store a package."""

    def onboard(
        self, path: str | Path, package_id: str | None = None, *, with_pkg_info: bool = True
    ) -> VnfPackageRecord: ...


def failure(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """A ProblemDetails kept in ``onboardingFailureDetails``."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}


class PackageService:
    def __init__(
        self, *, store: Store, onboarder: Onboarder, uploads: Path, max_package_mb: int
    ) -> None:
        self.records = PkgInfoRecords(store)
        self.store = store
        self.onboarder = onboarder
        self.uploads = uploads  # upload and download targets, and zips made for reading
        self.max_package_mb = max_package_mb

    @property
    def max_bytes(self) -> int:
        return self.max_package_mb * 1024 * 1024

    # -- records ------------------------------------------------------------------------
    def adopt(self) -> int:
        """Give packages onboarded before VnfPkgInfo existed one (once, at server start)."""
        return self.records.adopt()

    def create(self, user_defined_data: dict[str, Any] | None) -> dict[str, Any]:
        return self.records.document(self.records.create(user_defined_data or {}))

    def get(self, pkg_id: str) -> PkgInfoRow:
        return self.records.get(pkg_id)

    def document(self, pkg_id: str) -> dict[str, Any]:
        return self.records.document(self.records.get(pkg_id))

    def documents(self) -> list[dict[str, Any]]:
        return [self.records.document(row) for row in self.records.live()]

    def onboard_path(self, path: str | Path) -> VnfPackageRecord:
        """Onboard a package from a file or directory (``vnfm package onboard``): its
        VnfPkgInfo is written with it, so /vnfpkgm and its subscribers see it at once."""
        return self.onboarder.onboard(path)

    def modify(self, pkg_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """VnfPkgInfoModifications: enable/disable, merge userDefinedData; the changes."""
        row = self.records.get(pkg_id)
        if not changes:
            raise LcmError("give operationalState or userDefinedData", 400)
        operational: PackageOperationalState | None = None
        merged: dict[str, Any] | None = None
        if "operationalState" in changes:
            if row.onboarding_state != _ON.ONBOARDED:
                raise LcmError(f"VNF package {pkg_id} is {row.onboarding_state}", 409)
            if changes["operationalState"] == row.operational_state:
                raise LcmError(f"VNF package {pkg_id} is already {row.operational_state}", 409)
            operational = _OP(changes["operationalState"])
        if isinstance(changes.get("userDefinedData"), dict):
            merged = dict(row.user_defined_data or {})
            for key, value in changes["userDefinedData"].items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
        change = Change()
        if operational is not None:
            change = replace(change, operational=operational)
        if merged is not None:
            change = replace(change, user_defined_data=merged)
        self.records.change(pkg_id, change)
        return changes

    def delete(self, pkg_id: str) -> None:
        row = self.records.get(pkg_id)
        if row.onboarding_state in (_ON.UPLOADING, _ON.PROCESSING):
            raise LcmError(f"VNF package {pkg_id} is {row.onboarding_state}", 409)
        if row.operational_state == _OP.ENABLED:
            raise LcmError(f"VNF package {pkg_id} is ENABLED; disable it first", 409)
        if self.records.in_use(row):
            raise LcmError(f"VNF package {pkg_id} is IN_USE by VNF instances", 409)
        if row.upload_path:
            Path(row.upload_path).unlink(missing_ok=True)
        self.records.change(pkg_id, Change(deleted=True, upload_path=None))

    # -- content in -----------------------------------------------------------------------
    def _start_upload(self, pkg_id: str) -> None:
        row = self.records.get(pkg_id)
        if row.onboarding_state != _ON.CREATED:
            raise LcmError(f"VNF package {pkg_id} is {row.onboarding_state}, not CREATED", 409)
        self.records.change(pkg_id, Change(onboarding=_ON.UPLOADING))

    async def receive(self, pkg_id: str, chunks: AsyncIterator[bytes]) -> Path:
        """Write an uploaded zip (at most ``max_package_mb``): the package is PROCESSING
        and the zip's path is returned for ``onboard``; on any failure it is CREATED again."""
        self._start_upload(pkg_id)
        self.uploads.mkdir(parents=True, exist_ok=True)
        target = self.uploads / f"{pkg_id}.zip"
        size = 0
        try:
            with target.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise LcmError(f"the package is larger than {self.max_package_mb} MB", 413)
                    out.write(chunk)
            if size == 0:
                raise LcmError("the package content is empty", 400)
        except BaseException as exc:
            target.unlink(missing_ok=True)
            self.records.change(pkg_id, Change(onboarding=_ON.CREATED))
            if isinstance(exc, OSError) and is_no_space(exc):
                raise LcmError(NO_SPACE_DETAIL, 507) from None
            raise
        self.records.change(pkg_id, Change(onboarding=_ON.PROCESSING, upload_path=str(target)))
        return target

    def accept_fetch(self, pkg_id: str) -> None:
        """The package will take its content from a URI: UPLOADING until the download ends."""
        self._start_upload(pkg_id)

    def onboard(self, pkg_id: str, zip_path: Path) -> None:
        """Worker: validate and onboard the uploaded zip (PROCESSING -> ONBOARDED | ERROR).

        An invalid package ends ERROR. A package refused for what the VNFM holds (its
        vnfdId onboarded with other content: 409; no space left: 507) goes back to
        CREATED, its upload dropped, with the reason in onboardingFailureDetails: the
        same resource takes a corrected upload.
        """
        try:
            stored = self.onboarder.onboard(zip_path, with_pkg_info=False)  # ours is pkg_id
        except PackageError as exc:
            problems = [_public(str(p), zip_path) for p in exc.problems]
            doc = failure(422, "\n".join(problems), problems=problems)
            doc["title"] = "the VNF package is not valid"
            self.records.change(pkg_id, Change(onboarding=_ON.ERROR, failure=doc))
            return
        except LcmError as exc:
            self._back_to_created(pkg_id, zip_path, failure(exc.status, str(exc)))
            return
        except Exception as exc:
            if is_no_space(exc):
                self._back_to_created(pkg_id, zip_path, failure(507, NO_SPACE_DETAIL))
                return
            # the exception's text names server paths: the log has it, the client not
            log.exception("onboarding of package %s failed", pkg_id)
            doc = failure(500, f"onboarding failed (internal error {type(exc).__name__})")
            self.records.change(pkg_id, Change(onboarding=_ON.ERROR, failure=doc))
            raise
        details = package_details(Path(stored.path))
        details["checksum"] = {"algorithm": "SHA-256", "hash": file_sha256(zip_path)}
        self.records.change(
            pkg_id,
            Change(
                store_package_id=stored.id,
                onboarding=_ON.ONBOARDED,
                operational=_OP.ENABLED,
                failure=None,
                details=details,
            ),
        )

    def _back_to_created(self, pkg_id: str, zip_path: Path, doc: dict[str, Any]) -> None:
        zip_path.unlink(missing_ok=True)
        self.records.change(
            pkg_id,
            Change(
                onboarding=_ON.CREATED,
                operational=_OP.DISABLED,
                upload_path=None,
                details={},
                failure=doc,
            ),
        )

    def fetch_and_onboard(self, pkg_id: str, source: Source) -> None:
        """Worker: download the zip (UPLOADING), then onboard it as an uploaded one."""
        target = self.uploads / f"{pkg_id}.zip"
        try:
            self.uploads.mkdir(parents=True, exist_ok=True)
            fetch(source, target, limit=self.max_bytes)
        except FetchError as exc:
            doc = failure(exc.status, exc.detail)
            self.records.change(pkg_id, Change(onboarding=_ON.ERROR, failure=doc))
            return
        except Exception as exc:
            if is_no_space(exc):
                self._back_to_created(pkg_id, target, failure(507, NO_SPACE_DETAIL))
                return
            doc = failure(500, f"fetching the package failed ({type(exc).__name__})")
            self.records.change(pkg_id, Change(onboarding=_ON.ERROR, failure=doc))
            raise
        self.records.change(pkg_id, Change(onboarding=_ON.PROCESSING, upload_path=str(target)))
        self.onboard(pkg_id, target)

    # -- content out ----------------------------------------------------------------------
    def package_dir(self, pkg_id: str) -> tuple[PkgInfoRow, Path]:
        """The record and the stored package's directory (409 unless ONBOARDED)."""
        row = self.records.get(pkg_id)
        if row.onboarding_state != _ON.ONBOARDED or not row.store_package_id:
            raise LcmError(f"VNF package {pkg_id} is {row.onboarding_state}, not ONBOARDED", 409)
        pkg = self.store.package(row.store_package_id)
        if pkg is None:
            raise LcmError(f"VNF package {pkg_id} has no stored content", 409)
        return row, Path(pkg.path)

    def content_zip(self, pkg_id: str) -> Path:
        """The package as a CSAR zip: the upload, or one made once from the stored copy."""
        row, root = self.package_dir(pkg_id)
        if row.upload_path and Path(row.upload_path).is_file():
            return Path(row.upload_path)
        self.uploads.mkdir(parents=True, exist_ok=True)
        target = self.uploads / f"{pkg_id}.zip"
        if not target.is_file():
            tmp = target.with_suffix(".tmp")
            content.zip_dir(root, tmp)
            tmp.replace(target)
        self.records.change(pkg_id, Change(upload_path=str(target)))
        return target

    def vnfd(self, pkg_id: str, *, as_zip: bool) -> bytes:
        """The VNFD: the entry definitions YAML, or Definitions/ and TOSCA-Metadata/ zipped."""
        row, root = self.package_dir(pkg_id)
        if as_zip:
            return content.vnfd_zip(root)
        return content.vnfd_text(root, (row.details or {}).get("entryDefinitions"), pkg_id)

    def artifact(self, pkg_id: str, path: str) -> Path:
        _row, root = self.package_dir(pkg_id)
        return content.artifact(root, path, pkg_id)


def _public(text: str, zip_path: Path) -> str:
    """A problem as the client may see it: the upload's server path never shows."""
    return text.replace(str(zip_path), "package content")
