"""CHANGE_VNFPKG's own parts: the target package, the rolling change, and its rollback.

The change itself runs as a generic operation (operations.py); this module
holds what differs: the package the VNF runs now goes to the planner and the
playbook to compare with, the replaced VNFCs count as modified, and a
rollback is a rolling change back to the old package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import rollback_failed
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, plan_flavour
from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm


def target_package(svc: Vnfm, request: dict[str, Any]) -> PackageRow:
    """The onboarded package the request changes to (422 when there is none)."""
    target = svc.store.package_by_vnfd(str(request.get("vnfdId")))
    if target is None:
        raise LcmError(f"no onboarded package has vnfdId {request.get('vnfdId')}", 422)
    return target


def plan_args(svc: Vnfm, instance: InstanceRow, operation: str, package_dir: str) -> dict[str, Any]:
    """decide_plan's extra arguments for CHANGE_VNFPKG: the package the VNF runs now."""
    if operation != "CHANGE_VNFPKG":
        return {}
    _current, current_model = svc._package_for(instance)
    return {"current_model": current_model, "package_dir": package_dir}


def playbook_vars(svc: Vnfm, instance: InstanceRow, request: dict[str, Any]) -> dict[str, Any]:
    """The change's trusted extra vars: the package the VNF runs now, to compare."""
    return {
        "vnfm_current_package_dir": svc._package_for(instance)[0].path,
        # The batch steps are package code, like hooks: a VNF instantiated without
        # hooks (no data plane) gets its VNFCs recreated batch by batch, no step.
        "vnfm_package_steps": hooks_enabled(request, instance.doc),
    }


def with_replaced(
    changes: dict[str, Any], vnfc_changes: dict[str, Any], resources: dict[str, Any]
) -> dict[str, Any]:
    """resourceChanges of a package change: the replaced VNFCs are MODIFIED (recreated)."""
    replaced = set(vnfc_changes.get("replaced") or [])
    listed = {c["id"] for c in changes["affectedVnfcs"]}
    extra = [
        records.vnfc_change(r, "MODIFIED")
        for r in resources.get("vnfcResourceInfo", [])
        if r["id"] in replaced and r["id"] not in listed
    ]
    vnfcs = sorted(changes["affectedVnfcs"] + extra, key=lambda c: str(c["id"]))
    return {**changes, "affectedVnfcs": vnfcs}


def rollback(
    svc: Vnfm, op: OperationRow, instance: InstanceRow, on_event: EventSink | None
) -> None:
    """Rollback of CHANGE_VNFPKG: a rolling change back to the package the VNF had.

    The VNFCs of the changed VDUs may run either package: every one of them is
    replaced again, batch by batch with the old package's steps, so that traffic
    stays up; the old package's change_current_package_rollback hook ends it.
    """
    before = op.desired_before or {}
    # the instance's package changes on completion only
    pkg, model = svc._package_for(instance)
    failed_pkg = svc.store.package(str((op.doc.get("vnfmExecution") or {}).get("packageId")))
    params = op.doc["operationParams"].get("additionalParams") or {}
    # Back with the old package's own steps, in batches of the same size.
    back: dict[str, Any] = {k: params[k] for k in ("batchSize",) if k in params}
    request = {"vnfdId": pkg.vnfd_id, "additionalParams": back}
    with_hooks = hooks_enabled(op.doc["operationParams"], instance.doc)
    hooks = hook_playbooks(
        model,
        plan_flavour(before),
        ["change_current_package_rollback"],
        with_hooks,
        pkg.path,
    )
    target = svc.vims.unseal(instance.vim)
    svc._set_state(op, "ROLLING_BACK")
    result = svc._run(
        op,
        "change_vnfpkg.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_current_package_dir": failed_pkg.path if failed_pkg else pkg.path,
            "vnfm_hooks": {"change_current_package_end": hooks["change_current_package_rollback"]},
            "vnfm_package_steps": with_hooks,
            "vnfm_operation": op.operation,
        },
        untrusted={
            "vnfm_request": request,
            "vnfm_current_plan": before,
            "vnfm_vim": target.connection,
            "vnfm_resources": records.current_resources(instance.doc),
            "vnfm_additional_params": back,
        },
        credentials=target.credentials,
        on_event=on_event,
        suffix="-rollback",
    )
    stats = result.stats.get("vnfm_result") or {}
    if not result.ok or not stats.get("plan"):
        rollback_failed(svc, op, result)
        return
    doc = dict(instance.doc)
    doc["instantiatedVnfInfo"] = vnf_info(model, stats["plan"], stats.get("resources") or {})
    doc.update(records.package_fields(pkg.summary, pkg.id))
    svc.store.update_instance(
        instance.id,
        doc=doc,
        desired_state=stats["plan"],
        package_id=pkg.id,
        vnfd_id=pkg.vnfd_id,
    )
    svc._set_state(
        op,
        "ROLLED_BACK",
        playbookRuns=result.playbook_runs,
        vnfcChanges=stats.get("vnfcChanges"),
    )
