"""Carrying an operation forward under its lease: run, retry or rollback, dispatched by
the operation table; and moving on the operations whose engine died (recovery)."""

from __future__ import annotations

from collections.abc import Callable

from vnfm_runner import records
from vnfm_runner.domain import Operation, OperationState
from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.engine import CancelWatch, Lease, LeaseLost, OperationQueue, recover
from vnfm_runner.errors import LcmError
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm import custom, instantiation, lookup, occurrences, operations, termination
from vnfm_runner.lcm.ports import Attempt, Ports
from vnfm_runner.lcm.recording import transition

Handler = Callable[[Ports, VnfLcmOpOccRecord, Attempt], None]

# How each operation is carried out: the table's GENERIC ones by operations.execute.
HANDLERS: dict[Operation, Handler] = {
    Operation.INSTANTIATE: instantiation.execute,
    Operation.TERMINATE: termination.execute,
    Operation.CUSTOM: custom.execute,
}
MODES = ("run", "retry", "rollback")


def handler(operation: str, mode: str) -> Handler:
    if mode == "rollback":
        return occurrences.rollback
    return HANDLERS.get(Operation(operation), operations.execute)


def execute(
    ports: Ports,
    op_id: str,
    *,
    mode: str = "run",
    on_event: EventSink | None = None,
    queue: OperationQueue | None = None,
) -> None:
    """Carry an operation forward (run, retry or rollback) while holding its lease."""
    allowed = (OperationState.STARTING,) if mode == "run" else (OperationState.FAILED_TEMP,)
    try:
        with Lease(ports.records, op_id, ttl=ports.lease_ttl) as lease:
            if queue is not None:
                queue.started(op_id)  # its own lease renews it from now on
            op = lookup.operation(ports, op_id)  # read again under the lease
            if op.state not in allowed:
                raise LcmError(
                    f"operation {op_id} is {op.state}; {mode} needs {' or '.join(allowed)}"
                )
            watch = CancelWatch(ports.records, op.id, lease)
            attempt = Attempt(on_event=on_event, cancel=watch, watch=watch.on_event)
            try:
                handler(op.operation, mode)(ports, op, attempt)
            except Exception as exc:
                # Whatever broke, the record must not stay PROCESSING.
                error = records.problem("internal error", f"{type(exc).__name__}: {exc}")
                transition(ports, op, OperationState.FAILED_TEMP, error=error)
                raise
    except LeaseLost as exc:
        raise LcmError(str(exc)) from None
    finally:
        if queue is not None:
            queue.started(op_id)  # idempotent: also when the claim failed


def recover_dead(ports: Ports, kill: Callable[[str], int] | None = None) -> list[str]:
    """Move on the operations whose engine died (engine.recover): STARTING ones are
    ROLLED_BACK, running ones FAILED_TEMP, with the reason in their error."""

    def set_state(op_id: str, state: str, detail: str) -> None:
        op = ports.records.operation(op_id)
        if op is not None:
            transition(
                ports,
                op,
                OperationState(state),
                error=records.problem("engine stopped", detail),
                isCancelPending=False,
            )

    return recover(ports.records, set_state, ports.lease_ttl, kill=kill)
