"""SOL003 VNF LCM v2: ``/vnflcm/v2`` — instances, their task resources, operation occurrences.

Thin: each route hands its request to the LCM service (``Vnfm``) and answers with
the record. The task resources (instantiate, scale, ...) come from the operation
table, one route per row with an API task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vnfm_runner.api import lists, models, paging, schemas
from vnfm_runner.api.context import merge_patch, respond
from vnfm_runner.api.deps import AUTH, Ctx, Lcm, ListingParams
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.versions import add_version_routes
from vnfm_runner.domain import OPERATIONS, Operation, OperationSpec
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.lcm import Vnfm
from vnfm_runner.pkgm.records import PkgInfoRecords
from vnfm_runner.store.tables import InstanceRow, OperationRow

PREFIX = "/vnflcm/v2"
API_VERSION = "2.0.0"
INSTANCES = f"{PREFIX}/vnf_instances"
OP_OCCS = f"{PREFIX}/vnf_lcm_op_occs"
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: the LcmOpOcc is at the Location header"}
}

# SOL003 5.4.2.3.2 / 5.4.12.3.2: complex attributes left out unless asked for.
INSTANCE_DEFAULT_EXCLUDED = (
    "vnfConfigurableProperties",
    "vimConnectionInfo",
    "instantiatedVnfInfo",
    "metadata",
    "extensions",
)
OP_DEFAULT_EXCLUDED = (
    "operationParams",
    "error",
    "resourceChanges",
    "changedInfo",
    "changedExtConnectivity",
)
# vendor bookkeeping kept in the record, not part of the API document
OP_INTERNAL = ("vnfmExecution", "runnerIdent", "artifactsDir")


def op_doc(stored: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stored.items() if k not in OP_INTERNAL}


def instance_doc(stored: dict[str, Any]) -> dict[str, Any]:
    return dict(stored)


INSTANCE_TABLE = paging.Table(
    InstanceRow,
    {
        "id": InstanceRow.id,
        "vnfdId": InstanceRow.vnfd_id,
        "instantiationState": InstanceRow.instantiation_state,
        "vnfPkgId": InstanceRow.package_id,
    },
    instance_doc,
)
OP_TABLE = paging.Table(
    OperationRow,
    {
        "id": OperationRow.id,
        "vnfInstanceId": OperationRow.vnf_instance_id,
        "operation": OperationRow.operation,
        "operationState": OperationRow.state,
    },
    op_doc,
)


def with_api_package_ids(svc: Vnfm, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """VnfInstance documents whose vnfPkgId names the VnfPkgInfo of /vnfpkgm."""
    ids = PkgInfoRecords(svc.store).api_ids()
    out = []
    for doc in docs:
        pkg = doc.get("vnfPkgId")
        out.append({**doc, "vnfPkgId": ids.get(pkg, pkg)} if isinstance(pkg, str) else doc)
    return out


def accepted(op: dict[str, Any]) -> Response:
    """202 Accepted with the LcmOpOcc's location (SOL003: no body)."""
    return Response(status_code=202, headers={"Location": f"{OP_OCCS}/{op['id']}"})


router = APIRouter(tags=["vnf lcm"], dependencies=AUTH, responses=schemas.ERRORS)


# -- API versions -----------------------------------------------------------------------------
add_version_routes(router, "/vnflcm", PREFIX, API_VERSION)


# -- VNF instances ------------------------------------------------------------------------------
@router.post(
    INSTANCES,
    status_code=201,
    summary="Create a VNF instance identifier",
    response_model=schemas.VnfInstance,
)
def create(body: models.CreateVnfRequest, svc: Lcm) -> Response:
    try:
        doc = svc.create(
            vnfd_id=body.vnfdId,
            name=body.vnfInstanceName,
            description=body.vnfInstanceDescription,
            metadata=body.metadata,
        )
    except NotFound as exc:  # SOL003: an unknown vnfdId is unprocessable, not missing
        raise LcmError(str(exc), 422) from None
    (doc,) = with_api_package_ids(svc, [doc])
    return respond(doc, 201, {"Location": f"{INSTANCES}/{doc['id']}"})


