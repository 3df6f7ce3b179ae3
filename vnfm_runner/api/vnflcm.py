"""SOL003 VNF LCM v2: ``/vnflcm/v2`` — instances, their task resources, operation occurrences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from vnfm_runner.api import filters, paging
from vnfm_runner.api.context import ApiContext, base_url, merge_patch, respond
from vnfm_runner.api.models import (
    CancelMode,
    ChangeCurrentVnfPkgRequest,
    ChangeExtVnfConnectivityRequest,
    ChangeVnfFlavourRequest,
    CreateVnfRequest,
    HealVnfRequest,
    InstantiateVnfRequest,
    OperateVnfRequest,
    ScaleVnfRequest,
    ScaleVnfToLevelRequest,
    TerminateVnfRequest,
    VnfInfoModificationRequest,
)
from vnfm_runner.api.packages import with_api_package_ids
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.tables import PkgInfoRow
from vnfm_runner.lcm import LcmError, NotFound
from vnfm_runner.store.tables import InstanceRow, OperationRow

PREFIX = "/vnflcm/v2"
API_VERSION = "2.0.0"
INSTANCES = f"{PREFIX}/vnf_instances"
OP_OCCS = f"{PREFIX}/vnf_lcm_op_occs"

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


def accepted(op: dict[str, Any]) -> Response:
    """202 Accepted with the LcmOpOcc's location (SOL003: no body)."""
    return Response(status_code=202, headers={"Location": f"{OP_OCCS}/{op['id']}"})


def api_versions() -> dict[str, Any]:
    return {"uriPrefix": PREFIX, "apiVersions": [{"version": API_VERSION, "isDeprecated": False}]}


