"""Every other SOL003 operation of an instantiated VNF: decide, reconcile, configure.

SCALE, SCALE_TO_LEVEL, CHANGE_FLAVOUR, HEAL, OPERATE, CHANGE_EXT_CONN,
CHANGE_VNFPKG (its own parts in package_change.py) and MODIFY_INFO: the planner
decides the new desired state, the operation's playbook reconciles the VIM to it
and runs the hooks, and the instance records it once the operation completes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.core import HOOK_PREFIX, PlanError, decide_plan
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm import package_change
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, plan_flavour
from vnfm_runner.secrets import redact
from vnfm_runner.store.tables import InstanceRow, OperationRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm

# SOL003 operation -> the role and playbook that carry it out.
ROLE_OF = {
    "SCALE": "scale",
    "SCALE_TO_LEVEL": "scale_to_level",
    "CHANGE_FLAVOUR": "change_flavour",
    "HEAL": "heal",
    "OPERATE": "operate",
    "CHANGE_EXT_CONN": "change_ext_conn",
    "CHANGE_VNFPKG": "change_vnfpkg",
    "MODIFY_INFO": "modify_info",
}
GENERIC_OPERATIONS = tuple(ROLE_OF)


def start(svc: Vnfm, *, instance_id: str, operation: str, request: dict[str, Any]) -> OperationRow:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    if operation not in GENERIC_OPERATIONS:
        raise LcmError(f"unknown operation {operation!r}", 400)
    instance = svc._idle_instance(instance_id)
    if instance.instantiation_state != "INSTANTIATED" and operation != "MODIFY_INFO":
        raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
    execution: dict[str, Any] = {}
    if operation == "CHANGE_VNFPKG":
        execution["packageId"] = package_change.target_package(svc, request).id
    if instance.instantiation_state == "INSTANTIATED":
        pkg, model = svc._package_for(instance, execution.get("packageId"))
        try:  # refuse what cannot be done before anything runs
            decide_plan(
                model,
                instance_id,
                operation,
                request,
                instance.desired_state,
                **package_change.plan_args(svc, instance, operation, pkg.path),
            )
        except PlanError as exc:
            raise LcmError(str(exc), 422) from None
    return svc._start(instance, operation, redact(request), execution)


def execute(svc: Vnfm, op: OperationRow, on_event: EventSink | None) -> None:
    instance = svc.instance(op.vnf_instance_id)
    execution = op.doc.get("vnfmExecution") or {}
    request = op.doc["operationParams"]
    if op.operation == "MODIFY_INFO" and instance.instantiation_state != "INSTANTIATED":
        svc._set_state(op, "PROCESSING")
        _apply_modification(svc, instance, request)
        svc._set_state(op, "COMPLETED", changedInfo=request)
        return
    pkg, model = svc._package_for(instance, execution.get("packageId"))
    prefix = HOOK_PREFIX[op.operation]
    current_plan = instance.desired_state or {}
    with_hooks = hooks_enabled(request, instance.doc)
    hooks = hook_playbooks(
        model,
        plan_flavour(current_plan),
        [f"{prefix}_start", f"{prefix}_end"],
        with_hooks,
        pkg.path,
    )
    if op.operation == "CHANGE_FLAVOUR":
        hooks = hook_playbooks(
            model, str(request.get("newFlavourId")), list(hooks), with_hooks, pkg.path
        )
    target = svc.vims.unseal(instance.vim)
    before = records.current_resources(instance.doc)
    try:
        after, decision, _delta = decide_plan(
            model,
            instance.id,
            op.operation,
            request,
            current_plan,
            **package_change.plan_args(svc, instance, op.operation, pkg.path),
        )
    except PlanError as exc:
        svc._set_state(op, "FAILED_TEMP", error=records.problem("cannot plan", str(exc), 422))
        return
    recreated = decision.heal or list(decision.rolling.get("replace") or [])
    vim_mapping = ask_grant(svc, op, instance, current_plan, after, recreated)
    if vim_mapping is None:
        return
    trusted_extra: dict[str, Any] = {}
    if op.operation == "CHANGE_VNFPKG":
        trusted_extra = package_change.playbook_vars(svc, instance, request)
    svc._set_state(op, "PROCESSING")
    result = svc._run(
        op,
        f"{ROLE_OF[op.operation]}.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": hooks,
            "vnfm_operation": op.operation,
            "vnfm_vim_mapping": vim_mapping,
            **trusted_extra,
        },
        untrusted={
            "vnfm_request": request,
            "vnfm_current_plan": current_plan,
            "vnfm_vim": target.connection,
            "vnfm_resources": before,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
        on_event=on_event,
    )
    stats = result.stats.get("vnfm_result") or {}
    if not (result.ok and stats.get("plan")):
        fail(svc, op, result, op.operation.lower())
        return
    new_plan = stats["plan"]
    resources = stats.get("resources") or {}
    doc = dict(instance.doc)
    doc["instantiatedVnfInfo"] = vnf_info(model, new_plan, resources)
    fields: dict[str, Any] = {"desired_state": new_plan}
    if op.operation == "CHANGE_VNFPKG":
        doc.update(records.package_fields(pkg.summary, pkg.id))
        fields.update(package_id=pkg.id, vnfd_id=pkg.vnfd_id)
    if op.operation == "MODIFY_INFO":
        doc = records.modified(doc, request)
    svc.store.update_instance(instance.id, doc=doc, **fields)
    svc.store.update_operation(op.id, desired_after=new_plan)
    changes = records.resource_changes(before, resources)
    if op.operation == "CHANGE_VNFPKG":
        changes = package_change.with_replaced(changes, stats.get("vnfcChanges") or {}, resources)
    svc._set_state(
        op,
        "COMPLETED",
        resourceChanges=changes,
        changedInfo=request if op.operation == "MODIFY_INFO" else None,
        hooksRun=with_hooks,
        playbookRuns=result.playbook_runs,
        vnfcChanges=stats.get("vnfcChanges"),
    )


def _apply_modification(svc: Vnfm, instance: InstanceRow, request: dict[str, Any]) -> None:
    svc.store.update_instance(instance.id, doc=records.modified(instance.doc, request))
