"""CHANGE_VNFPKG's own parts: the target package, the rolling change, and its rollback.

The change itself runs as a generic operation (operations.py); this module
holds what differs: the package the VNF runs now goes to the planner and the
playbook to compare with, the replaced VNFCs count as modified, and a
rollback is a rolling change back to the old package.
"""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.domain import Operation, OperationState, spec
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import lookup
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import rollback_failed
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, plan_flavour
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import InstanceChange, run, transition

SPEC = spec(Operation.CHANGE_VNFPKG)


def target_package(ports: Ports, request: dict[str, Any]) -> VnfPackageRecord:
    """The onboarded package the request changes to (422 when there is none)."""
    target = ports.records.package_by_vnfd(str(request.get("vnfdId")))
    if target is None:
        raise LcmError(f"no onboarded package has vnfdId {request.get('vnfdId')}", 422)
    return target


def plan_args(
    ports: Ports, instance: VnfInstanceRecord, operation: str, package_dir: str
) -> dict[str, Any]:
    """decide_plan's extra arguments for CHANGE_VNFPKG: the package the VNF runs now."""
    if operation != Operation.CHANGE_VNFPKG:
        return {}
    _current, current_model = lookup.package_for(ports, instance)
    return {"current_model": current_model, "package_dir": package_dir}


def playbook_vars(
    ports: Ports, instance: VnfInstanceRecord, request: dict[str, Any]
) -> dict[str, Any]:
    """The change's own extra vars: the package the VNF runs now, to compare."""
    return {
        "vnfm_current_package_dir": lookup.package_for(ports, instance)[0].path,
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
    ports: Ports, op: VnfLcmOpOccRecord, instance: VnfInstanceRecord, attempt: Attempt
) -> None:
    """Rollback of CHANGE_VNFPKG: a rolling change back to the package the VNF had.

    The VNFCs of the changed VDUs may run either package: every one of them is
    replaced again, batch by batch with the old package's steps, so that traffic
    stays up; the old package's change_current_package_rollback hook ends it.
    """
    before = op.desired_before or {}
    # the instance's package changes on completion only
    pkg, model = lookup.package_for(ports, instance)
    failed_pkg = ports.records.package(str((op.doc.get("vnfmExecution") or {}).get("packageId")))
    params = op.doc["operationParams"].get("additionalParams") or {}
    # Back with the old package's own steps, in batches of the same size.
    back: dict[str, Any] = {k: params[k] for k in ("batchSize",) if k in params}
    request = {"vnfdId": pkg.vnfd_id, "additionalParams": back}
    with_hooks = hooks_enabled(op.doc["operationParams"], instance.doc)
    hooks = hook_playbooks(
        model,
        plan_flavour(before),
        SPEC.hooks("rollback"),
        with_hooks,
        pkg.path,
    )
    target = ports.vims.unseal(instance.vim)
    transition(ports, op, OperationState.ROLLING_BACK)
    result = run(
        ports,
        op,
        attempt,
        SPEC.playbook,
        variables={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_current_package_dir": failed_pkg.path if failed_pkg else pkg.path,
            "vnfm_hooks": {SPEC.hooks("end")[0]: hooks[SPEC.hooks("rollback")[0]]},
            "vnfm_package_steps": with_hooks,
            "vnfm_operation": op.operation,
            "vnfm_request": request,
            "vnfm_current_plan": before,
            "vnfm_vim": target.connection,
            "vnfm_resources": records.current_resources(instance.doc),
            "vnfm_additional_params": back,
        },
        credentials=target.credentials,
        suffix="-rollback",
    )
    stats = result.stats.get("vnfm_result") or {}
    if not result.ok or not stats.get("plan"):
        rollback_failed(ports, op, result)
        return
    doc = dict(instance.doc)
    doc["instantiatedVnfInfo"] = vnf_info(model, stats["plan"], stats.get("resources") or {})
    doc.update(records.package_fields(pkg.summary, pkg.id))
    transition(
        ports,
        op,
        OperationState.ROLLED_BACK,
        instance=InstanceChange(doc=doc, desired_state=stats["plan"], package=pkg),
        playbookRuns=result.playbook_runs,
        vnfcChanges=stats.get("vnfcChanges"),
    )