def router(ctx: ApiContext, auth_dep: Any) -> APIRouter:
    api = APIRouter(tags=["vnf lcm"], dependencies=[Depends(auth_dep)])
    svc = ctx.service

    def listing(
        request: Request,
        table: paging.Table,
        path: str,
        default_excluded: tuple[str, ...],
        *,
        filter: str | None,
        marker: str | None,
        all_fields: str | None,
        fields: str | None,
        exclude_fields: str | None,
        exclude_default: str | None,
    ) -> Response:
        terms = filters.parse(filter)
        chooser = filters.selector(
            all_fields=all_fields,
            fields=fields,
            exclude_fields=exclude_fields,
            exclude_default=exclude_default,
            default_excluded=default_excluded,
        )
        result = paging.page(svc.store, table, terms, marker, ctx.settings.api_page_size)
        headers = {}
        if result.next_marker:
            headers["Link"] = paging.next_link(
                base_url(request), path, dict(request.query_params), result.next_marker
            )
        items = result.items
        if table is INSTANCE_TABLE:
            items = with_api_package_ids(svc.store, items)
        return respond([chooser.apply(d) for d in items], 200, headers)

    # -- API versions -----------------------------------------------------------------------
    @api.get("/vnflcm/api_versions", summary="API versions of /vnflcm")
    def versions_root() -> Response:
        return respond({"uriPrefix": "/vnflcm", "apiVersions": api_versions()["apiVersions"]})

    @api.get(f"{PREFIX}/api_versions", summary="API versions of /vnflcm/v2")
    def versions_v2() -> Response:
        return respond(api_versions())

    # -- VNF instances ------------------------------------------------------------------------
    @api.post(INSTANCES, status_code=201, summary="Create a VNF instance identifier")
    def create(body: CreateVnfRequest) -> Response:
        _check_package_enabled(ctx, body.vnfdId)
        try:
            doc = svc.create(
                vnfd_id=body.vnfdId,
                name=body.vnfInstanceName,
                description=body.vnfInstanceDescription,
            )
        except NotFound as exc:  # SOL003: an unknown vnfdId is unprocessable, not missing
            raise LcmError(str(exc), 422) from None
        if body.metadata:
            doc = {**doc, "metadata": dict(body.metadata)}
            svc.store.update_instance(doc["id"], doc=doc)
        (doc,) = with_api_package_ids(svc.store, [doc])
        return respond(doc, 201, {"Location": f"{INSTANCES}/{doc['id']}"})

    @api.get(INSTANCES, summary="List VNF instances (filter, paging, attribute selectors)")
    def list_instances(
        request: Request,
        filter: str | None = None,
        nextpage_opaque_marker: str | None = None,
        all_fields: str | None = None,
        fields: str | None = None,
        exclude_fields: str | None = None,
        exclude_default: str | None = None,
    ) -> Response:
        return listing(
            request,
            INSTANCE_TABLE,
            INSTANCES,
            INSTANCE_DEFAULT_EXCLUDED,
            filter=filter,
            marker=nextpage_opaque_marker,
            all_fields=all_fields,
            fields=fields,
            exclude_fields=exclude_fields,
            exclude_default=exclude_default,
        )

    @api.get(f"{INSTANCES}/{{instance_id}}", summary="Read a VNF instance")
    def show(instance_id: str) -> Response:
        (doc,) = with_api_package_ids(svc.store, [instance_doc(svc.instance(instance_id).doc)])
        return respond(doc)

    @api.patch(
        f"{INSTANCES}/{{instance_id}}",
        status_code=202,
        summary="Modify VNF information (application/merge-patch+json)",
        dependencies=[Depends(merge_patch)],
    )
    def modify(instance_id: str, body: VnfInfoModificationRequest) -> Response:
        op = svc.run_operation(
            instance_id=instance_id, operation="MODIFY_INFO", request=body.body(), wait=False
        )
        return accepted(op)

    @api.delete(f"{INSTANCES}/{{instance_id}}", status_code=204, summary="Delete a VNF instance")
    def delete(instance_id: str) -> Response:
        svc.delete(instance_id=instance_id)
        return Response(status_code=204)

    # -- task resources -------------------------------------------------------------------------
    @api.post(f"{INSTANCES}/{{instance_id}}/instantiate", status_code=202)
    def instantiate(instance_id: str, body: InstantiateVnfRequest) -> Response:
        """InstantiateVnf. A failure leaves the operation FAILED_TEMP (no automatic
        rollback): the NFVO retries, rolls back or fails it."""
        op = svc.instantiate(
            instance_id=instance_id, request=body.body(), auto_rollback=False, wait=False
        )
        return accepted(op)

    @api.post(f"{INSTANCES}/{{instance_id}}/terminate", status_code=202)
    def terminate(instance_id: str, body: TerminateVnfRequest) -> Response:
        request = body.body()
        request.setdefault("terminationType", body.terminationType)
        op = svc.terminate(instance_id=instance_id, request=request, wait=False)
        return accepted(op)

    def generic(instance_id: str, operation: str, request: dict[str, Any]) -> Response:
        op = svc.run_operation(
            instance_id=instance_id, operation=operation, request=request, wait=False
        )
        return accepted(op)

    @api.post(f"{INSTANCES}/{{instance_id}}/scale", status_code=202)
    def scale(instance_id: str, body: ScaleVnfRequest) -> Response:
        request = body.body()
        request.setdefault("numberOfSteps", body.numberOfSteps)
        return generic(instance_id, "SCALE", request)

    @api.post(f"{INSTANCES}/{{instance_id}}/scale_to_level", status_code=202)
    def scale_to_level(instance_id: str, body: ScaleVnfToLevelRequest) -> Response:
        if (body.instantiationLevelId is None) == (body.scaleInfo is None):
            raise ApiProblem(400, "give either instantiationLevelId or scaleInfo")
        return generic(instance_id, "SCALE_TO_LEVEL", body.body())

    @api.post(f"{INSTANCES}/{{instance_id}}/change_flavour", status_code=202)
    def change_flavour(instance_id: str, body: ChangeVnfFlavourRequest) -> Response:
        return generic(instance_id, "CHANGE_FLAVOUR", body.body())

    @api.post(f"{INSTANCES}/{{instance_id}}/heal", status_code=202)
    def heal(instance_id: str, body: HealVnfRequest) -> Response:
        return generic(instance_id, "HEAL", body.body())

    @api.post(f"{INSTANCES}/{{instance_id}}/operate", status_code=202)
    def operate(instance_id: str, body: OperateVnfRequest) -> Response:
        return generic(instance_id, "OPERATE", body.body())

    @api.post(f"{INSTANCES}/{{instance_id}}/change_ext_conn", status_code=202)
    def change_ext_conn(instance_id: str, body: ChangeExtVnfConnectivityRequest) -> Response:
        return generic(instance_id, "CHANGE_EXT_CONN", body.body())

    @api.post(f"{INSTANCES}/{{instance_id}}/change_vnfpkg", status_code=202)
    def change_vnfpkg(instance_id: str, body: ChangeCurrentVnfPkgRequest) -> Response:
        return generic(instance_id, "CHANGE_VNFPKG", body.body())

    # -- LCM operation occurrences ------------------------------------------------------------
    @api.get(OP_OCCS, summary="List LCM operation occurrences (filter, paging)")
    def list_ops(
        request: Request,
        filter: str | None = None,
        nextpage_opaque_marker: str | None = None,
        all_fields: str | None = None,
        fields: str | None = None,
        exclude_fields: str | None = None,
        exclude_default: str | None = None,
    ) -> Response:
        return listing(
            request,
            OP_TABLE,
            OP_OCCS,
            OP_DEFAULT_EXCLUDED,
            filter=filter,
            marker=nextpage_opaque_marker,
            all_fields=all_fields,
            fields=fields,
            exclude_fields=exclude_fields,
            exclude_default=exclude_default,
        )

    def op_row(op_id: str) -> OperationRow:
        row = svc.store.operation(op_id)
        if row is None:
            raise ApiProblem(404, f"no LCM operation occurrence {op_id}")
        return row

    @api.get(f"{OP_OCCS}/{{op_id}}", summary="Read an LCM operation occurrence")
    def show_op(op_id: str) -> Response:
        return respond(op_doc(op_row(op_id).doc))

    @api.post(
        f"{OP_OCCS}/{{op_id}}/retry", status_code=202, summary="Retry a FAILED_TEMP operation"
    )
    def retry(op_id: str) -> Response:
        return accepted(svc.retry(op_id, wait=False))

    @api.post(
        f"{OP_OCCS}/{{op_id}}/rollback",
        status_code=202,
        summary="Roll back a FAILED_TEMP operation",
    )
    def rollback(op_id: str) -> Response:
        return accepted(svc.rollback(op_id, wait=False))

    @api.post(f"{OP_OCCS}/{{op_id}}/fail", summary="Mark a FAILED_TEMP operation FAILED")
    def fail(op_id: str) -> Response:
        svc.fail(op_id)
        return respond(op_doc(op_row(op_id).doc))

    @api.post(f"{OP_OCCS}/{{op_id}}/cancel", status_code=202, summary="Cancel a running operation")
    def cancel(op_id: str, body: CancelMode | None = None) -> Response:
        svc.cancel(op_id, (body or CancelMode()).cancelMode)
        return Response(status_code=202)

    # python-tackerclient has `vnflcm op cancel` only for API version 1 (Tacker's v2
    # API has no cancel) and posts it under /vnflcm/v1. SOL003 puts the task under the
    # interface's major version (v2, above); the same task answers on the v1 path so
    # that the unchanged client can cancel. Nothing else of v1 is served.
    api.add_api_route(
        "/vnflcm/v1/vnf_lcm_op_occs/{op_id}/cancel",
        cancel,
        methods=["POST"],
        status_code=202,
        include_in_schema=False,
    )

    return api


def _check_package_enabled(ctx: ApiContext, vnfd_id: str) -> None:
    """SOL003 5.4.2.3.1: a VNF package that is not ENABLED cannot be instantiated from."""
    store = ctx.service.store
    pkg = store.package_by_vnfd(vnfd_id)
    if pkg is None:
        raise ApiProblem(422, f"no onboarded VNF package has vnfdId {vnfd_id}")
    with store.session() as s:
        rows = list(
            s.execute(
                select(PkgInfoRow.operational_state, PkgInfoRow.deleted).where(
                    PkgInfoRow.store_package_id == pkg.id
                )
            )
        )
    if not rows:  # onboarded with the CLI, not yet seen by the API
        enabled = pkg.operational_state == "ENABLED"
    else:
        enabled = any(state == "ENABLED" and not deleted for state, deleted in rows)
    if not enabled:
        raise ApiProblem(422, f"the VNF package of vnfdId {vnfd_id} is DISABLED or deleted")
