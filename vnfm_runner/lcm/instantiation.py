"""InstantiateVnf: plan from the request, grant, reconcile, hooks; rollback to nothing."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.core import PlanError, PlanRequest, plan
from vnfm_runner.domain import InstantiationState, Operation, OperationState, spec
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.errors import LcmError, VimConfigError
from vnfm_runner.lcm import lookup
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import fail, rollback_failed
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled
from vnfm_runner.lcm.modification import check_switches
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import InstanceChange, run, start, transition
from vnfm_runner.secrets import redact
from vnfm_runner.vims import VimTarget

SPEC = spec(Operation.INSTANTIATE)


def resolve_vim(ports: Ports, name: str | None, request: dict[str, Any], default: str) -> VimTarget:
    """The VIM a request names (or the default one), usable here; 422 otherwise."""
    try:
        target = ports.vims.resolve(name, request.get("vimConnectionInfo"), default)
        ports.preflight(target)  # before anything is recorded
        return target
    except VimConfigError as exc:
        raise LcmError(str(exc), 422) from None


def begin(
    ports: Ports,
    *,
    instance_id: str,
    request: dict[str, Any],
    vim_name: str | None,
    default_vim: str,
    auto_rollback: bool,
) -> VnfLcmOpOccRecord:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    instance = lookup.idle_instance(ports, instance_id)
    if instance.instantiation_state != InstantiationState.NOT_INSTANTIATED:
        raise LcmError(f"VNF instance {instance_id} is already INSTANTIATED")
    _pkg, model = lookup.package_for(ports, instance)
    if not isinstance(request.get("flavourId"), str):
        raise LcmError("the request needs flavourId", 400)
    check_switches(request)
    target = resolve_vim(ports, vim_name, request, default_vim)  # an unknown VIM is refused now
    containers = model.deployment_kind == "container"
    if containers and not target.driver.runs_containers:  # the driver registry says
        raise LcmError(
            f"VNF package {model.vnfd_id} deploys containers (Kubernetes manifests or Helm "
            f"charts); VIM {target.name!r} ({target.vim_type}) runs virtual machines: "
            "instantiate it on a container VIM (kubernetes, podman)",
            422,
        )
    if target.driver.runs_containers and not containers:
        raise LcmError(
            f"VNF package {model.vnfd_id} deploys virtual machines; VIM {target.name!r} "
            f"({target.vim_type}) runs containers: instantiate it on a VM VIM",
            422,
        )
    try:  # refuse a bad request before anything runs or changes
        plan(model, plan_request(instance_id, request))
    except PlanError as exc:
        raise LcmError(str(exc), 422) from None
    return start(
        ports,
        instance,
        Operation.INSTANTIATE,
        redact(request),
        {"vim": ports.vims.seal(target), "autoRollback": auto_rollback},
    )


def execute(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    instance = lookup.instance(ports, op.vnf_instance_id)
    pkg, model = lookup.package_for(ports, instance)
    request = op.doc["operationParams"]
    execution = op.doc.get("vnfmExecution") or {}
    target = ports.vims.unseal(execution.get("vim"))
    flavour_id = request["flavourId"]
    with_hooks = hooks_enabled(request)
    hooks = hook_playbooks(model, flavour_id, SPEC.hooks("start", "end"), with_hooks, pkg.path)
    try:
        desired = plan(model, plan_request(instance.id, request))
    except PlanError as exc:  # the package changed under us: say so, change nothing
        error = records.problem("cannot plan", str(exc), 422)
        transition(ports, op, OperationState.FAILED_TEMP, error=error)
        return
    vim_mapping = ask_grant(ports, op, instance, None, desired)
    if vim_mapping is None:
        return
    transition(ports, op, OperationState.PROCESSING)
    result = run(
        ports,
        op,
        attempt,
        SPEC.playbook,
        variables={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": hooks,
            "vnfm_operation": str(Operation.INSTANTIATE),
            "vnfm_vim_mapping": vim_mapping,
            "vnfm_request": request,
            "vnfm_vnf_configurable_properties": records.configurable_properties(
                instance.doc, request
            ),
            "vnfm_vim": target.connection,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
    )
    stats = result.stats.get("vnfm_result") or {}
    if result.ok and stats.get("plan"):
        resources = stats.get("resources") or {}
        doc = dict(instance.doc)
        doc["instantiationState"] = str(InstantiationState.INSTANTIATED)
        doc["instantiatedVnfInfo"] = vnf_info(model, stats["plan"], resources)
        doc["vimConnectionInfo"] = {target.name: target.sol003()}
        doc["extensions"] = {**(doc.get("extensions") or {}), "vnfmHooks": with_hooks}
        if isinstance(request.get("vnfConfigurableProperties"), dict):  # isAutohealEnabled...
            props = {**(doc.get("vnfConfigurableProperties") or {})}
            doc["vnfConfigurableProperties"] = {**props, **request["vnfConfigurableProperties"]}
        transition(
            ports,
            op,
            OperationState.COMPLETED,
            instance=InstanceChange(
                doc=doc,
                instantiation_state=InstantiationState.INSTANTIATED,
                desired_state=stats["plan"],
                vim=ports.vims.seal(target),
            ),
            desired_after=stats["plan"],
            resourceChanges=records.resource_changes({}, resources),
            hooksRun=with_hooks,
            playbookRuns=result.playbook_runs,
        )
        return
    fail(ports, op, result, "instantiate")
    if execution.get("autoRollback", True) and result.status != "canceled":
        rollback_to_empty(ports, op, attempt)


def rollback_to_empty(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    """Rollback of a failed instantiation: desired state empty, no hooks."""
    target = ports.vims.unseal((op.doc.get("vnfmExecution") or {}).get("vim"))
    transition(ports, op, OperationState.ROLLING_BACK)
    result = run(
        ports,
        op,
        attempt,
        spec(Operation.TERMINATE).playbook,
        variables={
            "vnfm_vnf_instance_id": op.vnf_instance_id,
            "vnfm_hooks": {},
            "vnfm_operation": str(Operation.TERMINATE),
            "vnfm_vim": target.connection,
            "vnfm_resources": {},
        },
        credentials=target.credentials,
        suffix="-rollback",
    )
    if result.ok:
        transition(ports, op, OperationState.ROLLED_BACK)
    else:
        rollback_failed(ports, op, result)


def plan_request(instance_id: str, request: dict[str, Any]) -> PlanRequest:
    return PlanRequest(
        vnf_instance_id=instance_id,
        flavour_id=str(request["flavourId"]),
        instantiation_level_id=request.get("instantiationLevelId"),
        scale_levels=request.get("scaleLevels"),
        ext_virtual_links=list(request.get("extVirtualLinks") or []),
    )
