"""The outbox, the store's journal and the delivery worker without a server: documents,
filters, notifications written in the transaction of each change (and only then),
queue order, leases, give-up, and two workers on one store never sending a row twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.notify.subscriber import Subscriber
from tests.store import store_rows
from vnfm_runner.notify import DeliveryWorker, NotifySettings, Outbox, SubscriptionRegistry
from vnfm_runner.notify import documents as docs
from vnfm_runner.notify import packages as pkgs
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, iso, now
from vnfm_runner.store.tables import (
    LCM_API,
    PKGM_API,
    NotificationOutboxRow,
    OperationRow,
    PkgInfoRow,
)

REPO = Path(__file__).resolve().parents[2]
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


@pytest.fixture
def registry(store: Store, tmp_path: Path) -> SubscriptionRegistry:
    return SubscriptionRegistry(store, SecretBox(tmp_path))


def subscribe(
    registry: SubscriptionRegistry, url: str, verbosity: str = "FULL", **request: Any
) -> str:
    """What POST /vnflcm/v2/subscriptions records."""
    request = {"callbackUri": url, **request}
    return str(registry.add(LCM_API, docs.SUBSCRIPTIONS, request, verbosity=verbosity)["id"])


def new_instance(store: Store, name: str = "web") -> str:
    pkg = store_rows.package()
    store.add_package(pkg)
    row = store_rows.instance(pkg.id)
    row.doc = {**INSTANCE, "id": row.id, "vnfInstanceName": name}
    store.add_instance(row)
    return row.id


def start(store: Store, instance_id: str, operation: str = "MODIFY_INFO") -> str:
    row = store_rows.operation(instance_id, operation=operation)
    row.doc = {**op("STARTING", operation), "id": row.id, "vnfInstanceId": instance_id}
    store.start_operation(row)
    return row.id


def enter(store: Store, op_id: str, state: str) -> None:
    """What an operation entering a state writes (lcm/recording.transition)."""
    row = store.operation(op_id)
    assert row is not None
    doc = {**row.doc, "operationState": state, "stateEnteredTime": iso(now())}
    store.update_operation(op_id, state=state, doc=doc)


def kinds(store: Store, sub_id: str) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for row in Outbox(store).rows(sub_id):
        n = row.payload
        out.append((n["notificationType"], n.get("operationState") or n.get("changeType") or ""))
    return out


# -- the journal: notifications in the transaction of the change -------------------------------
def test_every_change_writes_its_notifications_with_it(
    store: Store, registry: SubscriptionRegistry
) -> None:
    everything = subscribe(registry, "http://nfvo/all")
    completed = subscribe(
        registry, "http://nfvo/done", filter={"operationStates": ["COMPLETED"]}, verbosity="SHORT"
    )
    other_vnfd = subscribe(
        registry, "http://nfvo/x", filter={"vnfInstanceSubscriptionFilter": {"vnfdIds": ["no"]}}
    )
    iid = new_instance(store)
    op_id = start(store, iid)
    enter(store, op_id, "PROCESSING")
    row = store.operation(op_id)
    assert row is not None
    store.update_operation(op_id, doc={**row.doc, "isCancelPending": False})  # no new state
    enter(store, op_id, "COMPLETED")
    store.delete_instance(iid)

    assert kinds(store, everything) == [
        (docs.CREATED, ""),
        (docs.OP_OCC, "STARTING"),
        (docs.OP_OCC, "PROCESSING"),
        (docs.OP_OCC, "COMPLETED"),
        (docs.DELETED, ""),
    ]
    assert kinds(store, completed) == [(docs.OP_OCC, "COMPLETED")]
    assert kinds(store, other_vnfd) == []
    rows = Outbox(store).rows(everything)
    assert {r.vnf_instance_id for r in rows} == {iid}  # one queue: delivered in order
    start_doc, done_doc = rows[1].payload, rows[3].payload
    assert start_doc["notificationStatus"] == "START" and start_doc["vnfLcmOpOccId"] == op_id
    assert done_doc["notificationStatus"] == "RESULT"
    # links are relative in the store; the worker puts its base URL in front
    assert done_doc["_links"]["vnfLcmOpOcc"]["href"] == f"{docs.OP_OCCS}/{op_id}"
    absolute = docs.with_base_url(done_doc, "https://vnfm:9890/")
    assert absolute["_links"]["vnfInstance"]["href"] == f"https://vnfm:9890{docs.INSTANCES}/{iid}"
    assert Outbox(store).rows(completed)[0].payload["verbosity"] == "SHORT"


def test_a_change_rolled_back_announces_nothing(
    store: Store, registry: SubscriptionRegistry
) -> None:
    sub = subscribe(registry, "http://nfvo/all")
    iid = new_instance(store)
    start(store, iid)
    with pytest.raises(Exception, match=r"has operation"):
        start(store, iid)  # refused inside its transaction: nothing of it is kept
    assert kinds(store, sub) == [(docs.CREATED, ""), (docs.OP_OCC, "STARTING")]
    with pytest.raises(RuntimeError), store.session() as s:
        row = s.get(OperationRow, Outbox(store).rows(sub)[1].payload["vnfLcmOpOccId"])
        assert row is not None
        row.state = "PROCESSING"
        row.doc = {**row.doc, "operationState": "PROCESSING", "stateEnteredTime": "t-p"}
        s.flush()  # the notification is written in the flush ...
        assert len(list(s.scalars(select(NotificationOutboxRow)))) == 3
        raise RuntimeError("... and goes with the transaction")
    assert kinds(store, sub) == [(docs.CREATED, ""), (docs.OP_OCC, "STARTING")]


def test_a_broken_filter_never_breaks_a_change(
    store: Store, registry: SubscriptionRegistry
) -> None:
    broken = subscribe(registry, "http://nfvo/b", filter={"operationTypes": 5})
    fine = subscribe(registry, "http://nfvo/f")
    iid = new_instance(store)
    start(store, iid)
    assert kinds(store, broken) == []  # (the API refuses such a filter: a store may have one)
    assert kinds(store, fine) == [(docs.CREATED, ""), (docs.OP_OCC, "STARTING")]


def test_without_subscribers_nothing_is_written(store: Store) -> None:
    iid = new_instance(store)
    enter(store, start(store, iid), "COMPLETED")
    assert Outbox(store).rows() == []


# -- package management notifications ------------------------------------------------------------
def add_pkg_info(store: Store, **fields: Any) -> PkgInfoRow:
    values: dict[str, Any] = {
        "id": f"pkg-{time.monotonic_ns()}",
        "store_package_id": None,
        "onboarding_state": "CREATED",
        "operational_state": "DISABLED",
        "user_defined_data": {},
        "failure": None,
        "details": {},
        "upload_path": None,
        "deleted": False,
        "created_at": now(),
    }
    row = PkgInfoRow(**{**values, **fields})
    with store.session() as s:
        s.add(row)
    return row


def update_pkg_info(store: Store, pkg_id: str, **fields: Any) -> None:
    with store.session() as s:
        row = s.get(PkgInfoRow, pkg_id)
        assert row is not None
        for key, value in fields.items():
            setattr(row, key, value)


def test_package_notifications(store: Store, registry: SubscriptionRegistry) -> None:
    def sub(**flt: Any) -> str:
        request = {"callbackUri": "http://nfvo/pkg", "filter": flt}
        return str(registry.add(PKGM_API, pkgs.SUBSCRIPTIONS, request)["id"])

    everything = sub()
    onboarding = sub(notificationTypes=[pkgs.ONBOARDING])
    disabled = sub(operationalState=["DISABLED"])
    by_vnfd = sub(vnfdId=["vnfd-1"])
    other_vnfd = sub(vnfdId=["vnfd-2"])
    by_product = sub(
        vnfProductsFromProviders=[
            {"vnfProvider": "acme", "vnfProducts": [{"vnfProductName": "farm"}]}
        ]
    )
    lcm = subscribe(registry, "http://nfvo/lcm")
    stored = store_rows.package(
        summary={"vnfdId": "vnfd-1", "provider": "acme", "productName": "farm"}
    )
    store.add_package(stored)
    info = add_pkg_info(store)  # CREATED: nothing to tell yet
    update_pkg_info(store, info.id, onboarding_state="PROCESSING")
    update_pkg_info(
        store,
        info.id,
        onboarding_state="ONBOARDED",
        operational_state="ENABLED",
        store_package_id=stored.id,
    )
    update_pkg_info(store, info.id, user_defined_data={"a": "b"})  # not a notified change
    update_pkg_info(store, info.id, operational_state="DISABLED")
    update_pkg_info(store, info.id, deleted=True)

    onboarded = (pkgs.ONBOARDING, "")
    changed, deleted = (pkgs.CHANGE, pkgs.OP_STATE_CHANGE), (pkgs.CHANGE, pkgs.PKG_DELETE)
    assert kinds(store, everything) == [onboarded, changed, deleted]
    assert kinds(store, onboarding) == [onboarded]
    assert kinds(store, disabled) == [changed, deleted]
    assert kinds(store, by_vnfd) == [onboarded, changed, deleted]
    assert kinds(store, by_product) == [onboarded, changed, deleted]
    assert kinds(store, other_vnfd) == [] and kinds(store, lcm) == []
    rows = Outbox(store).rows(everything)
    first, second = rows[0].payload, rows[1].payload
    assert {r.vnf_instance_id for r in rows} == {info.id}  # the package's queue
    assert first["vnfPkgId"] == info.id and first["vnfdId"] == "vnfd-1"
    assert "changeType" not in first and second["operationalState"] == "DISABLED"
    assert first["_links"] == {
        "vnfPackage": {"href": f"{pkgs.PACKAGES}/{info.id}"},
        "subscription": {"href": f"{pkgs.SUBSCRIPTIONS}/{everything}"},
    }
    # a package onboarded by the CLI is announced when the API adopts it
    adopted = add_pkg_info(store, onboarding_state="ONBOARDED", operational_state="ENABLED")
    assert kinds(store, onboarding)[-1] == onboarded
    assert Outbox(store).rows(onboarding)[-1].payload["vnfPkgId"] == adopted.id


# -- delivery ------------------------------------------------------------------------------------
FAST = NotifySettings(timeout=2, retry_min=0.1, retry_max=0.3, poll_interval=0.05)


def test_two_workers_one_store_send_each_once_in_order(
    store: Store, registry: SubscriptionRegistry, subscriber: Subscriber
) -> None:
    subscribe(registry, subscriber.url)
    one = DeliveryWorker(store, registry, FAST)
    two = DeliveryWorker(store, registry, FAST.model_copy(update={"per_subscriber": 4}))
    subscriber.mode = "503"
    iids = [new_instance(store, f"i-{n}") for n in range(4)]
    ops = [start(store, iid) for iid in iids]
    for state in ("PROCESSING", "FAILED_TEMP", "PROCESSING", "COMPLETED"):
        for op_id in ops:
            enter(store, op_id, state)
    one.start()
    two.start()
    try:
        time.sleep(0.5)  # both retry against a subscriber answering 503
        assert not subscriber.received
        subscriber.mode = "up"
        deadline = time.monotonic() + 20
        while len(subscriber.received) < 24 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        one.stop()
        two.stop()
    got = subscriber.received
    assert len(got) == 24 and len({n["id"] for n in got}) == 24  # nothing twice
    for iid in iids:
        states = [n.get("operationState", n["notificationType"]) for n in subscriber.of(iid)]
        assert states == [  # in order per instance
            docs.CREATED,
            "STARTING",
            "PROCESSING",
            "FAILED_TEMP",
            "PROCESSING",
            "COMPLETED",
        ]
    assert {r.status for r in Outbox(store).rows()} == {"SENT"}


def test_a_commit_wakes_the_local_worker(
    store: Store, registry: SubscriptionRegistry, subscriber: Subscriber
) -> None:
    subscribe(registry, subscriber.url)
    worker = DeliveryWorker(store, registry, FAST.model_copy(update={"poll_interval": 30}))
    worker.start()
    try:
        time.sleep(0.2)  # the first pass is over: the next look is in 30 s unless woken
        iid = new_instance(store)
        assert subscriber.wait_for(1, iid, timeout=5)
    finally:
        worker.stop()
    assert worker.wake not in store.journal.wakers


def test_a_process_killed_right_after_a_change_loses_no_notification(
    store: Store, registry: SubscriptionRegistry, subscriber: Subscriber
) -> None:
    """The notification is in the store when the change is: nothing waits in memory."""
    subscribe(registry, subscriber.url)
    code = textwrap.dedent(
        f"""
        import os, signal
        from tests.store import store_rows
        from vnfm_runner.bootstrap import open_store
        store = open_store({store.engine.url.render_as_string(hide_password=False)!r})
        pkg = store_rows.package()
        store.add_package(pkg)
        row = store_rows.instance(pkg.id)
        store.add_instance(row)
        print(row.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    iid = done.stdout.strip()
    worker = DeliveryWorker(store, registry, FAST).start()
    try:
        (got,) = subscriber.wait_for(1, iid, timeout=10)
    finally:
        worker.stop()
    assert got["notificationType"] == docs.CREATED


def test_gives_up_after_max_age_and_on_deleted_subscriptions(
    store: Store, registry: SubscriptionRegistry, subscriber: Subscriber
) -> None:
    only = "vnfInstanceSubscriptionFilter"
    old = subscribe(registry, subscriber.url, filter={only: {"vnfInstanceNames": ["old"]}})
    gone = subscribe(registry, subscriber.url, filter={only: {"vnfInstanceNames": ["gone"]}})
    worker = DeliveryWorker(store, registry, FAST.model_copy(update={"max_age": 1.0}))
    subscriber.mode = "503"
    new_instance(store, "old")
    time.sleep(1.1)  # the notification to "old" is now too old
    new_instance(store, "gone")
    assert registry.remove(gone)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while Outbox(store).backlog()[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    rows = {r.subscription_id: r for r in Outbox(store).rows()}
    assert rows[old].status == "DROPPED" and "gave up" in (rows[old].last_error or "")
    assert rows[gone].status == "DROPPED" and "deleted" in (rows[gone].last_error or "")
    assert not subscriber.received


def test_backoff_is_exponential_and_capped() -> None:
    worker_settings = NotifySettings(retry_min=1, retry_max=60)
    worker = DeliveryWorker.__new__(DeliveryWorker)
    worker.settings = worker_settings
    assert [worker.backoff(n) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
