"""CRUD, the one-operation rule, leases, JSON and timestamps, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import store_rows as rows
from sqlalchemy.exc import IntegrityError

from vnfm_runner.domain.records import VnfLcmOpOccRecord
from vnfm_runner.store import mapping
from vnfm_runner.store.db import BusyError, Store, now


def test_packages(store: Store) -> None:
    old = rows.package("vnfd-a", created_at=now() - timedelta(hours=1))
    new = rows.package("vnfd-a")
    other = rows.package("vnfd-b", onboarding_state="CREATED")
    for row in (new, old, other):
        store.add_package(row)
    assert [p.id for p in store.packages()] == [old.id, new.id, other.id]
    got = store.package(old.id)
    assert got is not None and got.summary == old.summary and got.path == "/packages/p"
    assert store.package("nope") is None
    by_vnfd = store.package_by_vnfd("vnfd-a")
    assert by_vnfd is not None and by_vnfd.id == new.id  # the newest onboarded
    assert store.package_by_vnfd("vnfd-b") is None  # not onboarded


def test_instances(store: Store) -> None:
    pkg = rows.package()
    store.add_package(pkg)
    first, second = rows.instance(pkg.id), rows.instance(pkg.id)
    store.add_instance(first)
    store.add_instance(second)
    assert [i.id for i in store.instances()] == [first.id, second.id]

    doc = {"id": first.id, "instantiationState": "INSTANTIATED", "extensions": {"k": [1, 2]}}
    store.update_instance(
        first.id, instantiation_state="INSTANTIATED", doc=doc, desired_state={"vnfcs": []}
    )
    doc["extensions"]["k"].append(3)  # the store keeps its own copy
    got = store.instance(first.id)
    assert got is not None
    assert got.instantiation_state == "INSTANTIATED"
    assert got.doc["extensions"] == {"k": [1, 2]}
    assert got.desired_state == {"vnfcs": []}
    with pytest.raises(KeyError):
        store.update_instance("nope", doc={})

    store.delete_instance(first.id)
    store.delete_instance(first.id)  # deleting twice is fine
    assert store.instance(first.id) is None
    assert [i.id for i in store.instances()] == [second.id]


def test_vims(store: Store) -> None:
    store.add_vim(rows.vim("zeta"))
    store.add_vim(rows.vim("alpha"))
    with pytest.raises(KeyError):
        store.add_vim(rows.vim("alpha"))
    assert [v.name for v in store.vims()] == ["alpha", "zeta"]
    got = store.vim("alpha")
    assert got is not None and got.connection["region"] == "RegionOne"
    assert got.credentials == "sealed:abc"
    store.remove_vim("alpha")
    store.remove_vim("alpha")
    assert store.vim("alpha") is None
    assert [v.name for v in store.vims()] == ["zeta"]


def test_operations(store: Store) -> None:
    a, b = rows.instances(store, 2)
    first = rows.operation(a, created_at=now() - timedelta(minutes=1))
    store.start_operation(first)
    store.start_operation(rows.operation(b))
    assert store.active_operation(a) is not None
    assert len(store.operations()) == 2
    assert [o.id for o in store.operations(a)] == [first.id]

    store.update_operation(first.id, state="PROCESSING", runner_ident="1-instantiate")
    got = store.operation(first.id)
    assert got is not None and got.state == "PROCESSING" and got.runner_ident == "1-instantiate"
    with pytest.raises(KeyError):
        store.update_operation("nope", state="FAILED")

    assert store.cancel_mode(first.id) is None
    store.update_operation(first.id, doc={**first.doc, "isCancelPending": True})
    assert store.cancel_mode(first.id) == "FORCEFUL"
    store.update_operation(
        first.id, doc={**first.doc, "isCancelPending": True, "cancelMode": "GRACEFUL"}
    )
    assert store.cancel_mode(first.id) == "GRACEFUL"
    assert store.cancel_mode("nope") is None


def test_second_operation_is_refused_until_the_first_is_final(store: Store) -> None:
    (inst,) = rows.instances(store, 1)
    first = rows.operation(inst)
    store.start_operation(first)
    for state in ("STARTING", "PROCESSING", "FAILED_TEMP", "ROLLING_BACK"):
        store.update_operation(first.id, state=state)
        with pytest.raises(BusyError, match=rf"VNF instance {inst} has operation {first.id} "):
            store.start_operation(rows.operation(inst))
    store.update_operation(first.id, state="COMPLETED")
    assert store.active_operation(inst) is None
    second = rows.operation(inst)
    store.start_operation(second)
    active = store.active_operation(inst)
    assert active is not None and active.id == second.id
    assert len(store.operations(inst)) == 2


def test_the_database_itself_refuses_a_second_active_operation(store: Store) -> None:
    """The partial unique index, bypassing start_operation's own check."""
    (inst,) = rows.instances(store, 1)
    with store.session() as s:
        s.add(mapping.operation_row(rows.operation(inst, state="COMPLETED")))
        s.add(mapping.operation_row(rows.operation(inst, state="ROLLED_BACK")))
        s.add(mapping.operation_row(rows.operation(inst, state="FAILED")))
        s.add(mapping.operation_row(rows.operation(inst, state="PROCESSING")))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(mapping.operation_row(rows.operation(inst, state="FAILED_TEMP")))


