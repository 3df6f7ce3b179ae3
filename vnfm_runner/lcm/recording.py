"""An operation's record through its life: started, moved from state to state (with
the instance change a state implies, in one unit of work), and its playbook runs."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vnfm_runner import records, timings
from vnfm_runner.domain import InstantiationState, Operation, OperationState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import RunResult
from vnfm_runner.lcm.ports import Attempt, PlaybookRun, Ports
from vnfm_runner.store.changes import UNSET, Unset
from vnfm_runner.store.db import BusyError, iso


@dataclass(frozen=True)
class InstanceChange:
    """What a completed (or rolled back) operation writes to its VNF instance."""

    doc: dict[str, Any]
    instantiation_state: InstantiationState | Unset = UNSET
    desired_state: dict[str, Any] | Unset | None = UNSET
    vim: dict[str, Any] | Unset | None = UNSET
    package: VnfPackageRecord | Unset = UNSET


def view(row: VnfLcmOpOccRecord) -> dict[str, Any]:
    """The VnfLcmOpOcc as shown: the engine's own notes left out, the run named."""
    doc = {k: v for k, v in row.doc.items() if k != "vnfmExecution"}
    doc["runnerIdent"] = row.runner_ident
    doc["artifactsDir"] = row.artifacts_dir
    return doc


def start(
    ports: Ports,
    instance: VnfInstanceRecord,
    operation: Operation,
    params: dict[str, Any],
    execution: dict[str, Any],
    *,
    automatic: bool = False,
) -> VnfLcmOpOccRecord:
    """Record the STARTING occurrence (409 while another one of the instance runs);
    ``automatic``: started by the VNFM itself (auto-heal), ``isAutomaticInvocation``."""
    op_id = str(uuid.uuid4())
    stamp = ports.clock.now()
    op = VnfLcmOpOccRecord(
        id=op_id,
        vnf_instance_id=instance.id,
        operation=operation,
        state=OperationState.STARTING,
        doc={
            **records.new_operation(
                op_id=op_id,
                instance_id=instance.id,
                operation=operation,
                params=params,
                stamp=iso(stamp),
            ),
            "isAutomaticInvocation": automatic,
            "vnfmExecution": execution,
        },
        runner_ident=None,
        artifacts_dir=None,
        desired_before=instance.desired_state,
        desired_after=None,
        engine_id=None,
        # Unclaimed for longer than a lease: its engine never started (recovered).
        lease_expires_at=stamp + ports.lease_ttl,
        created_at=stamp,
    )
    try:
        ports.records.start_operation(op)
    except BusyError as exc:
        raise LcmError(str(exc)) from None
    return op


def transition(
    ports: Ports,
    op: VnfLcmOpOccRecord,
    state: OperationState,
    *,
    instance: InstanceChange | None = None,
    desired_after: dict[str, Any] | Unset | None = UNSET,
    **doc_fields: Any,
) -> None:
    """Enter ``state``; the instance change and the occurrence commit together."""
    if state == OperationState.COMPLETED:  # a completed retry shows no earlier failure
        doc_fields = {"error": None, **doc_fields}
    op.doc = {
        **op.doc,
        "operationState": str(state),
        "stateEnteredTime": iso(ports.clock.now()),
        **doc_fields,
    }
    op.state = state
    _close_timings(ports, op)
    with ports.records.unit_of_work() as uow:
        if instance is not None:
            uow.instance(
                op.vnf_instance_id,
                doc=instance.doc,
                instantiation_state=instance.instantiation_state,
                desired_state=instance.desired_state,
                vim=instance.vim,
                package=instance.package,
            )
        uow.operation(
            op.id,
            state=state,
            doc=op.doc,
            runner_ident=op.runner_ident,
            artifacts_dir=op.artifacts_dir,
            desired_after=desired_after,
        )
    ports.events("operation", view(op))


def note(ports: Ports, op: VnfLcmOpOccRecord, **doc_fields: Any) -> None:
    """Record what the engine learnt (a grant, a cancel request) without a new state."""
    op.doc = {**op.doc, **doc_fields}
    with ports.records.unit_of_work() as uow:
        uow.operation(op.id, doc=op.doc)


def run(
    ports: Ports,
    op: VnfLcmOpOccRecord,
    attempt: Attempt,
    playbook: str,
    *,
    variables: dict[str, Any],
    credentials: dict[str, Any] | None = None,
    timeout: int | None = None,
    suffix: str = "",
) -> RunResult:
    """Run one operation playbook, its ident recorded first (``vnfm op show`` names it
    while it runs); the operation's id lets the VIM tell work it already did (retry)."""
    ident, artifacts_dir = ports.playbooks.ident(op.id, f"{op.operation.lower()}{suffix}")
    op.runner_ident, op.artifacts_dir = ident, artifacts_dir
    with ports.records.unit_of_work() as uow:
        uow.operation(op.id, runner_ident=ident, artifacts_dir=artifacts_dir)

    def events(event: dict[str, Any]) -> None:
        if attempt.watch is not None:
            attempt.watch(event)
        if attempt.on_event is not None:
            attempt.on_event(event)

    result = ports.playbooks.run(
        PlaybookRun(
            op_id=op.id,
            ident=ident,
            playbook=playbook,
            variables={"vnfm_operation_id": op.id, **variables},
            credentials=credentials or {},
            params=(op.doc.get("operationParams") or {}).get("additionalParams") or {},
            timeout=timeout,
            on_event=events,
            cancel=attempt.cancel,
        )
    )
    if result.timings:  # written with the next state, in its transaction
        op.doc = {**op.doc, "vnfmTimings": timings.merge(op.doc.get("vnfmTimings"), result.timings)}
        _RUN_ENDED[op.id] = time.monotonic()
    return result


# op id -> when its last playbook run ended (monotonic): the start of "records"
_RUN_ENDED: dict[str, float] = {}


def _close_timings(ports: Ports, op: VnfLcmOpOccRecord) -> None:
    """After a run: its profile gets the time spent recording it and the total."""
    ended = _RUN_ENDED.pop(op.id, None)
    prof = op.doc.get("vnfmTimings")
    if ended is None or not isinstance(prof, dict):
        return
    spent = time.monotonic() - ended
    recorded = float(prof.get("records") or 0.0) + spent
    try:
        started = datetime.fromisoformat(str(op.doc.get("startTime")).replace("Z", "+00:00"))
        total = (ports.clock.now() - started).total_seconds()
    except (TypeError, ValueError):
        total = 0.0
    before = total - recorded - float(prof.get("run") or 0.0)
    prof = {**prof, "records": round(recorded, 3), "before": round(max(before, 0.0), 3)}
    op.doc["vnfmTimings"] = {**prof, "total": round(max(total, 0.0), 3)}
