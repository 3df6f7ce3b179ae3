"""TerminateVnf: desired state empty (GRACEFUL runs the hooks within its timeout)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm.failures import fail
from vnfm_runner.lcm.grant import ask_grant
from vnfm_runner.lcm.hooks import hook_playbooks, hooks_enabled
from vnfm_runner.secrets import redact
from vnfm_runner.store.tables import OperationRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm


def start(svc: Vnfm, *, instance_id: str, request: dict[str, Any]) -> OperationRow:
    """The STARTING LcmOpOcc of a request that can be done; LcmError otherwise."""
    instance = svc._instantiated(instance_id)
    kind = request.get("terminationType", "GRACEFUL")
    if kind not in ("GRACEFUL", "FORCEFUL"):
        raise LcmError(f"terminationType must be GRACEFUL or FORCEFUL, not {kind!r}", 400)
    timeout = request.get("gracefulTerminationTimeout")
    if timeout is not None and (not isinstance(timeout, int) or timeout < 0):
        raise LcmError("gracefulTerminationTimeout must be a non-negative integer", 400)
    return svc._start(instance, "TERMINATE", redact(request), {})


def execute(svc: Vnfm, op: OperationRow, on_event: EventSink | None) -> None:
    instance = svc.instance(op.vnf_instance_id)
    pkg, model = svc._package_for(instance)
    request = op.doc["operationParams"]
    graceful = request.get("terminationType", "GRACEFUL") == "GRACEFUL"
    timeout = request.get("gracefulTerminationTimeout")
    info = instance.doc.get("instantiatedVnfInfo") or {}
    with_hooks = graceful and hooks_enabled(request, instance.doc)
    hooks = hook_playbooks(
        model,
        info.get("flavourId", ""),
        ["terminate_start", "terminate_end"],
        with_hooks,
        pkg.path,
    )
    target = svc.vims.unseal(instance.vim)
    before = records.current_resources(instance.doc)
    if ask_grant(svc, op, instance, instance.desired_state, None) is None:
        return
    svc._set_state(op, "PROCESSING")
    result = svc._run(
        op,
        "terminate.yml",
        trusted={
            "vnfm_vnf_instance_id": instance.id,
            "vnfm_package_dir": pkg.path,
            "vnfm_hooks": hooks,
            "vnfm_operation": "TERMINATE",
            "vnfm_graceful_timeout": timeout,
        },
        untrusted={
            "vnfm_request": request,
            "vnfm_vim": target.connection,
            "vnfm_resources": before,
            "vnfm_additional_params": request.get("additionalParams") or {},
        },
        credentials=target.credentials,
        on_event=on_event,
        # The graceful timeout bounds the hooks; the removal itself gets its own time.
        timeout=(timeout + 300) if graceful and timeout else None,
    )
    if not result.ok:
        fail(svc, op, result, "terminate")
        return
    doc = dict(instance.doc)
    doc["instantiationState"] = "NOT_INSTANTIATED"
    doc.pop("instantiatedVnfInfo", None)
    svc.store.update_instance(
        instance.id, instantiation_state="NOT_INSTANTIATED", doc=doc, desired_state=None
    )
    svc._set_state(
        op,
        "COMPLETED",
        resourceChanges=records.resource_changes(before, {}),
        hooksRun=with_hooks,
        playbookRuns=result.playbook_runs,
    )
