"""SOL005-style VNF package management: ``/vnfpkgm/v1/vnf_packages``.

Thin: the rules live in the package service (vnfm_runner/pkgm, which the CLI's
``vnfm package`` commands use too). A package is created empty (CREATED), gets
its content by ``PUT package_content`` (a CSAR zip) or ``POST
package_content/upload_from_uri`` (the server fetches it), is onboarded in the
package pool (PROCESSING → ONBOARDED, or ERROR with every ``FILE:LINE`` problem
in ``onboardingFailureDetails``), and can then be read: its VNFD, its artifacts,
its content. Packages onboarded with the CLI show up too.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from vnfm_runner.api import lists, schemas
from vnfm_runner.api.context import merge_patch, respond
from vnfm_runner.api.deps import AUTH, Ctx, ListingParams, Packages
from vnfm_runner.api.listing import Page, to_json
from vnfm_runner.api.models import CreateVnfPkgInfoRequest, VnfPkgInfoModifications
from vnfm_runner.api.package_fetch import UploadVnfPkgFromUriRequest, source_of
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.pkgm.records import BASE

VERSION = "2.1.0"
DEFAULT_EXCLUDED = ("softwareImages", "additionalArtifacts", "userDefinedData", "checksum")
ZIP = {"content": {"application/zip": {}}, "description": "the CSAR zip"}

router = APIRouter(prefix=BASE, tags=["vnf packages"], dependencies=AUTH, responses=schemas.ERRORS)


@router.post(
    "",
    status_code=201,
    summary="Create a VNF package resource",
    response_model=schemas.VnfPkgInfo,
)
def create(pkgs: Packages, body: CreateVnfPkgInfoRequest | None = None) -> Response:
    doc = pkgs.create(body.userDefinedData if body else None)
    return respond(doc, 201, {"Location": f"{BASE}/{doc['id']}"})


@router.get(
    "",
    summary="List VNF packages (SOL013 filter, paging, attribute selectors)",
    response_model=list[schemas.VnfPkgInfoSelected],  # type: ignore[valid-type]
)
async def list_packages(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    def build() -> Page:
        docs, headers = lists.memory_page(
            ctx, request, listing, ctx.packages.documents(), BASE, DEFAULT_EXCLUDED
        )
        return Page(to_json(docs), headers)

    return await lists.cached(ctx, request, BASE, build)


@router.get("/{pkg_id}", summary="Read a VNF package", response_model=schemas.VnfPkgInfo)
def show(pkg_id: str, pkgs: Packages) -> Response:
    return respond(pkgs.document(pkg_id))


@router.patch(
    "/{pkg_id}",
    summary="Enable or disable a VNF package, change userDefinedData",
    dependencies=[Depends(merge_patch)],
    response_model=schemas.PkgInfoModifications,
)
def modify(pkg_id: str, body: VnfPkgInfoModifications, pkgs: Packages) -> Response:
    return respond(pkgs.modify(pkg_id, body.body()))


@router.delete(
    "/{pkg_id}", status_code=204, summary="Delete a VNF package", response_class=Response
)
def delete(pkg_id: str, pkgs: Packages) -> Response:
    pkgs.delete(pkg_id)
    return Response(status_code=204)


@router.put(
    "/{pkg_id}/package_content",
    status_code=202,
    summary="Upload a CSAR zip",
    response_class=Response,
    responses={202: {"description": "Accepted: onboarding runs"}},
)
async def upload(pkg_id: str, request: Request, ctx: Ctx) -> Response:
    ctx.packages.get(pkg_id)  # 404 before 415
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/zip", "application/octet-stream"):
        raise ApiProblem(415, "the package content must be sent as application/zip")
    target = await ctx.packages.receive(pkg_id, request.stream())
    ctx.background(f"onboarding of package {pkg_id}", ctx.packages.onboard, pkg_id, target)
    return Response(status_code=202)


# SOL005 9.4.6.3.1 defines POST (tackerclient's ``upload --url`` posts); PUT is
# accepted as well (the direct upload's method), outside the OpenAPI description.
FROM_URI = "/{pkg_id}/package_content/upload_from_uri"


@router.post(
    FROM_URI,
    status_code=202,
    summary="Have the VNFM fetch the CSAR zip from a URI",
    response_class=Response,
    responses={202: {"description": "Accepted: the download runs"}},
)
def upload_from_uri(pkg_id: str, body: UploadVnfPkgFromUriRequest, ctx: Ctx) -> Response:
    ctx.packages.get(pkg_id)  # 404 before the request's checks
    source = source_of(body, ctx.settings)
    ctx.packages.accept_fetch(pkg_id)
    what = f"upload of package {pkg_id} from a URI"
    ctx.background(what, ctx.packages.fetch_and_onboard, pkg_id, source)
    return Response(status_code=202)


router.add_api_route(
    FROM_URI, upload_from_uri, methods=["PUT"], status_code=202, include_in_schema=False
)


@router.get(
    "/{pkg_id}/package_content",
    summary="Fetch the package (CSAR zip)",
    response_class=FileResponse,
    responses={200: ZIP},
)
def content(pkg_id: str, pkgs: Packages) -> Response:
    path = pkgs.content_zip(pkg_id)
    return FileResponse(path, media_type="application/zip", filename=f"{pkg_id}.zip")


@router.get(
    "/{pkg_id}/vnfd",
    summary="Fetch the VNFD (entry YAML, or a zip with Accept)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}, "application/zip": {}}}},
)
def vnfd(pkg_id: str, request: Request, pkgs: Packages) -> Response:
    accept = request.headers.get("accept", "*/*").lower()
    wants_zip = "application/zip" in accept
    wants_text = "text/plain" in accept or "*/*" in accept or not accept
    if wants_zip and "text/plain" not in accept:
        return Response(pkgs.vnfd(pkg_id, as_zip=True), media_type="application/zip")
    pkgs.package_dir(pkg_id)  # 404 / 409 before 406
    if not wants_text:
        raise ApiProblem(406, "the VNFD is served as text/plain or application/zip")
    text = pkgs.vnfd(pkg_id, as_zip=False)
    # exactly "text/plain" (tackerclient compares the header verbatim); the YAML is UTF-8
    return Response(text, headers={"Content-Type": "text/plain"})


@router.get(
    "/{pkg_id}/artifacts/{artifact_path:path}",
    summary="Fetch one artifact",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def artifact(pkg_id: str, artifact_path: str, pkgs: Packages) -> Response:
    return FileResponse(pkgs.artifact(pkg_id, artifact_path), media_type="application/octet-stream")
