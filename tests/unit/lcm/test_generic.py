"""The table's GENERIC operations through their one handler (operations.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.lcm.fakes import REQUEST, WEBFARM, World, result
from vnfm_runner.core import load_vnf
from vnfm_runner.domain import GENERIC, InstantiationState, Operation, OperationState, spec
from vnfm_runner.errors import LcmError
from vnfm_runner.lcm import execution, operations

S = OperationState
EXT = {
    "id": "ext2",
    "resourceId": "br-x",
    "cidr": "172.30.251.0/24",
    "extCps": [{"cpdId": "lb_ext_cp"}],
}
# a request each generic operation can do on a webfarm instantiated at level "small"
REQUESTS: dict[Operation, dict[str, Any]] = {
    Operation.SCALE: {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1},
    Operation.SCALE_TO_LEVEL: {"instantiationLevelId": "large"},
    Operation.CHANGE_FLAVOUR: {"newFlavourId": "default"},
    Operation.HEAL: {},
    Operation.OPERATE: {"changeStateTo": "STOPPED"},
    Operation.CHANGE_EXT_CONN: {"extVirtualLinks": [EXT]},
    Operation.MODIFY_INFO: {"vnfInstanceName": "renamed"},
    Operation.CHANGE_VNFPKG: {"vnfdId": "<the other package>"},
}


def test_every_generic_operation_has_a_request_here() -> None:
    assert set(REQUESTS) == set(GENERIC)


def begin(world: World, inst: str, operation: Operation) -> str:
    request = dict(REQUESTS[operation])
    if operation == Operation.CHANGE_VNFPKG:
        request["vnfdId"] = world.package("pkg-2").vnfd_id
    return operations.begin(world.ports, instance_id=inst, operation=operation, request=request).id


def echo_plan(run: Any) -> Any:
    """The playbook's answer: the plan it reconciled (the current one is enough here)."""
    return result(plan={**run.variables["vnfm_current_plan"], "done": True}, resources={})


@pytest.mark.parametrize("operation", GENERIC)
def test_completed_operation(world: World, operation: Operation) -> None:
    inst = world.instance(instantiated=True)
    op_id = begin(world, inst, operation)
    world.playbooks.results = [echo_plan]

    execution.execute(world.ports, op_id)

    assert world.records.states(op_id) == [S.PROCESSING, S.COMPLETED]
    (run,) = world.playbooks.runs
    assert run.playbook == spec(operation).playbook
    assert run.variables["vnfm_operation"] == operation
    assert run.variables["vnfm_request"] == world.records.operations[op_id].doc["operationParams"]
    for name in (
        "vnfm_vnf_instance_id",
        "vnfm_package_dir",
        "vnfm_hooks",
        "vnfm_vim_mapping",
        "vnfm_current_plan",
        "vnfm_vim",
        "vnfm_resources",
        "vnfm_additional_params",
    ):
        assert name in run.variables, name
    # only the package's own hooks: the playbook imports its no-op for the others and
    # builds no start-hook inventory without a start hook
    hooks = run.variables["vnfm_hooks"]
    flavour = load_vnf(str(WEBFARM))[0].flavour(REQUEST["flavourId"])
    assert flavour is not None
    given = {n for n in spec(operation).hooks("start", "end") if flavour.operation(n)}
    assert set(hooks) == given  # webfarm's own: heal_end alone for a heal, both for a scale
    assert not any(path.endswith("/hooks/noop.yml") for path in hooks.values())
    commit = world.records.commit_of(op_id, S.COMPLETED)
    (change,) = [f for kind, _id, f in commit if kind == "instance"]
    assert change["desired_state"]["done"] is True
    (op_change,) = [f for kind, _id, f in commit if kind == "operation"]
    assert op_change["desired_after"] == change["desired_state"]
    if operation == Operation.CHANGE_VNFPKG:
        assert change["package"].id == "pkg-2"
        assert "vnfm_current_package_dir" in run.variables
    if operation == Operation.MODIFY_INFO:
        assert change["doc"]["vnfInstanceName"] == "renamed"
        assert op_change["doc"]["changedInfo"] == {"vnfInstanceName": "renamed"}
    assert len(world.grants.asked) == 1


def test_heal_asks_a_grant_for_the_vnfcs_it_recreates(world: World) -> None:
    op_id = begin(world, world.instance(instantiated=True), Operation.HEAL)
    world.playbooks.results = [echo_plan]
    execution.execute(world.ports, op_id)
    (asked,) = world.grants.asked
    assert asked["operation"] == "HEAL"
    assert {r["id"] for r in asked["updateResources"]} == {"lb-0", "web-0", "web-1"}


@pytest.mark.parametrize("operation", [Operation.SCALE, Operation.OPERATE])
def test_failure_is_failed_temp_and_changes_no_instance(world: World, operation: Operation) -> None:
    inst = world.instance(instantiated=True)
    op_id = begin(world, inst, operation)
    world.playbooks.results = [result("failed")]
    execution.execute(world.ports, op_id)
    assert world.records.states(op_id) == [S.PROCESSING, S.FAILED_TEMP]
    assert world.records.operations[op_id].doc["error"]["title"] == f"{operation.lower()} failed"
    assert not any(k == "instance" for c in world.records.commits for k, _i, _f in c)


def test_modify_info_of_a_not_instantiated_vnf_runs_no_playbook(world: World) -> None:
    inst = world.instance()
    op_id = begin(world, inst, Operation.MODIFY_INFO)
    execution.execute(world.ports, op_id)
    assert world.records.states(op_id) == [S.PROCESSING, S.COMPLETED]
    assert world.playbooks.runs == [] and world.grants.asked == []
    assert world.records.instances[inst].doc["vnfInstanceName"] == "renamed"
    commit = world.records.commit_of(op_id, S.COMPLETED)
    assert {kind for kind, _id, _f in commit} == {"instance", "operation"}


def test_modify_info_to_an_unknown_package_is_refused(world: World) -> None:
    with pytest.raises(LcmError) as info:
        operations.begin(
            world.ports,
            instance_id=world.instance(),
            operation=Operation.MODIFY_INFO,
            request={"vnfdId": "nobody-has-it"},
        )
    assert info.value.status == 422


@pytest.mark.parametrize(
    ("operation", "request_", "status"),
    [
        ("REBOOT", {}, 400),
        (Operation.SCALE, {"type": "SCALE_SIDEWAYS", "aspectId": "web"}, 422),
        (Operation.CHANGE_VNFPKG, {"vnfdId": "nobody-has-it"}, 422),
    ],
)
def test_refused_before_anything_is_recorded(
    world: World, operation: str, request_: dict[str, Any], status: int
) -> None:
    with pytest.raises(LcmError) as info:
        operations.begin(
            world.ports,
            instance_id=world.instance(instantiated=True),
            operation=operation,
            request=request_,
        )
    assert info.value.status == status
    assert world.records.operations == {}


def test_generic_operations_need_an_instantiated_vnf(world: World) -> None:
    with pytest.raises(LcmError, match="NOT_INSTANTIATED"):
        begin(world, world.instance(), Operation.SCALE)
    assert (
        world.records.instances["inst-1"].instantiation_state == InstantiationState.NOT_INSTANTIATED
    )