@router.get(
    INSTANCES,
    summary="List VNF instances (filter, paging, attribute selectors)",
    response_model=list[schemas.VnfInstanceSelected],  # type: ignore[valid-type]
)
async def list_instances(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    return await lists.table_listing(
        ctx,
        request,
        listing,
        INSTANCE_TABLE,
        INSTANCES,
        INSTANCE_DEFAULT_EXCLUDED,
        documents=lambda docs: with_api_package_ids(ctx.service, docs),
    )


@router.get(
    f"{INSTANCES}/{{instance_id}}",
    summary="Read a VNF instance",
    response_model=schemas.VnfInstance,
)
def show(instance_id: str, svc: Lcm) -> Response:
    (doc,) = with_api_package_ids(svc, [instance_doc(svc.instance(instance_id).doc)])
    return respond(doc)


@router.patch(
    f"{INSTANCES}/{{instance_id}}",
    status_code=202,
    summary="Modify VNF information (application/merge-patch+json)",
    dependencies=[Depends(merge_patch)],
    response_class=Response,
    responses=ACCEPTED,
)
def modify(instance_id: str, body: models.VnfInfoModificationRequest, svc: Lcm) -> Response:
    op = svc.run_operation(
        instance_id=instance_id, operation=Operation.MODIFY_INFO, request=body.body(), wait=False
    )
    return accepted(op)


@router.delete(
    f"{INSTANCES}/{{instance_id}}",
    status_code=204,
    summary="Delete a VNF instance",
    response_class=Response,
)
def delete(instance_id: str, svc: Lcm) -> Response:
    svc.delete(instance_id=instance_id)
    return Response(status_code=204)


# -- task resources: one route per row of the operation table ----------------------------------
def _request_of(body: models.Sol) -> dict[str, Any]:
    """The request as the service takes it; SOL003 defaults the client may leave out."""
    request = body.body()
    if isinstance(body, models.TerminateVnfRequest):
        request.setdefault("terminationType", body.terminationType)
    elif isinstance(body, models.ScaleVnfRequest):
        request.setdefault("numberOfSteps", body.numberOfSteps)
    elif isinstance(body, models.ScaleVnfToLevelRequest) and (
        (body.instantiationLevelId is None) == (body.scaleInfo is None)
    ):
        raise ApiProblem(400, "give either instantiationLevelId or scaleInfo")
    return request


def _start(svc: Vnfm, instance_id: str, operation: Operation, request: dict[str, Any]) -> Any:
    if operation is Operation.INSTANTIATE:
        # A failure leaves the operation FAILED_TEMP (no automatic rollback): the NFVO
        # retries, rolls back or fails it.
        return svc.instantiate(
            instance_id=instance_id, request=request, auto_rollback=False, wait=False
        )
    if operation is Operation.TERMINATE:
        return svc.terminate(instance_id=instance_id, request=request, wait=False)
    return svc.run_operation(
        instance_id=instance_id, operation=operation, request=request, wait=False
    )


def _task_endpoint(spec: OperationSpec) -> Callable[..., Response]:
    def task(instance_id: str, body: models.Sol, svc: Lcm) -> Response:
        request = _request_of(body)
        return accepted(_start(svc, instance_id, spec.operation, request))

    # the request model of the table's row: FastAPI reads the body's type from here
    task.__annotations__ = {**task.__annotations__, "body": getattr(models, spec.request_model)}
    task.__name__ = spec.api_task
    task.__doc__ = f"{spec.request_model.removesuffix('Request')} (SOL003): {spec.summary}."
    return task


TASKS = tuple(spec for spec in OPERATIONS.values() if spec.api_task)
for _spec in TASKS:
    router.add_api_route(
        f"{INSTANCES}/{{instance_id}}/{_spec.api_task}",
        _task_endpoint(_spec),
        methods=["POST"],
        status_code=202,
        summary=_spec.request_model.removesuffix("Request"),
        response_class=Response,
        responses=ACCEPTED,
    )


# -- LCM operation occurrences ------------------------------------------------------------------
@router.get(
    OP_OCCS,
    summary="List LCM operation occurrences (filter, paging)",
    response_model=list[schemas.VnfLcmOpOccSelected],  # type: ignore[valid-type]
)
async def list_ops(ctx: Ctx, request: Request, listing: ListingParams) -> Response:
    return await lists.table_listing(ctx, request, listing, OP_TABLE, OP_OCCS, OP_DEFAULT_EXCLUDED)


def _op_doc(svc: Vnfm, op_id: str) -> dict[str, Any]:
    row = svc.store.operation(op_id)
    if row is None:
        raise ApiProblem(404, f"no LCM operation occurrence {op_id}")
    return op_doc(row.doc)


@router.get(
    f"{OP_OCCS}/{{op_id}}",
    summary="Read an LCM operation occurrence",
    response_model=schemas.VnfLcmOpOcc,
)
def show_op(op_id: str, svc: Lcm) -> Response:
    return respond(_op_doc(svc, op_id))


@router.post(
    f"{OP_OCCS}/{{op_id}}/retry",
    status_code=202,
    summary="Retry a FAILED_TEMP operation",
    response_class=Response,
    responses=ACCEPTED,
)
def retry(op_id: str, svc: Lcm) -> Response:
    return accepted(svc.retry(op_id, wait=False))


@router.post(
    f"{OP_OCCS}/{{op_id}}/rollback",
    status_code=202,
    summary="Roll back a FAILED_TEMP operation",
    response_class=Response,
    responses=ACCEPTED,
)
def rollback(op_id: str, svc: Lcm) -> Response:
    return accepted(svc.rollback(op_id, wait=False))


@router.post(
    f"{OP_OCCS}/{{op_id}}/fail",
    summary="Mark a FAILED_TEMP operation FAILED",
    response_model=schemas.VnfLcmOpOcc,
)
def fail(op_id: str, svc: Lcm) -> Response:
    svc.fail(op_id)
    return respond(_op_doc(svc, op_id))


@router.post(
    f"{OP_OCCS}/{{op_id}}/cancel",
    status_code=202,
    summary="Cancel a running operation",
    response_class=Response,
    responses={202: {"description": "Accepted"}},
)
def cancel(op_id: str, svc: Lcm, body: models.CancelMode | None = None) -> Response:
    svc.cancel(op_id, (body or models.CancelMode()).cancelMode)
    return Response(status_code=202)


# python-tackerclient has `vnflcm op cancel` only for API version 1 (Tacker's v2
# API has no cancel) and posts it under /vnflcm/v1. SOL003 puts the task under the
# interface's major version (v2, above); the same task answers on the v1 path so
# that the unchanged client can cancel. Nothing else of v1 is served.
router.add_api_route(
    "/vnflcm/v1/vnf_lcm_op_occs/{op_id}/cancel",
    cancel,
    methods=["POST"],
    status_code=202,
    include_in_schema=False,
)
