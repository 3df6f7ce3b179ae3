"""engine.OperationQueue on a real store: bounded admission, a queued operation's lease
kept alive by the queue's one heartbeat however long it waits, handed over to the
worker's own lease, and left to recovery once the queue stops (its process died)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.engine.test_state_machine import _op
from vnfm_runner.engine import Lease, OperationQueue, QueueFull
from vnfm_runner.lcm import Vnfm
from vnfm_runner.settings import Settings

TTL = timedelta(seconds=0.4)
QUEUE_ENGINE = f"queue-host:1:{uuid.uuid4().hex[:8]}"  # a server other than this process


@pytest.fixture
def service(tmp_path: Path) -> Vnfm:
    return Vnfm.open(Settings(home=tmp_path), recover=False)


def test_admission_is_bounded_and_frees_its_place(service: Vnfm) -> None:
    queue = OperationQueue(service.store, depth=2, ttl=TTL, engine_id=QUEUE_ENGINE)
    first = _op(service, "STARTING", engine=None)
    with queue.admit():
        assert queue.hold(first)
    # one waits, one is being admitted: no third
    with queue.admit(), pytest.raises(QueueFull) as info, queue.admit():
        pass
    assert info.value.status == 503 and info.value.retry_after > 0
    with queue.admit():  # a request that failed its checks gave its place back
        pass
    queue.started(first)
    with queue.admit(), queue.admit():
        pass
    queue.stop()


def test_queued_lease_outlives_its_ttl_then_passes_to_the_worker(service: Vnfm) -> None:
    queue = OperationQueue(service.store, depth=4, ttl=TTL, engine_id=QUEUE_ENGINE)
    op_id = _op(service, "STARTING", engine=None, lease_s=0)
    with queue.admit():
        assert queue.hold(op_id)
    time.sleep(5 * TTL.total_seconds())  # queued for five lease lifetimes
    assert op_id not in {o.id for o in service.store.expired_operations()}
    assert (
        Vnfm.open(service.settings, recover=False).operation(op_id)["operationState"] == "STARTING"
    )
    # another engine cannot take it; the queue's own worker can
    assert not service.store.claim_operation(op_id, "intruder:1:x", TTL)
    with Lease(service.store, op_id, engine_id=QUEUE_ENGINE, ttl=TTL):
        queue.started(op_id)
        assert len(queue) == 0
    queue.stop()


def test_a_stopped_queue_leaves_its_operations_to_recovery(service: Vnfm) -> None:
    queue = OperationQueue(service.store, depth=4, ttl=TTL, engine_id=QUEUE_ENGINE)
    op_id = _op(service, "STARTING", engine=None)
    with queue.admit():
        assert queue.hold(op_id)
    queue.stop()  # the server died: nobody renews
    time.sleep(2 * TTL.total_seconds())
    doc = Vnfm.open(service.settings).operation(op_id)  # the next command recovers it
    assert doc["operationState"] == "ROLLED_BACK"
    assert "stopped before it began" in doc["error"]["detail"]


def test_hold_fails_on_an_operation_another_engine_holds(service: Vnfm) -> None:
    queue = OperationQueue(service.store, depth=4, ttl=TTL, engine_id=QUEUE_ENGINE)
    op_id = _op(service, "STARTING", engine="other-host:1:abc", lease_s=60)
    assert not queue.hold(op_id)
    assert len(queue) == 0
