"""TerminateVnf: desired state empty (GRACEFUL runs the hooks within its timeout)."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.domain import CancelMode, InstantiationState, Operation, OperationState, spec
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import lookup
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import InstanceChange, run, start, transition
from vnfm_runner.secrets import redact

SPEC = spec(Operation.TERMINATE)
GRACEFUL = str(CancelMode.GRACEFUL)  # terminationType has the same two values


def begin(ports: Ports, *, instance_id: str, request: dict[str, Any]) -> VnfLcmOpOccRecord:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    instance = lookup.instantiated(ports, instance_id)
    kind = request.get("terminationType", GRACEFUL)
    if kind not in tuple(CancelMode):
        raise LcmError(f"terminationType must be GRACEFUL or FORCEFUL, not {kind!r}", 400)
    timeout = request.get("gracefulTerminationTimeout")
    if timeout is not None and (not isinstance(timeout, int) or timeout < 0):
        raise LcmError("gracefulTerminationTimeout must be a non-negative integer", 400)
    return start(ports, instance, Operation.TERMINATE, redact(request), {})


def execute(ports: Ports, op: VnfLcmOpOccRecord, attempt: Attempt) -> None:
    instance = lookup.instance(ports, op.vnf_instance_id)
    pkg, model = lookup.package_for(ports, instance)
    request = op.doc["operationParams"]
    graceful = request.get("terminationType", GRACEFUL) == GRACEFUL
    timeout = request.get("gracefulTerminationTimeout")
    info = instance.doc.get("instantiatedVnfInfo") or {}
    with_hooks = graceful and hooks_enabled(request, instance.doc)
    hooks = hook_playbooks(
        model, info.get("flavourId", ""), SPEC.hooks("start", "end"), with_hooks, pkg.path
    )
    target = ports.vims.unseal(instance.vim)
    before = records.current_resources(instance.doc)
    if ask_grant(ports, op, instance, instance.desired_state, None) is None:
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
            "vnfm_operation": str(Operation.TERMINATE),
            "vnfm_graceful_timeout": timeout,
            "vnfm_request": request,
            "vnfm_vim": target.connection,
            "vnfm_resources": before,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
        # The graceful timeout bounds the hooks; the removal itself gets its own time.
        timeout=(timeout + 300) if graceful and timeout else None,
    )
    if not result.ok:
        fail(ports, op, result, "terminate")
        return
    doc = dict(instance.doc)
    doc["instantiationState"] = str(InstantiationState.NOT_INSTANTIATED)
    doc.pop("instantiatedVnfInfo", None)
    transition(
        ports,
        op,
        OperationState.COMPLETED,
        instance=InstanceChange(
            doc=doc, instantiation_state=InstantiationState.NOT_INSTANTIATED, desired_state=None
        ),
        resourceChanges=records.resource_changes(before, {}),
        hooksRun=with_hooks,
        playbookRuns=result.playbook_runs,
    )