def test_duplicate_operation_id_is_not_a_busy_error(store: Store) -> None:
    a, b = rows.instances(store, 2)
    op = rows.operation(a)
    store.start_operation(op)
    store.update_operation(op.id, state="COMPLETED")
    with pytest.raises(IntegrityError):
        store.start_operation(rows.operation(b, id=op.id))


def test_leases(store: Store) -> None:
    ids = rows.instances(store, 7)
    past, future = now() - timedelta(minutes=1), now() + timedelta(minutes=1)
    east = timezone(timedelta(hours=5))
    west = timezone(timedelta(hours=-5))
    ops: dict[str, VnfLcmOpOccRecord] = {
        "dead": rows.operation(ids[0], "PROCESSING", past, engine_id="e-dead"),
        "live": rows.operation(ids[1], "PROCESSING", future, engine_id="e-live"),
        "temp": rows.operation(ids[2], "FAILED_TEMP", past),
        "done": rows.operation(ids[3], "COMPLETED", past),
        "rolling": rows.operation(ids[4], "ROLLING_BACK", past),
        # The same instants in other zones: compared as instants on both backends.
        "past_east": rows.operation(ids[5], "STARTING", past.astimezone(east)),
        "future_west": rows.operation(ids[6], "STARTING", future.astimezone(west)),
    }
    for op in ops.values():
        store.start_operation(op)
    expired = {o.id for o in store.expired_operations()}
    assert expired == {ops["dead"].id, ops["rolling"].id, ops["past_east"].id}

    ttl = timedelta(seconds=30)
    dead, live = ops["dead"].id, ops["live"].id
    assert not store.claim_operation(live, "e-other", ttl)  # a live lease holds
    assert store.claim_operation(live, "e-live", ttl)  # its holder may claim again
    assert store.claim_operation(dead, "e-new", ttl)  # an expired lease is taken over
    assert not store.renew_lease(dead, "e-dead", ttl)  # the old holder lost it
    assert store.renew_lease(dead, "e-new", ttl)
    assert dead not in {o.id for o in store.expired_operations()}
    got = store.operation(dead)
    assert got is not None and got.engine_id == "e-new"
    assert got.lease_expires_at is not None and got.lease_expires_at > now()

    store.release_lease(dead, "e-dead")  # not the holder: nothing happens
    got = store.operation(dead)
    assert got is not None and got.engine_id == "e-new"
    store.release_lease(dead, "e-new")
    got = store.operation(dead)
    assert got is not None and got.engine_id is None and got.lease_expires_at is None
    assert store.claim_operation(dead, "e-third", ttl)  # unheld: anyone may claim

    # A lease that runs out is found again.
    assert store.claim_operation(live, "e-live", timedelta(seconds=-1))
    assert live in {o.id for o in store.expired_operations()}


def test_json_documents_round_trip(store: Store) -> None:
    (inst,) = rows.instances(store, 1)
    doc = {
        "id": "op",
        "nested": {"a": [1, 2.5, -3, {"b": None, "c": [True, False, []]}], "d": {}},
        "unicode": "ünïcödé € ✓ 日本",
        "deep": {"l1": {"l2": {"l3": {"l4": {"l5": ["x", {"y": 1e-9}]}}}}},
        "big": 2**53,
        "quote": 'it\'s "quoted" \\ back',
    }
    op = rows.operation(inst, doc=doc, desired_before={"vnfcs": [{"id": "web-0"}]})
    store.start_operation(op)
    got = store.operation(op.id)
    assert got is not None
    assert got.doc == doc
    assert got.desired_before == {"vnfcs": [{"id": "web-0"}]}
    assert got.desired_after is None

    store.update_operation(op.id, desired_after=doc["nested"])
    got = store.operation(op.id)
    assert got is not None and got.desired_after == doc["nested"]


def test_timestamps_read_back_as_utc(store: Store) -> None:
    written = datetime(2030, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    pkg = rows.package(created_at=written)
    store.add_package(pkg)
    got = store.package(pkg.id)
    assert got is not None
    assert got.created_at == written
    assert got.created_at.tzinfo is UTC
    assert got.created_at.hour == 12 and got.created_at.microsecond == 123456

    (inst,) = rows.instances(store, 1)
    op = rows.operation(inst)
    store.start_operation(op)
    assert store.claim_operation(op.id, "e", timedelta(seconds=30))
    for row in (store.operation(op.id), *store.operations(), *store.expired_operations()):
        assert row is not None
        for ts in (row.created_at, row.lease_expires_at):
            assert ts is not None and ts.tzinfo is UTC
    for pkg_row in store.packages():
        assert pkg_row.created_at.tzinfo is UTC
