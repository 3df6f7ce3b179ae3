"""Every other SOL003 operation of a VNF: decide, reconcile, configure.

The operations of the table's ``GENERIC`` tuple (scale, scale to level, change
flavour, heal, operate, change ext conn, change package — its own parts in
package_change.py — and modify info): the planner decides the new desired
state, the operation's playbook (the table's ``playbook``) reconciles the VIM
to it and runs the hooks, and the instance records it when the operation
completes, in the transaction of its COMPLETED state.
"""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.core import PlanError, decide_plan
from vnfm_runner.domain import GENERIC, InstantiationState, Operation, OperationState, spec
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import lookup, package_change
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, package_hooks, plan_flavour
from vnfm_runner.lcm.modification import check_modification, modified
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import InstanceChange, run, start, transition
from vnfm_runner.secrets import redact


def begin(
    ports: Ports,
    *,
    instance_id: str,
    operation: str,
    request: dict[str, Any],
    automatic: bool = False,
) -> VnfLcmOpOccRecord:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    if operation not in GENERIC:
        raise LcmError(f"unknown operation {operation!r}", 400)
    op_spec = spec(operation)
    instance = lookup.idle_instance(ports, instance_id)
    instantiated = instance.instantiation_state == InstantiationState.INSTANTIATED
    if not instantiated and op_spec.needs_instantiated:
        raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
    execution: dict[str, Any] = {}
    if op_spec.operation == Operation.MODIFY_INFO:  # refused unless it can be applied
        execution.update(check_modification(ports, instance, request))
    if op_spec.operation == Operation.CHANGE_VNFPKG:
        execution["packageId"] = package_change.target_package(ports, request).id
    if instantiated:
        pkg, model = lookup.package_for(ports, instance, execution.get("packageId"))
        try:  # refuse what cannot be done before anything runs
            decide_plan(
                model,
                instance_id,
                op_spec.operation,
                request,
                instance.desired_state,
                **package_change.plan_args(ports, instance, op_spec.operation, pkg.path),
            )
        except PlanError as exc:
            raise LcmError(str(exc), 422) from None
    return start(
        ports, instance, op_spec.operation, redact(request), execution, automatic=automatic
    )


def execute(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    instance = lookup.instance(ports, op.vnf_instance_id)
    execution = op.doc.get("vnfmExecution") or {}
    request = op.doc["operationParams"]
    op_spec = spec(op.operation)
    modify = op_spec.operation == Operation.MODIFY_INFO
    if modify and instance.instantiation_state != InstantiationState.INSTANTIATED:
        _modify_record(ports, op, instance, request, execution)
        return
    package_id = None if modify else execution.get("packageId")
    pkg, model = lookup.package_for(ports, instance, package_id)
    current_plan = instance.desired_state or {}
    with_hooks = hooks_enabled(request, instance.doc)
    hooks = hook_playbooks(
        model, plan_flavour(current_plan), op_spec.hooks("start", "end"), with_hooks, pkg.path
    )
    if op_spec.operation == Operation.CHANGE_FLAVOUR:
        hooks = hook_playbooks(
            model, str(request.get("newFlavourId")), list(hooks), with_hooks, pkg.path
        )
    target = ports.vims.unseal(instance.vim)
    before = records.current_resources(instance.doc)
    try:
        after, decision, _delta = decide_plan(
            model,
            instance.id,
            op_spec.operation,
            request,
            current_plan,
            **package_change.plan_args(ports, instance, op_spec.operation, pkg.path),
        )
    except PlanError as exc:
        error = records.problem("cannot plan", str(exc), 422)
        transition(ports, op, OperationState.FAILED_TEMP, error=error)
        return
    recreated = decision.heal or list(decision.rolling.get("replace") or [])
    vim_mapping = ask_grant(ports, op, instance, current_plan, after, recreated)
    if vim_mapping is None:
        return
    change_vars: dict[str, Any] = {}
    if op_spec.operation == Operation.CHANGE_VNFPKG:
        change_vars = package_change.playbook_vars(ports, instance, request)
    transition(ports, op, OperationState.PROCESSING)
    result = run(
        ports,
        op,
        attempt,
        op_spec.playbook,
        variables={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": package_hooks(hooks),
            "vnfm_operation": str(op_spec.operation),
            "vnfm_vim_mapping": vim_mapping,
            **change_vars,
            "vnfm_request": request,
            "vnfm_vnf_configurable_properties": records.configurable_properties(
                instance.doc, request
            ),
            "vnfm_current_plan": current_plan,
            "vnfm_vim": target.connection,
            "vnfm_resources": before,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
    )
    stats = result.stats.get("vnfm_result") or {}
    if not (result.ok and stats.get("plan")):
        fail(ports, op, result, op.operation.lower())
        return
    new_plan = stats["plan"]
    resources = stats.get("resources") or {}
    doc = dict(instance.doc)
    doc["instantiatedVnfInfo"] = vnf_info(model, new_plan, resources)
    fields: dict[str, Any] = {}
    if op_spec.operation == Operation.CHANGE_VNFPKG:
        doc.update(records.package_fields(pkg.summary, pkg.id))
        fields["package"] = pkg
    if modify:
        doc, fields = modified(ports, doc, request, execution)
    changes = records.resource_changes(before, resources)
    if op_spec.operation == Operation.CHANGE_VNFPKG:
        changes = package_change.with_replaced(changes, stats.get("vnfcChanges") or {}, resources)
    transition(
        ports,
        op,
        OperationState.COMPLETED,
        instance=InstanceChange(doc=doc, desired_state=new_plan, **fields),
        desired_after=new_plan,
        resourceChanges=changes,
        changedInfo=request if modify else None,
        hooksRun=with_hooks,
        playbookRuns=result.playbook_runs,
        vnfcChanges=stats.get("vnfcChanges"),
    )


def _modify_record(
    ports: Ports,
    op: VnfLcmOpOccRecord,
    instance: VnfInstanceRecord,
    request: dict[str, Any],
    execution: dict[str, Any],
) -> None:
    """MODIFY_INFO of a NOT_INSTANTIATED VNF: its record only, no playbook."""
    transition(ports, op, OperationState.PROCESSING)
    doc, also = modified(ports, instance.doc, request, execution)
    transition(
        ports,
        op,
        OperationState.COMPLETED,
        instance=InstanceChange(doc=doc, **also),
        changedInfo=request,
    )
