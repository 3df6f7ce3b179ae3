"""The SOL003 LcmOperationState machine: every task on every state.

Allowed transitions that need no playbook run are checked end to end here;
forbidden ones must be refused with a clear error (409) and change nothing.
Retry and rollback runs are covered by the integration tests.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from vnfm_runner import records
from vnfm_runner.domain import InstantiationState, Operation, OperationState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord
from vnfm_runner.engine import ENGINE_ID
from vnfm_runner.lcm import LcmError, Vnfm
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import now

STATES = [
    "STARTING",
    "PROCESSING",
    "COMPLETED",
    "FAILED_TEMP",
    "FAILED",
    "ROLLING_BACK",
    "ROLLED_BACK",
]


@pytest.fixture
def service(tmp_path: Path) -> Vnfm:
    return Vnfm.open(Settings(home=tmp_path), recover=False)


def _op(
    service: Vnfm, state: str, *, engine: str | None = "other-host:1:abc", lease_s: int = 60
) -> str:
    """An instance with one operation in ``state``, held by another live engine."""
    instance_id = str(uuid.uuid4())
    service.store.add_instance(
        VnfInstanceRecord(
            id=instance_id,
            vnfd_id="v",
            package_id="p",
            instantiation_state=InstantiationState.NOT_INSTANTIATED,
            doc={"id": instance_id},
            desired_state=None,
            vim=None,
            created_at=now(),
        )
    )
    op_id = str(uuid.uuid4())
    doc = records.new_operation(op_id=op_id, instance_id=instance_id, operation="SCALE", params={})
    doc["operationState"] = state
    service.store.start_operation(
        VnfLcmOpOccRecord(
            id=op_id,
            vnf_instance_id=instance_id,
            operation=Operation.SCALE,
            state=OperationState(state),
            doc=doc,
            runner_ident=None,
            artifacts_dir=None,
            desired_before=None,
            desired_after=None,
            engine_id=engine,
            lease_expires_at=now() + timedelta(seconds=lease_s),
            created_at=now(),
        )
    )
    return op_id


TASKS = {
    "retry": lambda s, op: s.retry(op, wait=False),
    "rollback": lambda s, op: s.rollback(op, wait=False),
    "fail": lambda s, op: s.fail(op),
    "cancel": lambda s, op: s.cancel(op, "FORCEFUL"),
}
ALLOWED = {
    "retry": {"FAILED_TEMP"},
    "rollback": {"FAILED_TEMP"},
    "fail": {"FAILED_TEMP"},
    "cancel": {"STARTING", "PROCESSING", "ROLLING_BACK"},
}


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("state", STATES)
def test_forbidden_tasks_are_refused_and_change_nothing(
    service: Vnfm, task: str, state: str
) -> None:
    if state in ALLOWED[task]:
        pytest.skip("allowed transition")
    op_id = _op(service, state)
    before = service.operation(op_id)
    with pytest.raises(LcmError) as info:
        TASKS[task](service, op_id)
    assert info.value.status == 409
    assert state in str(info.value)
    assert service.operation(op_id) == before


def test_fail_is_final(service: Vnfm) -> None:
    op_id = _op(service, "FAILED_TEMP")
    assert service.fail(op_id)["operationState"] == "FAILED"
    with pytest.raises(LcmError):
        service.retry(op_id, wait=False)


def test_cancel_of_an_unclaimed_starting_operation_rolls_it_back(service: Vnfm) -> None:
    op_id = _op(service, "STARTING", engine=None)
    doc = service.cancel(op_id, "GRACEFUL")
    assert doc["operationState"] == "ROLLED_BACK"
    assert doc["cancelMode"] == "GRACEFUL"


def test_cancel_of_a_running_operation_is_pending_until_its_engine_stops(service: Vnfm) -> None:
    op_id = _op(service, "PROCESSING")
    doc = service.cancel(op_id, "FORCEFUL")
    assert doc["operationState"] == "PROCESSING"
    assert doc["isCancelPending"] is True and doc["cancelMode"] == "FORCEFUL"
    assert service.store.cancel_mode(op_id) == "FORCEFUL"


def test_bad_cancel_mode_is_a_bad_request(service: Vnfm) -> None:
    op_id = _op(service, "PROCESSING")
    with pytest.raises(LcmError) as info:
        service.cancel(op_id, "SOFTLY")
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("state", "after"),
    [("STARTING", "ROLLED_BACK"), ("PROCESSING", "FAILED_TEMP"), ("ROLLING_BACK", "FAILED_TEMP")],
)
def test_an_operation_whose_engine_died_is_recovered(
    tmp_path: Path, state: str, after: str
) -> None:
    service = Vnfm.open(Settings(home=tmp_path), recover=False)
    op_id = _op(service, state, engine="gone-host:99999:dead", lease_s=-1)  # lease already expired
    recovered = Vnfm.open(Settings(home=tmp_path))  # any later command recovers it
    doc = recovered.operation(op_id)
    assert doc["operationState"] == after
    assert doc["error"]["title"] == "engine stopped"
    row = recovered.store.operation(op_id)
    assert row is not None and row.engine_id is None


def test_a_live_lease_is_not_recovered_nor_claimable(service: Vnfm) -> None:
    op_id = _op(service, "PROCESSING", engine="other-host:1:abc", lease_s=60)
    assert Vnfm(service.settings, service.store).operation(op_id)["operationState"] == "PROCESSING"
    assert not service.store.claim_operation(op_id, ENGINE_ID, timedelta(seconds=20))
