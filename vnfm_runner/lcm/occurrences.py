"""The SOL003 task resources of an LcmOpOcc: rollback, fail and cancel.

Retry is "run again" (operations are idempotent): the service dispatches it
like the first run. Rollback reconciles the instance back to the desired state
saved before the operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vnfm_runner import records
from vnfm_runner.core import CUSTOM, HOOK_PREFIX
from vnfm_runner.engine import ENGINE_ID, LEASE_TTL
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm import package_change
from vnfm_runner.lcm.documents import vnf_info
from vnfm_runner.lcm.failures import rollback_failed
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled, plan_flavour
from vnfm_runner.lcm.instantiation import rollback_to_empty
from vnfm_runner.store.tables import OperationRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm

CANCEL_MODES = ("GRACEFUL", "FORCEFUL")


def failed_temp(svc: Vnfm, op_id: str) -> OperationRow:
    """The operation, refused unless it is FAILED_TEMP (retry, rollback and fail need it)."""
    op = svc._operation_row(op_id)
    if op.state != "FAILED_TEMP":
        raise LcmError(f"operation {op_id} is {op.state}; only a FAILED_TEMP operation can do that")
    return op


def cancel(svc: Vnfm, op_id: str, mode: str) -> None:
    """Ask a STARTING, PROCESSING or ROLLING_BACK operation to stop."""
    if mode not in CANCEL_MODES:
        raise LcmError(f"cancelMode must be GRACEFUL or FORCEFUL, not {mode!r}", 400)
    op = svc._operation_row(op_id)
    if op.state not in ("STARTING", "PROCESSING", "ROLLING_BACK"):
        raise LcmError(f"operation {op_id} is {op.state}; it cannot be cancelled")
    if op.state == "STARTING" and svc.store.claim_operation(op.id, ENGINE_ID, LEASE_TTL):
        try:  # nobody runs it yet: it ends before it began
            op = svc.store.operation(op_id) or op
            if op.state == "STARTING":
                svc._set_state(op, "ROLLED_BACK", cancelMode=mode, isCancelPending=False)
                return
        finally:
            svc.store.release_lease(op.id, ENGINE_ID)
    # the engine that runs it sees the flag (engine.CancelWatch) and stops the playbook
    op.doc = {**op.doc, "isCancelPending": True, "cancelMode": mode}
    svc.store.update_operation(op.id, doc=op.doc)


def execute_rollback(svc: Vnfm, op: OperationRow, on_event: EventSink | None) -> None:
    """Reconcile a FAILED_TEMP operation's instance back to its desired state before it."""
    instance = svc.instance(op.vnf_instance_id)
    execution = op.doc.get("vnfmExecution") or {}
    if op.operation == "INSTANTIATE":
        target = svc.vims.unseal(execution.get("vim"))
        rollback_to_empty(svc, op, instance.id, target, on_event)
        return
    if op.operation in ("MODIFY_INFO", CUSTOM):
        svc._set_state(op, "ROLLED_BACK")  # nothing was applied: only completion applies
        return
    if op.operation == "CHANGE_VNFPKG":
        package_change.rollback(svc, op, instance, on_event)
        return
    before = op.desired_before or {}
    pkg, model = svc._package_for(instance)
    prefix = HOOK_PREFIX[op.operation]
    hooks = hook_playbooks(
        model,
        plan_flavour(before),
        [f"{prefix}_rollback"],
        hooks_enabled(op.doc["operationParams"], instance.doc),
        pkg.path,
    )
    target = svc.vims.unseal(instance.vim)
    svc._set_state(op, "ROLLING_BACK")
    result = svc._run(
        op,
        "rollback.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": {"rollback": hooks[f"{prefix}_rollback"]},
            "vnfm_operation": op.operation,
        },
        untrusted={
            "vnfm_target_plan": before,
            "vnfm_vim": target.connection,
            "vnfm_resources": records.current_resources(instance.doc),
        },
        credentials=target.credentials,
        on_event=on_event,
        suffix="-rollback",
    )
    stats = result.stats.get("vnfm_result") or {}
    if not result.ok or not stats:
        rollback_failed(svc, op, result)
        return
    resources = stats.get("resources") or {}
    doc = dict(instance.doc)
    doc["instantiationState"] = "INSTANTIATED"
    doc["instantiatedVnfInfo"] = vnf_info(model, before, resources)
    svc.store.update_instance(
        instance.id, instantiation_state="INSTANTIATED", doc=doc, desired_state=before
    )
    # the VIM restores resources, not a deleted volume's data: the result says which
    lost = records.recreated_storages(stats.get("actions") or [], resources)
    changes = {"affectedVnfcs": [], "affectedVirtualLinks": [], "affectedVirtualStorages": lost}
    extra = {"resourceChanges": changes} if lost else {}
    svc._set_state(op, "ROLLED_BACK", playbookRuns=result.playbook_runs, **extra)
