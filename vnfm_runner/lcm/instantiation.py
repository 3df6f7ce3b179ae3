"""InstantiateVnf: plan from the request, grant, reconcile, hooks; rollback to nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.core import PlanError, PlanRequest, plan
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import fail, rollback_failed
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled
from vnfm_runner.secrets import redact
from vnfm_runner.store.tables import OperationRow
from vnfm_runner.vims import VimTarget

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm


def start(
    svc: Vnfm,
    *,
    instance_id: str,
    request: dict[str, Any],
    vim_name: str | None,
    auto_rollback: bool,
) -> OperationRow:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    instance = svc._idle_instance(instance_id)
    if instance.instantiation_state != "NOT_INSTANTIATED":
        raise LcmError(f"VNF instance {instance_id} is already INSTANTIATED")
    _pkg, model = svc._package_for(instance)
    if not isinstance(request.get("flavourId"), str):
        raise LcmError("the request needs flavourId", 400)
    target = svc.resolve_vim(vim_name, request)  # an unknown VIM is refused now
    try:  # refuse a bad request before anything runs or changes
        plan(model, plan_request(instance_id, request))
    except PlanError as exc:
        raise LcmError(str(exc), 422) from None
    return svc._start(
        instance,
        "INSTANTIATE",
        redact(request),
        {"vim": svc.vims.seal(target), "autoRollback": auto_rollback},
    )


def execute(svc: Vnfm, op: OperationRow, on_event: EventSink | None) -> None:
    instance = svc.instance(op.vnf_instance_id)
    pkg, model = svc._package_for(instance)
    request = op.doc["operationParams"]
    execution = op.doc.get("vnfmExecution") or {}
    target = svc.vims.unseal(execution.get("vim"))
    flavour_id = request["flavourId"]
    with_hooks = hooks_enabled(request)
    hooks = hook_playbooks(
        model, flavour_id, ["instantiate_start", "instantiate_end"], with_hooks, pkg.path
    )
    try:
        desired = plan(model, plan_request(instance.id, request))
    except PlanError as exc:  # the package changed under us: say so, change nothing
        svc._set_state(op, "FAILED_TEMP", error=records.problem("cannot plan", str(exc), 422))
        return
    vim_mapping = ask_grant(svc, op, instance, None, desired)
    if vim_mapping is None:
        return
    svc._set_state(op, "PROCESSING")
    result = svc._run(
        op,
        "instantiate.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": hooks,
            "vnfm_operation": "INSTANTIATE",
            "vnfm_vim_mapping": vim_mapping,
        },
        untrusted={
            "vnfm_request": request,
            "vnfm_vim": target.connection,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
        on_event=on_event,
    )
    stats = result.stats.get("vnfm_result") or {}
    if result.ok and stats.get("plan"):
        resources = stats.get("resources") or {}
        doc = dict(instance.doc)
        doc["instantiationState"] = "INSTANTIATED"
        doc["instantiatedVnfInfo"] = vnf_info(model, stats["plan"], resources)
        doc["vimConnectionInfo"] = {target.name: target.sol003()}
        doc["extensions"] = {**(doc.get("extensions") or {}), "vnfmHooks": with_hooks}
        svc.store.update_instance(
            instance.id,
            instantiation_state="INSTANTIATED",
            doc=doc,
            desired_state=stats["plan"],
            vim=svc.vims.seal(target),
        )
        svc.store.update_operation(op.id, desired_after=stats["plan"])
        svc._set_state(
            op,
            "COMPLETED",
            resourceChanges=records.resource_changes({}, resources),
            hooksRun=with_hooks,
            playbookRuns=result.playbook_runs,
        )
        return
    fail(svc, op, result, "instantiate")
    if execution.get("autoRollback", True) and result.status != "canceled":
        rollback_to_empty(svc, op, instance.id, target, on_event)


def rollback_to_empty(
    svc: Vnfm, op: OperationRow, instance_id: str, target: VimTarget, on_event: EventSink | None
) -> None:
    """Rollback of a failed instantiation: desired state empty, no hooks."""
    svc._set_state(op, "ROLLING_BACK")
    result = svc._run(
        op,
        "terminate.yml",
        trusted={
            "vnfm_vnf_instance_id": instance_id,
            "vnfm_hooks": {},
            "vnfm_operation": "TERMINATE",
        },
        untrusted={
            "vnfm_vim": target.connection,
            "vnfm_resources": {},
        },
        credentials=target.credentials,
        on_event=on_event,
        suffix="-rollback",
    )
    if result.ok:
        svc._set_state(op, "ROLLED_BACK")
    else:
        rollback_failed(svc, op, result)


def plan_request(instance_id: str, request: dict[str, Any]) -> PlanRequest:
    return PlanRequest(
        vnf_instance_id=instance_id,
        flavour_id=str(request["flavourId"]),
        instantiation_level_id=request.get("instantiationLevelId"),
        scale_levels=request.get("scaleLevels"),
        ext_virtual_links=list(request.get("extVirtualLinks") or []),
    )
