"""InstantiateVnf through its handler: recorded, granted, run, completed in one unit of work."""

from __future__ import annotations

import pytest

from tests.unit.lcm.fakes import REQUEST, World, result
from vnfm_runner.core import load_vnf, plan
from vnfm_runner.domain import InstantiationState, OperationState
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import execution, instantiation
from vnfm_runner.lcm.instantiation import plan_request

S = OperationState


def begin(world: World, instance_id: str, request: dict[str, object] = REQUEST) -> str:
    op = instantiation.begin(
        world.ports,
        instance_id=instance_id,
        request=dict(request),
        vim_name=None,
        default_vim="local",
        auto_rollback=True,
    )
    return op.id


def planned(world: World, instance_id: str) -> dict[str, object]:
    model, _ = load_vnf(world.records.packages["pkg-1"].path)
    return plan(model, plan_request(instance_id, REQUEST))


def test_completed_instantiation_commits_instance_and_state_together(world: World) -> None:
    inst = world.instance()
    op_id = begin(world, inst)
    assert world.records.operations[op_id].state == S.STARTING
    desired = planned(world, inst)
    world.playbooks.results = [result(plan=desired, resources={})]

    execution.execute(world.ports, op_id)

    assert world.records.states(op_id) == [S.PROCESSING, S.COMPLETED]
    commit = world.records.commit_of(op_id, S.COMPLETED)
    (instance_change,) = [f for kind, _id, f in commit if kind == "instance"]
    assert instance_change["instantiation_state"] == InstantiationState.INSTANTIATED
    assert instance_change["desired_state"] == desired
    assert instance_change["doc"]["vimConnectionInfo"]["local"]["vimId"] == "local"
    (op_change,) = [f for kind, _id, f in commit if kind == "operation"]
    assert op_change["desired_after"] == desired
    assert op_change["doc"]["error"] is None
    assert world.records.instances[inst].instantiation_state == InstantiationState.INSTANTIATED
    # the grant was asked once, for this operation, with what will exist
    (asked,) = world.grants.asked
    assert asked["vnfLcmOpOccId"] == op_id and asked["operation"] == "INSTANTIATE"
    # one playbook run with every variable the role reads
    (run,) = world.playbooks.runs
    assert run.playbook == "instantiate.yml" and run.ident == "1-instantiate"
    assert set(run.variables) == {
        "vnfm_operation_id",
        "vnfm_vnf_instance_id",
        "vnfm_package_dir",
        "vnfm_hooks",
        "vnfm_operation",
        "vnfm_vim_mapping",
        "vnfm_request",
        "vnfm_vnf_configurable_properties",
        "vnfm_vim",
        "vnfm_additional_params",
    }
    assert run.variables["vnfm_operation_id"] == op_id
    assert set(run.variables["vnfm_hooks"]) == {"instantiate_start", "instantiate_end"}
    # observers saw every state, the lease was given back
    states = [doc["operationState"] for kind, doc in world.events.seen if kind == "operation"]
    assert states == ["PROCESSING", "COMPLETED"]
    assert world.records.leases == {}


def test_failed_run_is_failed_temp_then_rolled_back_to_nothing(world: World) -> None:
    inst = world.instance()
    op_id = begin(world, inst)
    world.playbooks.results = [result("failed"), result()]

    execution.execute(world.ports, op_id)

    assert world.records.states(op_id) == [
        S.PROCESSING,
        S.FAILED_TEMP,
        S.ROLLING_BACK,
        S.ROLLED_BACK,
    ]
    _first, rollback = world.playbooks.runs
    assert rollback.playbook == "terminate.yml" and rollback.ident == "2-instantiate-rollback"
    assert rollback.variables["vnfm_resources"] == {} and rollback.variables["vnfm_hooks"] == {}
    error = world.records.operations[op_id].doc["error"]
    assert "task 't' failed on host h: boom" in error["detail"]
    assert world.records.instances[inst].instantiation_state == InstantiationState.NOT_INSTANTIATED


def test_a_cancelled_run_is_not_rolled_back(world: World) -> None:
    inst = world.instance()
    op_id = begin(world, inst)
    world.records.operations[op_id].doc["isCancelPending"] = True
    world.playbooks.results = [result("canceled")]
    execution.execute(world.ports, op_id)
    assert world.records.states(op_id) == [S.PROCESSING, S.FAILED_TEMP]
    assert world.records.operations[op_id].doc["error"]["status"] == 409


def test_refused_grant_rolls_back_before_anything_runs(world: World) -> None:
    world.grants.answer = "refuse"
    op_id = begin(world, world.instance())
    execution.execute(world.ports, op_id)
    assert world.records.states(op_id) == [S.ROLLED_BACK]
    assert world.records.operations[op_id].doc["error"]["status"] == 403
    assert world.playbooks.runs == []


def test_grant_error_is_failed_temp_and_a_retry_asks_no_grant_again(world: World) -> None:
    world.grants.answer = "error"
    inst = world.instance()
    op_id = begin(world, inst)
    execution.execute(world.ports, op_id)
    assert world.records.states(op_id) == [S.FAILED_TEMP]
    assert world.records.operations[op_id].doc["error"]["status"] == 503
    # retry: the same handler again, from FAILED_TEMP (the grant is asked on a first run only)
    world.grants.answer = "grant"
    world.playbooks.results = [result(plan=planned(world, inst), resources={})]
    execution.execute(world.ports, op_id, mode="retry")
    assert world.records.states(op_id)[-2:] == [S.PROCESSING, S.COMPLETED]
    assert len(world.grants.asked) == 1
    assert world.records.operations[op_id].doc["error"] is None  # no earlier failure shown


def test_an_internal_error_leaves_failed_temp(world: World) -> None:
    op_id = begin(world, world.instance())

    def explode(_run: object) -> object:
        raise RuntimeError("disk on fire")

    world.playbooks.results = [explode]  # type: ignore[list-item]
    with pytest.raises(RuntimeError):
        execution.execute(world.ports, op_id)
    assert world.records.states(op_id)[-1] == S.FAILED_TEMP
    assert "disk on fire" in world.records.operations[op_id].doc["error"]["detail"]


@pytest.mark.parametrize(
    ("request_", "status"),
    [({}, 400), ({"flavourId": "default", "instantiationLevelId": "huge"}, 422)],
)
def test_a_bad_request_records_nothing(
    world: World, request_: dict[str, object], status: int
) -> None:
    with pytest.raises(LcmError) as info:
        begin(world, world.instance(), request_)
    assert info.value.status == status
    assert world.records.operations == {}


def test_busy_or_instantiated_instances_are_refused(world: World) -> None:
    inst = world.instance()
    begin(world, inst)
    with pytest.raises(LcmError, match="busy") as info:
        begin(world, inst)
    assert info.value.status == 409
    with pytest.raises(LcmError, match="already INSTANTIATED"):
        begin(world, world.instance(instantiated=True))
