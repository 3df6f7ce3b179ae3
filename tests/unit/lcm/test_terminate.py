"""TerminateVnf through its handler."""

from __future__ import annotations

import pytest

from tests.unit.lcm.fakes import World, result
from vnfm_runner.domain import InstantiationState, OperationState
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import execution, termination

S = OperationState


def test_completed_termination_empties_the_instance_in_the_same_commit(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = termination.begin(
        world.ports,
        instance_id=inst,
        request={"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 60},
    )
    execution.execute(world.ports, op.id)

    assert world.records.states(op.id) == [S.PROCESSING, S.COMPLETED]
    commit = world.records.commit_of(op.id, S.COMPLETED)
    (change,) = [f for kind, _id, f in commit if kind == "instance"]
    assert change["instantiation_state"] == InstantiationState.NOT_INSTANTIATED
    assert change["desired_state"] is None
    assert "instantiatedVnfInfo" not in change["doc"]
    (run,) = world.playbooks.runs
    assert run.playbook == "terminate.yml"
    assert run.timeout == 360  # the graceful timeout bounds the hooks, the removal has its own
    assert run.variables["vnfm_graceful_timeout"] == 60
    assert set(run.variables["vnfm_hooks"]) == {"terminate_start", "terminate_end"}
    (asked,) = world.grants.asked
    assert asked["operation"] == "TERMINATE"


def test_forceful_termination_runs_no_hooks(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = termination.begin(world.ports, instance_id=inst, request={"terminationType": "FORCEFUL"})
    execution.execute(world.ports, op.id)
    (run,) = world.playbooks.runs
    assert all(path.endswith("noop.yml") for path in run.variables["vnfm_hooks"].values())
    assert run.timeout is None


def test_failed_termination_keeps_the_instance(world: World) -> None:
    inst = world.instance(instantiated=True)
    op = termination.begin(world.ports, instance_id=inst, request={})
    world.playbooks.results = [result("failed")]
    execution.execute(world.ports, op.id)
    assert world.records.states(op.id) == [S.PROCESSING, S.FAILED_TEMP]
    assert world.records.instances[inst].instantiation_state == InstantiationState.INSTANTIATED
    assert not any(k == "instance" for c in world.records.commits for k, _i, _f in c)


@pytest.mark.parametrize(
    "request_",
    [{"terminationType": "SOFTLY"}, {"gracefulTerminationTimeout": -1}],
)
def test_bad_requests_are_refused(world: World, request_: dict[str, object]) -> None:
    with pytest.raises(LcmError) as info:
        termination.begin(
            world.ports, instance_id=world.instance(instantiated=True), request=request_
        )
    assert info.value.status == 400


def test_a_not_instantiated_vnf_cannot_be_terminated(world: World) -> None:
    with pytest.raises(LcmError, match="NOT_INSTANTIATED"):
        termination.begin(world.ports, instance_id=world.instance(), request={})
