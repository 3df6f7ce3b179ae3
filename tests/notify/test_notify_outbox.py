"""The outbox and the delivery worker without a server: documents, filters, queue order,
leases, give-up, and two workers on one store never sending a row twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.notify.subscriber import Subscriber
from vnfm_runner.notify import DeliveryWorker, NotifySettings, Outbox
from vnfm_runner.notify import documents as docs
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import NotificationOutboxRow

INSTANCE = {
    "id": "i-1",
    "vnfInstanceName": "web",
    "vnfdId": "vnfd-1",
    "vnfProvider": "acme",
    "vnfProductName": "farm",
    "vnfSoftwareVersion": "1.0",
    "vnfdVersion": "1.1",
}


def op(state: str, operation: str = "INSTANTIATE", **extra: Any) -> dict[str, Any]:
    return {
        "id": "op-1",
        "vnfInstanceId": "i-1",
        "operation": operation,
        "operationState": state,
        "stateEnteredTime": f"t-{state}",
        "isAutomaticInvocation": False,
        "resourceChanges": {
            "affectedVnfcs": [{"id": "c1", "changeType": "ADDED"}],
            "affectedVirtualLinks": [],
            "affectedVirtualStorages": [],
        },
        "error": None,
        **extra,
    }


# -- documents -------------------------------------------------------------------------------
def test_operation_notification_document() -> None:
    sub = {"id": "s-1", "verbosity": "FULL"}
    start = docs.build("operation", op("STARTING"), sub, "https://vnfm:9890")
    assert start["notificationStatus"] == "START" and "affectedVnfcs" not in start
    assert start["_links"] == {
        "vnfInstance": {"href": "https://vnfm:9890/vnflcm/v2/vnf_instances/i-1"},
        "subscription": {"href": "https://vnfm:9890/vnflcm/v2/subscriptions/s-1"},
        "vnfLcmOpOcc": {"href": "https://vnfm:9890/vnflcm/v2/vnf_lcm_op_occs/op-1"},
    }
    done = docs.build("operation", op("COMPLETED"), sub)
    assert done["notificationStatus"] == "RESULT"
    assert done["affectedVnfcs"] == [{"id": "c1", "changeType": "ADDED"}]
    assert "affectedVirtualLinks" not in done and "error" not in done
    assert done["vnfLcmOpOccId"] == "op-1" and done["verbosity"] == "FULL"
    for state in ("PROCESSING", "ROLLING_BACK"):  # intermediate results
        assert docs.build("operation", op(state), sub)["notificationStatus"] == "RESULT"
    failed = docs.build("operation", op("FAILED_TEMP", error={"title": "x"}), sub)
    assert failed["error"] == {"title": "x"}
    short = docs.build("operation", op("COMPLETED"), {"id": "s-1", "verbosity": "SHORT"})
    assert "affectedVnfcs" not in short and short["verbosity"] == "SHORT"
    mod = docs.build(
        "operation", op("COMPLETED", "MODIFY_INFO", changedInfo={"vnfInstanceName": "n"}), sub
    )
    assert mod["changedInfo"] == {"vnfInstanceName": "n"}
    created = docs.build("instance_created", INSTANCE, sub)
    assert created["notificationType"] == docs.CREATED and created["vnfInstanceId"] == "i-1"
    assert set(created["_links"]) == {"vnfInstance", "subscription"}
    assert docs.event_key("operation", op("FAILED_TEMP")) == docs.event_key(
        "operation", op("FAILED_TEMP")
    )


def test_filters() -> None:
    def sel(flt: dict[str, Any], kind: str, doc: dict[str, Any]) -> bool:
        return docs.selects(flt, docs.probe(kind, doc), INSTANCE)

    completed = op("COMPLETED")
    flt = {"operationTypes": ["INSTANTIATE"], "operationStates": ["COMPLETED"]}
    assert sel(flt, "operation", completed)
    assert not sel(flt, "operation", op("PROCESSING"))
    assert not sel(flt, "operation", op("COMPLETED", "SCALE"))
    assert not sel(flt, "instance_created", INSTANCE)
    assert sel({}, "instance_deleted", INSTANCE)
    assert sel({"notificationTypes": [docs.CREATED]}, "instance_created", INSTANCE)
    assert not sel({"notificationTypes": [docs.CREATED]}, "operation", completed)
    inst = "vnfInstanceSubscriptionFilter"
    assert sel({inst: {"vnfInstanceIds": ["i-1"]}}, "operation", completed)
    assert not sel({inst: {"vnfInstanceIds": ["i-2"]}}, "operation", completed)
    assert sel({inst: {"vnfInstanceNames": ["web", "db"]}}, "operation", completed)
    assert not sel({inst: {"vnfInstanceNames": ["db"]}}, "operation", completed)
    assert sel({inst: {"vnfdIds": ["vnfd-1"]}}, "operation", completed)
    assert not sel({inst: {"vnfdIds": ["vnfd-2"]}}, "operation", completed)
    products = {
        "vnfProvider": "acme",
        "vnfProducts": [{"vnfProductName": "farm", "versions": [{"vnfSoftwareVersion": "1.0"}]}],
    }
    assert sel({inst: {"vnfProductsFromProviders": [products]}}, "operation", completed)
    other = {**products, "vnfProvider": "other"}
    assert not sel({inst: {"vnfProductsFromProviders": [other]}}, "operation", completed)
    # without the instance, instance attributes cannot match
    assert not docs.selects({inst: {"vnfdIds": ["vnfd-1"]}}, docs.probe("operation", completed))


# -- the outbox -------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'vnfm.db'}")


def put(outbox: Outbox, sub: str, instance: str, n: int) -> str:
    note = {"id": f"{sub}-{instance}-{n}", "subscriptionId": sub, "notificationType": docs.OP_OCC}
    assert outbox.add(f"k-{instance}-{n}", instance, [note]) == 1
    return str(note["id"])


def test_queue_order_claims_and_dedup(store: Store) -> None:
    outbox = Outbox(store)
    a1, a2 = put(outbox, "s", "a", 1), put(outbox, "s", "a", 2)
    b1 = put(outbox, "s", "b", 1)
    # the same event again is not a second row
    dup = {"id": "other", "subscriptionId": "s", "notificationType": docs.OP_OCC}
    assert outbox.add("k-a-1", "a", [dup]) == 0
    rows = {r.id: r.seq for r in outbox.rows()}
    heads = outbox.heads(10, set())
    assert [seq for seq, _ in heads] == [rows[a1], rows[b1]]  # a2 waits for a1
    assert outbox.heads(10, {"s"}) == []

    lease = timedelta(seconds=30)
    first = outbox.claim(rows[a1], "w1", lease)
    assert first is not None and first.id == a1
    assert outbox.claim(rows[a1], "w2", lease) is None  # live lease: compare-and-set fails
    assert [seq for seq, _ in outbox.heads(10, set())] == [rows[b1]]
    assert not outbox.sent(rows[a1], "w2")  # only the holder finishes it
    assert outbox.failed(rows[a1], "w1", "HTTP 503", now() - timedelta(seconds=1))
    assert [seq for seq, _ in outbox.heads(10, set())] == [rows[a1], rows[b1]]
    assert outbox.claim(rows[a1], "w2", lease) is not None
    with store.session() as s:  # w2 dies: its lease runs out
        s.execute(
            update(NotificationOutboxRow)
            .where(NotificationOutboxRow.seq == rows[a1])
            .values(lease_expires_at=now() - timedelta(seconds=1))
        )
    assert outbox.claim(rows[a1], "w3", lease) is not None
    assert outbox.sent(rows[a1], "w3")
    assert [seq for seq, _ in outbox.heads(10, set())] == [rows[a2], rows[b1]]
    done = {r.id: (r.status, r.attempts) for r in outbox.rows()}
    assert done[a1] == ("SENT", 1)
    assert outbox.backlog()[0] == 2

    assert outbox.drop_older_than(now() + timedelta(seconds=1)) == 2
    assert outbox.backlog() == (0, None)
    assert outbox.purge(now() + timedelta(seconds=1)) == 3


class FakeSubscriptions:
    def __init__(self, subs: dict[str, dict[str, Any]]) -> None:
        self.subs = subs

    def matching(
        self, notification: dict[str, Any], instance: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        return [s for s in self.subs.values() if docs.selects(s["filter"], notification, instance)]

    def get(self, sub_id: str) -> dict[str, Any] | None:
        return self.subs.get(sub_id)

    def authentication(self, sub_id: str) -> dict[str, Any] | None:
        return None


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = Subscriber()
    try:
        yield sub
    finally:
        sub.close()


FAST = NotifySettings(timeout=2, retry_min=0.1, retry_max=0.3, poll_interval=0.05)


def test_two_workers_one_store_send_each_once_in_order(
    store: Store, subscriber: Subscriber
) -> None:
    subs = FakeSubscriptions({"s": {"id": "s", "filter": {}, "callbackUri": subscriber.url}})
    one = DeliveryWorker(store, subs, FAST)
    two = DeliveryWorker(store, subs, FAST.model_copy(update={"per_subscriber": 4}))
    subscriber.mode = "503"
    for n in range(20):  # four instances, five state changes each
        doc = {**op(f"S{n}"), "id": f"op-{n % 4}", "vnfInstanceId": f"i-{n % 4}"}
        one.listener("operation", doc)
    one.start()
    two.start()
    try:
        time.sleep(0.5)  # both retry against a subscriber answering 503
        assert not subscriber.received
        subscriber.mode = "up"
        deadline = time.monotonic() + 20
        while len(subscriber.received) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        one.stop()
        two.stop()
    got = subscriber.received
    assert len(got) == 20 and len({n["id"] for n in got}) == 20  # nothing twice
    for i in range(4):
        states = [n["operationState"] for n in got if n["vnfInstanceId"] == f"i-{i}"]
        assert states == [f"S{n}" for n in range(i, 20, 4)]  # in order per instance
    assert {r.status for r in Outbox(store).rows()} == {"SENT"}


def test_gives_up_after_max_age_and_on_deleted_subscriptions(
    store: Store, subscriber: Subscriber
) -> None:
    subs = FakeSubscriptions(
        {
            "old": {"id": "old", "filter": {}, "callbackUri": subscriber.url},
            "gone": {"id": "gone", "filter": {}, "callbackUri": subscriber.url},
        }
    )
    worker = DeliveryWorker(store, subs, FAST.model_copy(update={"max_age": 1.0}))
    subscriber.mode = "503"
    subs.subs["old"]["filter"] = {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": ["i-1"]}}
    subs.subs["gone"]["filter"] = {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": ["i-2"]}}
    worker.listener("instance_created", INSTANCE)
    time.sleep(1.1)  # the notification to "old" is now too old
    worker.listener("instance_created", {**INSTANCE, "id": "i-2"})
    del subs.subs["gone"]
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while Outbox(store).backlog()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    rows = {r.subscription_id: r for r in Outbox(store).rows()}
    assert rows["old"].status == "DROPPED" and "gave up" in (rows["old"].last_error or "")
    assert rows["gone"].status == "DROPPED" and "deleted" in (rows["gone"].last_error or "")
    assert not subscriber.received


def test_backoff_is_exponential_and_capped() -> None:
    worker_settings = NotifySettings(retry_min=1, retry_max=60)
    worker = DeliveryWorker.__new__(DeliveryWorker)
    worker.settings = worker_settings
    assert [worker.backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_failing_listener_never_breaks_an_operation(store: Store) -> None:
    class Broken(FakeSubscriptions):
        def matching(
            self, notification: dict[str, Any], instance: dict[str, Any] | None = None
        ) -> list[dict[str, Any]]:
            raise RuntimeError("database down")

    worker = DeliveryWorker(store, Broken({}), FAST)
    worker.listener("instance_created", INSTANCE)  # logs, does not raise
    assert Outbox(store).rows() == []
