"""SOL003 VNF performance management v2: ``/vnfpm/v2`` — PM jobs, their reports, thresholds.

Thin: the routes call the PmService (vnfm_runner/assurance/pm.py), which checks what the
request means (metrics of the object type, periods, INSTANTIATED instances, sub-objects)
and names the field it refuses. A callbackUri is checked as a subscription's is (outbound
address policy, test GET answering 204: api/subscriptions.py); the authentication is
stored sealed and never returned. Lists are keyset pages with SOL013 filters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from vnfm_runner.api import lists, paging, schemas, subscriptions
from vnfm_runner.api.context import merge_patch, respond
from vnfm_runner.api.deps import AUTH, Ctx, ListingParams
from vnfm_runner.api.models import (
    CreatePmJobRequest,
    CreateThresholdRequest,
    PmJobModifications,
)
from vnfm_runner.api.versions import add_version_routes
from vnfm_runner.assurance import pm as pm_mod
from vnfm_runner.assurance.pm import PmService
from vnfm_runner.store.tables import PmJobRow, PmThresholdRow

PREFIX = pm_mod.PREFIX
API_VERSION = "2.1.0"  # SOL003 v3.3.1 VNF performance management interface
JOBS = pm_mod.JOBS
THRESHOLDS = pm_mod.THRESHOLDS
HEADERS = {"Version": API_VERSION}


def _doc(stored: dict[str, Any]) -> dict[str, Any]:
    return dict(stored)


JOB_TABLE = paging.Table(PmJobRow, {"id": PmJobRow.id}, _doc)
THRESHOLD_TABLE = paging.Table(
    PmThresholdRow,
    {"id": PmThresholdRow.id, "objectInstanceId": PmThresholdRow.vnf_instance_id},
    _doc,
)


async def pm_service(request: Request) -> PmService:
    service: PmService = request.app.state.loop.pm
    return service


Pm = Annotated[PmService, Depends(pm_service)]


def answer(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return respond(doc, status, {**HEADERS, **(headers or {})})


def _modifications(ctx: Ctx, body: PmJobModifications) -> dict[str, Any]:
    mods = body.body()
    if not mods:
        raise pm_mod.PmError("callbackUri or authentication is needed")
    if "callbackUri" in mods:
        subscriptions.check_request(ctx, mods)
    return mods


router = APIRouter(tags=["vnf performance management"], dependencies=AUTH, responses=schemas.ERRORS)

add_version_routes(router, "/vnfpm", PREFIX, API_VERSION, HEADERS)


# -- PM jobs ----------------------------------------------------------------------------------
@router.post(JOBS, status_code=201, summary="Create a PM job", response_model=schemas.PmJob)
def create_job(body: CreatePmJobRequest, ctx: Ctx, pm: Pm) -> Response:
    request = body.body()
    pm_mod.check_job(request)  # a bad request is refused before the test GET
    subscriptions.check_request(ctx, request)
    doc = pm.create_job(request)
    return answer(doc, 201, {"Location": f"{JOBS}/{doc['id']}"})


@router.get(
    JOBS,
    summary="List PM jobs (filter, paging)",
    response_model=list[schemas.PmJobSelected],  # type: ignore[valid-type]
)
async def list_jobs(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    return await lists.table_listing(
        ctx, request, listing, JOB_TABLE, JOBS, default_excluded=("reports",), headers=HEADERS
    )


@router.get(f"{JOBS}/{{job_id}}", summary="Read a PM job", response_model=schemas.PmJob)
def show_job(job_id: str, pm: Pm) -> Response:
    return answer(pm.job(job_id))


@router.patch(
    f"{JOBS}/{{job_id}}",
    summary="Change a PM job's callback (merge patch)",
    response_model=schemas.PmModifications,
    dependencies=[Depends(merge_patch)],
)
def patch_job(job_id: str, body: PmJobModifications, ctx: Ctx, pm: Pm) -> Response:
    pm.job(job_id)  # 404 before the callback is tried
    return answer(pm.update_job(job_id, _modifications(ctx, body)))


@router.delete(
    f"{JOBS}/{{job_id}}", status_code=204, summary="Delete a PM job", response_class=Response
)
def delete_job(job_id: str, pm: Pm) -> Response:
    pm.delete_job(job_id)
    return Response(status_code=204, headers=HEADERS)


@router.get(
    f"{JOBS}/{{job_id}}/reports/{{report_id}}",
    summary="Read a performance report",
    response_model=schemas.PerformanceReport,
)
def show_report(job_id: str, report_id: str, pm: Pm) -> Response:
    return answer(pm.report(job_id, report_id))


# -- thresholds -------------------------------------------------------------------------------
@router.post(
    THRESHOLDS, status_code=201, summary="Create a threshold", response_model=schemas.Threshold
)
def create_threshold(body: CreateThresholdRequest, ctx: Ctx, pm: Pm) -> Response:
    request = body.body()
    pm_mod.check_threshold(request)
    subscriptions.check_request(ctx, request)
    doc = pm.create_threshold(request)
    return answer(doc, 201, {"Location": f"{THRESHOLDS}/{doc['id']}"})


@router.get(
    THRESHOLDS,
    summary="List thresholds (filter, paging)",
    response_model=list[schemas.ThresholdSelected],  # type: ignore[valid-type]
)
async def list_thresholds(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    return await lists.table_listing(
        ctx, request, listing, THRESHOLD_TABLE, THRESHOLDS, headers=HEADERS
    )


@router.get(
    f"{THRESHOLDS}/{{threshold_id}}", summary="Read a threshold", response_model=schemas.Threshold
)
def show_threshold(threshold_id: str, pm: Pm) -> Response:
    return answer(pm.threshold(threshold_id))


@router.patch(
    f"{THRESHOLDS}/{{threshold_id}}",
    summary="Change a threshold's callback (merge patch)",
    response_model=schemas.PmModifications,
    dependencies=[Depends(merge_patch)],
)
def patch_threshold(threshold_id: str, body: PmJobModifications, ctx: Ctx, pm: Pm) -> Response:
    pm.threshold(threshold_id)
    return answer(pm.update_threshold(threshold_id, _modifications(ctx, body)))


@router.delete(
    f"{THRESHOLDS}/{{threshold_id}}",
    status_code=204,
    summary="Delete a threshold",
    response_class=Response,
)
def delete_threshold(threshold_id: str, pm: Pm) -> Response:
    pm.delete_threshold(threshold_id)
    return Response(status_code=204, headers=HEADERS)
