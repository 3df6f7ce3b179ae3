"""The SOL003 task resources of an LcmOpOcc: rollback, fail and cancel.

Retry is "run again" (operations are idempotent): the engine runs it like the
first run. Rollback reconciles the instance back to the desired state saved
before the operation, the way the operation table's ``rollback`` says.
"""

from __future__ import annotations

from vnfm_runner import records
from vnfm_runner.domain import (
    CancelMode,
    InstantiationState,
    OperationState,
    Rollback,
    spec,
)
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.engine import ENGINE_ID
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import lookup, package_change
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import rollback_failed
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, plan_flavour
from vnfm_runner.lcm.instantiation import rollback_to_empty
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import InstanceChange, note, run, transition


def fail(ports: Ports, op_id: str) -> None:
    """Give up on a FAILED_TEMP operation: FAILED is final; the instance stays as it is."""
    transition(ports, lookup.failed_temp(ports, op_id), OperationState.FAILED)


def cancel(ports: Ports, op_id: str, mode: str) -> None:
    """Ask a STARTING, PROCESSING or ROLLING_BACK operation to stop."""
    if mode not in tuple(CancelMode):
        raise LcmError(f"cancelMode must be GRACEFUL or FORCEFUL, not {mode!r}", 400)
    op = lookup.operation(ports, op_id)
    if not OperationState(op.state).running:
        raise LcmError(f"operation {op_id} is {op.state}; it cannot be cancelled")
    if op.state == OperationState.STARTING and ports.records.claim_operation(
        op.id, ENGINE_ID, ports.lease_ttl
    ):
        try:  # nobody runs it yet: it ends before it began
            op = ports.records.operation(op_id) or op
            if op.state == OperationState.STARTING:
                transition(
                    ports, op, OperationState.ROLLED_BACK, cancelMode=mode, isCancelPending=False
                )
                return
        finally:
            ports.records.release_lease(op.id, ENGINE_ID)
    # the engine that runs it sees the flag (engine.CancelWatch) and stops the playbook
    note(ports, op, isCancelPending=True, cancelMode=mode)


def rollback(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    """Reconcile a FAILED_TEMP operation's instance back to its desired state before it."""
    kind = spec(op.operation).rollback
    if kind == Rollback.EMPTY:
        rollback_to_empty(ports, op, attempt)
    elif kind == Rollback.RECORD:
        # nothing was applied: only completion applies
        transition(ports, op, OperationState.ROLLED_BACK)
    elif kind == Rollback.PACKAGE:
        package_change.rollback(ports, op, lookup.instance(ports, op.vnf_instance_id), attempt)
    else:
        rollback_to_before(ports, op, attempt)


def rollback_to_before(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    """Reconcile to the desired state saved before the operation, with its rollback hook."""
    instance = lookup.instance(ports, op.vnf_instance_id)
    before = op.desired_before or {}
    pkg, model = lookup.package_for(ports, instance)
    (hook,) = spec(op.operation).hooks("rollback")
    hooks = hook_playbooks(
        model,
        plan_flavour(before),
        [hook],
        hooks_enabled(op.doc["operationParams"], instance.doc),
        pkg.path,
    )
    target = ports.vims.unseal(instance.vim)
    transition(ports, op, OperationState.ROLLING_BACK)
    result = run(
        ports,
        op,
        attempt,
        "rollback.yml",
        variables={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": {"rollback": hooks[hook]},
            "vnfm_operation": op.operation,
            "vnfm_target_plan": before,
            "vnfm_vim": target.connection,
            "vnfm_resources": records.current_resources(instance.doc),
        },
        credentials=target.credentials,
        suffix="-rollback",
    )
    stats = result.stats.get("vnfm_result") or {}
    if not result.ok or not stats:
        rollback_failed(ports, op, result)
        return
    resources = stats.get("resources") or {}
    doc = dict(instance.doc)
    doc["instantiationState"] = str(InstantiationState.INSTANTIATED)
    doc["instantiatedVnfInfo"] = vnf_info(model, before, resources)
    # the VIM restores resources, not a deleted volume's data: the result says which
    lost = records.recreated_storages(stats.get("actions") or [], resources)
    changes = {"affectedVnfcs": [], "affectedVirtualLinks": [], "affectedVirtualStorages": lost}
    extra = {"resourceChanges": changes} if lost else {}
    transition(
        ports,
        op,
        OperationState.ROLLED_BACK,
        instance=InstanceChange(
            doc=doc, instantiation_state=InstantiationState.INSTANTIATED, desired_state=before
        ),
        playbookRuns=result.playbook_runs,
        **extra,
    )
