"""How a failed, cancelled or timed-out playbook run is told in the LcmOpOcc (FAILED_TEMP)."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.domain import CancelMode, OperationState
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.executor import RunResult
from vnfm_runner.lcm.ports import Ports
from vnfm_runner.lcm.recording import transition


def fail(ports: Ports, op: VnfLcmOpOccRecord, result: RunResult, what: str) -> None:
    """FAILED_TEMP with the failure (or the cancellation) described."""
    if result.status == "canceled":
        # the request is in the store (op.doc is this engine's copy, from before it)
        mode = ports.records.cancel_mode(op.id) or CancelMode.FORCEFUL
        error = records.problem("operation cancelled", f"{what} was cancelled ({mode})", status=409)
    else:
        error = failure(result, what)
    transition(ports, op, OperationState.FAILED_TEMP, error=error, isCancelPending=False)


def rollback_failed(ports: Ports, op: VnfLcmOpOccRecord, result: RunResult) -> None:
    """FAILED_TEMP again, keeping the operation's own error beside the rollback's."""
    original = dict(op.doc.get("error") or {})
    error = {**original, "rollbackError": failure(result, "rollback")}
    if not original:
        error = failure(result, "rollback")
    transition(ports, op, OperationState.FAILED_TEMP, error=error, isCancelPending=False)


def failure(result: RunResult, what: str) -> dict[str, Any]:
    """ProblemDetails of a run: the first failed task, else how the playbook ended."""
    if result.failures:
        first = result.failures[0]
        detail = f"task {first['task']!r} failed on host {first['host']}: {first['msg']}"
    else:
        detail = f"the {what} playbook ended with status {result.status} (rc {result.rc})"
        if result.status == "timeout":
            detail = f"the {what} playbook did not finish in time (operation timeout)"
        errors = [ln for ln in result.stdout_tail() if "ERROR" in ln]
        if errors:
            detail += ": " + " ".join(errors)[:2000]
    return records.problem(f"{what} failed", detail, failures=result.failures)
