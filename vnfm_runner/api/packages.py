"""SOL005-style VNF package management: ``/vnfpkgm/v1/vnf_packages``.

A package is created empty (CREATED), gets its content by ``PUT
package_content`` (a CSAR zip) or ``POST package_content/upload_from_uri`` (the
server fetches it, see package_fetch.py), is onboarded in the worker pool through
``Vnfm.onboard`` (PROCESSING → ONBOARDED, or ERROR with every ``FILE:LINE``
problem in ``onboardingFailureDetails``), and can then be read: its VNFD, its
artifacts, its content. Packages onboarded with the CLI show up too.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from vnfm_runner.api import filters, package_fetch
from vnfm_runner.api.context import ApiContext, merge_patch, respond
from vnfm_runner.api.models import CreateVnfPkgInfoRequest, VnfPkgInfoModifications
from vnfm_runner.api.package_fetch import FetchError, Source, UploadVnfPkgFromUriRequest
from vnfm_runner.api.problems import ApiProblem, problem_doc
from vnfm_runner.api.tables import PkgInfoRow
from vnfm_runner.core import Limits, Package, PackageError
from vnfm_runner.package_details import entry_definitions, file_sha256, package_details
from vnfm_runner.store.db import now
from vnfm_runner.store.tables import InstanceRow, PackageRow

BASE = "/vnfpkgm/v1/vnf_packages"
VERSION = "2.1.0"
CHUNK = 1024 * 1024


class Packages:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self.store = ctx.service.store
        self.uploads = ctx.settings.api_dir / "uploads"

    # -- records ----------------------------------------------------------------------------
    def _adopt(self) -> None:
        """Give the packages onboarded outside the API (CLI) a VnfPkgInfo."""
        with self.store.session() as s:
            known = set(s.scalars(select(PkgInfoRow.store_package_id)))
            for pkg in s.scalars(select(PackageRow)):
                if pkg.id not in known and pkg.onboarding_state == "ONBOARDED":
                    s.add(
                        PkgInfoRow(
                            id=pkg.id,
                            store_package_id=pkg.id,
                            onboarding_state="ONBOARDED",
                            operational_state=pkg.operational_state,
                            user_defined_data={},
                            failure=None,
                            details=package_details(Path(pkg.path)),
                            upload_path=None,
                            deleted=False,
                            created_at=pkg.created_at,
                        )
                    )

    def row(self, pkg_id: str) -> PkgInfoRow:
        with self.store.session() as s:
            row = s.get(PkgInfoRow, pkg_id)
        if row is None:
            self._adopt()
            with self.store.session() as s:
                row = s.get(PkgInfoRow, pkg_id)
        if row is None or row.deleted:
            raise ApiProblem(404, f"no VNF package {pkg_id}")
        return row

    def _update(self, pkg_id: str, **fields: Any) -> None:
        with self.store.session() as s:
            row = s.get(PkgInfoRow, pkg_id)
            if row is not None:
                for key, value in fields.items():
                    setattr(row, key, value)

    def in_use(self, row: PkgInfoRow) -> bool:
        if row.store_package_id is None:
            return False
        with self.store.session() as s:
            found = s.scalars(
                select(InstanceRow.id).where(InstanceRow.package_id == row.store_package_id)
            ).first()
        return found is not None

    def doc(self, row: PkgInfoRow) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        if row.store_package_id:
            pkg = self.store.package(row.store_package_id)
            summary = pkg.summary if pkg is not None else {}
        details = row.details or {}
        out: dict[str, Any] = {
            "id": row.id,
            "onboardingState": row.onboarding_state,
            "operationalState": row.operational_state,
            "usageState": "IN_USE" if self.in_use(row) else "NOT_IN_USE",
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

    def list_docs(self) -> list[dict[str, Any]]:
        self._adopt()
        with self.store.session() as s:
            rows = list(
                s.scalars(
                    select(PkgInfoRow)
                    .where(PkgInfoRow.deleted.is_(False))
                    .order_by(PkgInfoRow.created_at, PkgInfoRow.id)
                )
            )
        return [self.doc(r) for r in rows]

    # -- onboarding ---------------------------------------------------------------------------
    def onboard(self, pkg_id: str, zip_path: Path) -> None:
        """Worker: validate and onboard the uploaded zip (PROCESSING -> ONBOARDED | ERROR)."""
        try:
            stored = self.ctx.service.onboard(zip_path, with_pkg_info=False)  # ours is pkg_id
        except PackageError as exc:
            problems = [str(p) for p in exc.problems]
            failure = problem_doc(
                422, "\n".join(problems), "the VNF package is not valid", problems=problems
            )
            self._update(pkg_id, onboarding_state="ERROR", failure=failure)
            return
        except Exception as exc:
            failure = problem_doc(500, f"onboarding failed: {type(exc).__name__}: {exc}")
            self._update(pkg_id, onboarding_state="ERROR", failure=failure)
            raise
        details = package_details(Path(stored.path))
        details["checksum"] = {"algorithm": "SHA-256", "hash": file_sha256(zip_path)}
        self._update(
            pkg_id,
            store_package_id=stored.id,
            onboarding_state="ONBOARDED",
            operational_state="ENABLED",
            failure=None,
            details=details,
        )

    def fetch_and_onboard(self, pkg_id: str, source: Source) -> None:
        """Worker: download the zip (UPLOADING), then onboard it as an uploaded one."""
        target = self.uploads / f"{pkg_id}.zip"
        limit = self.ctx.settings.api_max_package_mb * 1024 * 1024
        try:
            self.uploads.mkdir(parents=True, exist_ok=True)
            package_fetch.fetch(source, target, limit=limit)
        except FetchError as exc:
            self._update(
                pkg_id, onboarding_state="ERROR", failure=problem_doc(exc.status, exc.detail)
            )
            return
        except Exception as exc:
            failure = problem_doc(500, f"fetching the package failed ({type(exc).__name__})")
            self._update(pkg_id, onboarding_state="ERROR", failure=failure)
            raise
        self._update(pkg_id, onboarding_state="PROCESSING", upload_path=str(target))
        self.onboard(pkg_id, target)

    def content_zip(self, row: PkgInfoRow) -> Path:
        if row.upload_path and Path(row.upload_path).is_file():
            return Path(row.upload_path)
        pkg = self.store.package(row.store_package_id or "")
        if pkg is None:
            raise ApiProblem(409, f"VNF package {row.id} has no content")
        self.uploads.mkdir(parents=True, exist_ok=True)
        target = self.uploads / f"{row.id}.zip"
        if not target.is_file():
            tmp = target.with_suffix(".tmp")
            _zip_dir(Path(pkg.path), tmp, None)
            tmp.replace(target)
        self._update(row.id, upload_path=str(target))
        return target

    def package_dir(self, row: PkgInfoRow) -> Path:
        if row.onboarding_state != "ONBOARDED" or not row.store_package_id:
            raise ApiProblem(409, f"VNF package {row.id} is {row.onboarding_state}, not ONBOARDED")
        pkg = self.store.package(row.store_package_id)
        if pkg is None:
            raise ApiProblem(409, f"VNF package {row.id} has no stored content")
        return Path(pkg.path)


def _zip_dir(root: Path, target: Path, only: tuple[str, ...] | None) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if full.is_symlink() or (only and not rel.startswith(only)):
                    continue
                zf.write(full, rel)


def _query(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def router(ctx: ApiContext, auth_dep: Any) -> APIRouter:
    api = APIRouter(prefix=BASE, tags=["vnf packages"], dependencies=[Depends(auth_dep)])
    pkgs = Packages(ctx)

    @api.post("", status_code=201, summary="Create a VNF package resource")
    def create(request: Request, body: CreateVnfPkgInfoRequest | None = None) -> Response:
        pkg_id = str(uuid.uuid4())
        row = PkgInfoRow(
            id=pkg_id,
            store_package_id=None,
            onboarding_state="CREATED",
            operational_state="DISABLED",
            user_defined_data=(body.userDefinedData if body else None) or {},
            failure=None,
            details={},
            upload_path=None,
            deleted=False,
            created_at=now(),
        )
        with ctx.service.store.session() as s:
            s.add(row)
        return respond(pkgs.doc(row), 201, {"Location": f"{BASE}/{pkg_id}"})

    @api.get("", summary="List VNF packages (SOL013 filter, attribute selectors)")
    def list_packages(
        request: Request,
        filter: str | None = None,
        all_fields: str | None = None,
        fields: str | None = None,
        exclude_fields: str | None = None,
        exclude_default: str | None = None,
    ) -> Response:
        terms = filters.parse(filter)
        select_ = filters.selector(
            all_fields=all_fields,
            fields=fields,
            exclude_fields=exclude_fields,
            exclude_default=exclude_default,
            default_excluded=(
                "softwareImages",
                "additionalArtifacts",
                "userDefinedData",
                "checksum",
            ),
        )
        docs = [select_.apply(d) for d in pkgs.list_docs() if filters.matches(terms, d)]
        return respond(docs)

    @api.get("/{pkg_id}", summary="Read a VNF package")
    def show(pkg_id: str) -> Response:
        return respond(pkgs.doc(pkgs.row(pkg_id)))

    @api.patch(
        "/{pkg_id}",
        summary="Enable or disable a VNF package, change userDefinedData",
        dependencies=[Depends(merge_patch)],
    )
    def modify(pkg_id: str, body: VnfPkgInfoModifications) -> Response:
        row = pkgs.row(pkg_id)
        changes = body.body()
        if not changes:
            raise ApiProblem(400, "give operationalState or userDefinedData")
        fields: dict[str, Any] = {}
        if "operationalState" in changes:
            if row.onboarding_state != "ONBOARDED":
                raise ApiProblem(409, f"VNF package {pkg_id} is {row.onboarding_state}")
            if changes["operationalState"] == row.operational_state:
                raise ApiProblem(409, f"VNF package {pkg_id} is already {row.operational_state}")
            fields["operational_state"] = changes["operationalState"]
        if isinstance(changes.get("userDefinedData"), dict):
            merged = dict(row.user_defined_data or {})
            for key, value in changes["userDefinedData"].items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            fields["user_defined_data"] = merged
        pkgs._update(pkg_id, **fields)
        return respond(changes)

    @api.delete("/{pkg_id}", status_code=204, summary="Delete a VNF package")
    def delete(pkg_id: str) -> Response:
        row = pkgs.row(pkg_id)
        if row.onboarding_state in ("UPLOADING", "PROCESSING"):
            raise ApiProblem(409, f"VNF package {pkg_id} is {row.onboarding_state}")
        if row.operational_state == "ENABLED":
            raise ApiProblem(409, f"VNF package {pkg_id} is ENABLED; disable it first")
        if pkgs.in_use(row):
            raise ApiProblem(409, f"VNF package {pkg_id} is IN_USE by VNF instances")
        if row.upload_path:
            Path(row.upload_path).unlink(missing_ok=True)
        pkgs._update(pkg_id, deleted=True, upload_path=None)
        return Response(status_code=204)

    @api.put("/{pkg_id}/package_content", status_code=202, summary="Upload a CSAR zip")
    async def upload(pkg_id: str, request: Request) -> Response:
        row = pkgs.row(pkg_id)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/zip", "application/octet-stream"):
            raise ApiProblem(415, "the package content must be sent as application/zip")
        if row.onboarding_state != "CREATED":
            raise ApiProblem(409, f"VNF package {pkg_id} is {row.onboarding_state}, not CREATED")
        pkgs._update(pkg_id, onboarding_state="UPLOADING")
        pkgs.uploads.mkdir(parents=True, exist_ok=True)
        target = pkgs.uploads / f"{pkg_id}.zip"
        limit = ctx.settings.api_max_package_mb * 1024 * 1024
        size = 0
        try:
            with target.open("wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise ApiProblem(
                            413, f"the package is larger than {ctx.settings.api_max_package_mb} MB"
                        )
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            pkgs._update(pkg_id, onboarding_state="CREATED")
            raise
        if size == 0:
            target.unlink(missing_ok=True)
            pkgs._update(pkg_id, onboarding_state="CREATED")
            raise ApiProblem(400, "the package content is empty")
        pkgs._update(pkg_id, onboarding_state="PROCESSING", upload_path=str(target))
        ctx.background(f"onboarding of package {pkg_id}", pkgs.onboard, pkg_id, target)
        return Response(status_code=202)

    # SOL005 9.4.6.3.1 defines POST (tackerclient's ``upload --url`` posts); PUT is
    # accepted as well (the direct upload's method), outside the OpenAPI description.
    from_uri = "/{pkg_id}/package_content/upload_from_uri"

    @api.post(from_uri, status_code=202, summary="Have the VNFM fetch the CSAR zip from a URI")
    def upload_from_uri(pkg_id: str, body: UploadVnfPkgFromUriRequest) -> Response:
        row = pkgs.row(pkg_id)
        source = package_fetch.source_of(body)
        if row.onboarding_state != "CREATED":
            raise ApiProblem(409, f"VNF package {pkg_id} is {row.onboarding_state}, not CREATED")
        pkgs._update(pkg_id, onboarding_state="UPLOADING")
        ctx.background(
            f"upload of package {pkg_id} from a URI", pkgs.fetch_and_onboard, pkg_id, source
        )
        return Response(status_code=202)

    api.add_api_route(
        from_uri, upload_from_uri, methods=["PUT"], status_code=202, include_in_schema=False
    )

    @api.get("/{pkg_id}/package_content", summary="Fetch the package (CSAR zip)")
    def content(pkg_id: str) -> Response:
        row = pkgs.row(pkg_id)
        pkgs.package_dir(row)  # 409 unless onboarded
        path = pkgs.content_zip(row)
        return FileResponse(path, media_type="application/zip", filename=f"{pkg_id}.zip")

    @api.get("/{pkg_id}/vnfd", summary="Fetch the VNFD (entry YAML, or a zip with Accept)")
    def vnfd(pkg_id: str, request: Request) -> Response:
        row = pkgs.row(pkg_id)
        root = pkgs.package_dir(row)
        accept = request.headers.get("accept", "*/*").lower()
        wants_zip = "application/zip" in accept
        wants_text = "text/plain" in accept or "*/*" in accept or not accept
        if wants_zip and ("text/plain" not in accept):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for sub in ("Definitions", "TOSCA-Metadata"):
                    base = root / sub
                    for full in sorted(base.rglob("*")) if base.is_dir() else []:
                        if full.is_file() and not full.is_symlink():
                            zf.write(full, full.relative_to(root).as_posix())
            return Response(buf.getvalue(), media_type="application/zip")
        if not wants_text and not wants_zip:
            raise ApiProblem(406, "the VNFD is served as text/plain or application/zip")
        entry = (row.details or {}).get("entryDefinitions") or entry_definitions(root)
        if not entry:
            raise ApiProblem(409, f"VNF package {pkg_id} has no entry definitions")
        try:
            with Package.open(root, Limits()) as pkg:
                text = pkg.read_bytes(entry)
        except PackageError:
            raise ApiProblem(409, f"VNF package {pkg_id}: entry definitions unreadable") from None
        # exactly "text/plain" (tackerclient compares the header verbatim); the YAML is UTF-8
        return Response(text, headers={"Content-Type": "text/plain"})

    @api.get("/{pkg_id}/artifacts/{artifact_path:path}", summary="Fetch one artifact")
    def artifact(pkg_id: str, artifact_path: str) -> Response:
        row = pkgs.row(pkg_id)
        root = pkgs.package_dir(row)
        try:
            with Package.open(root, Limits()) as pkg:
                full = pkg.resolve(artifact_path)
        except PackageError:
            raise ApiProblem(
                404, f"no artifact {artifact_path!r} in VNF package {pkg_id}"
            ) from None
        if not full.is_file() or not full.is_relative_to(root.resolve()):
            raise ApiProblem(404, f"no artifact {artifact_path!r} in VNF package {pkg_id}")
        return FileResponse(full, media_type="application/octet-stream")

    return api


def api_package_ids(store: Any) -> dict[str, str]:
    """Store package id -> the VnfPkgInfo id the API shows for it (the oldest live one)."""
    out: dict[str, str] = {}
    with store.reading() as s:  # every listing page asks: never take SQLite's write lock
        rows = s.execute(
            select(PkgInfoRow.store_package_id, PkgInfoRow.id)
            .where(PkgInfoRow.deleted.is_(False), PkgInfoRow.store_package_id.is_not(None))
            .order_by(PkgInfoRow.created_at.desc())
        )
        for store_id, api_id in rows:
            out[str(store_id)] = str(api_id)
    return out


def with_api_package_ids(store: Any, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """VnfInstance documents whose vnfPkgId names the VnfPkgInfo of /vnfpkgm."""
    ids = api_package_ids(store)
    out = []
    for doc in docs:
        pkg = doc.get("vnfPkgId")
        out.append({**doc, "vnfPkgId": ids.get(pkg, pkg)} if isinstance(pkg, str) else doc)
    return out
