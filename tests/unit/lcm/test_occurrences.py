"""Custom operations, and the task resources of an LcmOpOcc: retry, rollback, fail, cancel;
and the recovery of operations whose engine died."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.unit.lcm.fakes import T0, World, result
from vnfm_runner.domain import InstantiationState, Operation, OperationState
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import custom, execution, occurrences, operations

S = OperationState


def failed(world: World, operation: Operation, request: dict[str, Any]) -> tuple[str, str]:
    """An instantiated VNF and a FAILED_TEMP operation of it."""
    inst = world.instance(instantiated=True)
    if operation == Operation.CHANGE_VNFPKG:
        request = {"vnfdId": world.package("pkg-2").vnfd_id}
    op = operations.begin(world.ports, instance_id=inst, operation=operation, request=request)
    world.playbooks.results = [result("failed")]
    execution.execute(world.ports, op.id)
    assert world.records.operations[op.id].state == S.FAILED_TEMP
    return inst, op.id


# -- custom operations ------------------------------------------------------------------------
def test_a_custom_operation_runs_the_package_playbook(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = custom.begin(world.ports, instance_id=inst, name="rotate_logs", params={"keep": 2})
    execution.execute(world.ports, op.id)
    assert world.records.states(op.id) == [S.PROCESSING, S.COMPLETED]
    (run,) = world.playbooks.runs
    assert run.playbook == "custom_operation.yml"
    assert run.variables["vnfm_operation"] == Operation.CUSTOM
    assert run.variables["vnfm_custom_playbook"].startswith(world.records.packages["pkg-1"].path)
    assert run.variables["vnfm_additional_params"] == {"keep": 2}
    assert world.grants.asked == []  # nothing on the VIM changes


def test_an_unknown_custom_operation_names_the_known_ones(world: World) -> None:
    with pytest.raises(LcmError, match="rotate_logs") as info:
        custom.begin(
            world.ports, instance_id=world.instance(instantiated=True), name="nope", params={}
        )
    assert info.value.status == 422


def test_a_failed_custom_operation_rolls_back_as_a_record_only(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = custom.begin(world.ports, instance_id=inst, name="rotate_logs", params={})
    world.playbooks.results = [result("failed")]
    execution.execute(world.ports, op.id)
    execution.execute(world.ports, op.id, mode="rollback")
    assert world.records.states(op.id) == [S.PROCESSING, S.FAILED_TEMP, S.ROLLED_BACK]
    assert len(world.playbooks.runs) == 1


# -- rollback -----------------------------------------------------------------------------------
def test_rollback_reconciles_to_the_state_before(world: World) -> None:
    _inst, op_id = failed(world, Operation.SCALE, {"type": "SCALE_OUT", "aspectId": "web"})
    before = world.records.operations[op_id].desired_before
    world.playbooks.results = [result(plan=before, resources={}, actions=[])]

    execution.execute(world.ports, op_id, mode="rollback")

    assert world.records.states(op_id)[-2:] == [S.ROLLING_BACK, S.ROLLED_BACK]
    run = world.playbooks.runs[-1]
    assert run.playbook == "rollback.yml" and run.ident.endswith("-scale-rollback")
    assert run.variables["vnfm_target_plan"] == before
    assert list(run.variables["vnfm_hooks"]) == ["rollback"]
    commit = world.records.commit_of(op_id, S.ROLLED_BACK)
    (change,) = [f for kind, _id, f in commit if kind == "instance"]
    assert change["desired_state"] == before
    assert change["instantiation_state"] == InstantiationState.INSTANTIATED


def test_a_failed_rollback_keeps_the_operation_error_beside_its_own(world: World) -> None:
    _inst, op_id = failed(world, Operation.OPERATE, {"changeStateTo": "STOPPED"})
    world.playbooks.results = [result("failed")]
    execution.execute(world.ports, op_id, mode="rollback")
    assert world.records.states(op_id)[-2:] == [S.ROLLING_BACK, S.FAILED_TEMP]
    error = world.records.operations[op_id].doc["error"]
    assert (
        error["title"] == "operate failed" and error["rollbackError"]["title"] == "rollback failed"
    )


def test_package_change_rolls_back_to_the_old_package(world: World) -> None:
    _inst, op_id = failed(world, Operation.CHANGE_VNFPKG, {})
    world.playbooks.results = [
        lambda run: result(plan=run.variables["vnfm_current_plan"], resources={})
    ]
    execution.execute(world.ports, op_id, mode="rollback")
    assert world.records.states(op_id)[-1] == S.ROLLED_BACK
    run = world.playbooks.runs[-1]
    assert run.playbook == "change_vnfpkg.yml" and run.ident.endswith("-rollback")
    assert run.variables["vnfm_request"]["vnfdId"] == world.records.packages["pkg-1"].vnfd_id
    assert list(run.variables["vnfm_hooks"]) == ["change_current_package_end"]
    (change,) = [
        f for kind, _id, f in world.records.commit_of(op_id, S.ROLLED_BACK) if kind == "instance"
    ]
    assert change["package"].id == "pkg-1"


def test_modify_info_rolls_back_as_a_record_only(world: World) -> None:
    _inst, op_id = failed(world, Operation.MODIFY_INFO, {"vnfInstanceName": "x"})
    runs = len(world.playbooks.runs)
    execution.execute(world.ports, op_id, mode="rollback")
    assert world.records.states(op_id)[-1] == S.ROLLED_BACK
    assert len(world.playbooks.runs) == runs


def test_only_a_failed_temp_operation_can_be_retried_or_rolled_back(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = operations.begin(world.ports, instance_id=inst, operation=Operation.HEAL, request={})
    with pytest.raises(LcmError, match="STARTING; rollback needs FAILED_TEMP"):
        execution.execute(world.ports, op.id, mode="rollback")
    with pytest.raises(LcmError, match="only a FAILED_TEMP operation"):
        occurrences.fail(world.ports, op.id)


# -- fail and cancel ----------------------------------------------------------------------------
def test_fail_is_final_and_leaves_the_instance(world: World) -> None:
    inst, op_id = failed(world, Operation.SCALE, {"type": "SCALE_OUT", "aspectId": "web"})
    occurrences.fail(world.ports, op_id)
    assert world.records.states(op_id)[-1] == S.FAILED
    assert world.records.active_operation(inst) is None


def test_cancel_of_a_starting_operation_ends_it_before_it_began(world: World) -> None:
    op = operations.begin(
        world.ports,
        instance_id=world.instance(instantiated=True),
        operation=Operation.HEAL,
        request={},
    )
    occurrences.cancel(world.ports, op.id, "FORCEFUL")
    assert world.records.states(op.id) == [S.ROLLED_BACK]
    assert world.records.operations[op.id].doc["cancelMode"] == "FORCEFUL"
    assert world.records.leases == {}


def test_cancel_of_a_running_operation_asks_its_engine(world: World) -> None:
    op = operations.begin(
        world.ports,
        instance_id=world.instance(instantiated=True),
        operation=Operation.HEAL,
        request={},
    )
    world.records.leases[op.id] = "another-engine"  # it runs elsewhere
    world.records.operations[op.id].state = S.PROCESSING
    occurrences.cancel(world.ports, op.id, "GRACEFUL")
    doc = world.records.operations[op.id].doc
    assert doc["isCancelPending"] is True and doc["cancelMode"] == "GRACEFUL"
    assert world.records.cancel_mode(op.id) == "GRACEFUL"
    assert world.records.states(op.id) == []  # no new state: the engine decides


@pytest.mark.parametrize(("mode", "status"), [("SOFTLY", 400), ("FORCEFUL", 409)])
def test_cancel_refusals(world: World, mode: str, status: int) -> None:
    _inst, op_id = failed(world, Operation.SCALE, {"type": "SCALE_OUT", "aspectId": "web"})
    with pytest.raises(LcmError) as info:
        occurrences.cancel(world.ports, op_id, mode)
    assert info.value.status == status


# -- recovery -----------------------------------------------------------------------------------
def test_recovery_moves_on_the_operations_of_dead_engines(world: World) -> None:
    starting = operations.begin(
        world.ports,
        instance_id=world.instance(instantiated=True),
        operation=Operation.HEAL,
        request={},
    )
    running = operations.begin(
        world.ports,
        instance_id=world.instance(instantiated=True),
        operation=Operation.HEAL,
        request={},
    )
    for op_id in (starting.id, running.id):
        world.records.operations[op_id].lease_expires_at = T0 - timedelta(seconds=1)
        world.records.operations[op_id].engine_id = "elsewhere:1:dead"
    world.records.operations[running.id].state = S.PROCESSING
    killed: list[str] = []

    recovered = execution.recover_dead(world.ports, kill=lambda op_id: killed.append(op_id) or 0)

    assert sorted(recovered) == sorted([starting.id, running.id])
    assert world.records.states(starting.id) == [S.ROLLED_BACK]
    assert world.records.states(running.id) == [S.FAILED_TEMP]
    error = world.records.operations[running.id].doc["error"]
    assert error["title"] == "engine stopped" and "retry or roll it back" in error["detail"]
    assert killed == []  # another host's engine: nothing of it runs here
    assert world.records.leases == {}
