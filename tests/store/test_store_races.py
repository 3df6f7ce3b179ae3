"""Several processes (each with its own engine) sharing one database."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import store_rows as rows
import store_workers

from vnfm_runner.bootstrap import open_store
from vnfm_runner.store import migrate
from vnfm_runner.store.db import Store

ROUNDS = 50
# fork: the workers inherit the imported modules (a spawned one re-imports them
# all, seconds on a busy machine); each opens its own Store all the same.
ctx = multiprocessing.get_context("fork")


def _race(target: Callable[..., None], jobs: list[tuple[Any, ...]]) -> list[Any]:
    """Run target(*job, barrier, results) in one process per job; their results."""
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*job, barrier, results)) for job in jobs]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return out


def test_one_of_two_processes_claims_an_operation(store: Store, url: str) -> None:
    instance_ids = rows.instances(store, ROUNDS)
    op_ids = []
    for instance_id in instance_ids:
        op = rows.operation(instance_id)
        store.start_operation(op)
        op_ids.append(op.id)

    results = dict(_race(store_workers.claim, [(url, "e-a", op_ids), (url, "e-b", op_ids)]))

    for n, op_id in enumerate(op_ids):
        winners = [engine for engine, won in results.items() if won[n]]
        assert len(winners) == 1, f"round {n}: {winners or 'nobody'} claimed {op_id}"
        row = store.operation(op_id)
        assert row is not None and row.engine_id == winners[0]


def test_one_of_two_processes_starts_an_operation(store: Store, url: str) -> None:
    instance_ids = rows.instances(store, ROUNDS)

    results = dict(_race(store_workers.start, [(url, "a", instance_ids), (url, "b", instance_ids)]))

    for n, instance_id in enumerate(instance_ids):
        winners = [name for name, started in results.items() if started[n]]
        assert len(winners) == 1, f"round {n}: {winners or 'nobody'} started an operation"
        assert [o.id for o in store.operations(instance_id)] == [f"{winners[0]}-{n}"]


def test_processes_opening_a_new_database_at_once(url: str) -> None:
    """Each migrates or finds the schema migrated: none fails."""
    assert _race(store_workers.open_store, [(url,)] * 4) == ["ok"] * 4
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            assert migrate.current(conn) == migrate.heads()
    finally:
        store.engine.dispose()


def test_processes_connecting_to_new_sqlite_files_at_once(tmp_path: Path) -> None:
    """The first connections to a new SQLite file all switch it to WAL at once: SQLite
    refuses one of them on the spot (its deadlock rule); the store asks again. Many
    small races, since one loses only now and then."""
    for n in range(60):
        url = f"sqlite:///{tmp_path / f'new-{n}.db'}"
        assert _race(store_workers.connect, [(url,)] * 6) == ["ok"] * 6, f"round {n}"


def test_concurrent_operations_on_different_instances(store: Store) -> None:
    instance_ids = rows.instances(store, 20)
    barrier = threading.Barrier(len(instance_ids))

    def start(instance_id: str) -> None:
        barrier.wait(timeout=60)
        store.start_operation(rows.operation(instance_id))

    with ThreadPoolExecutor(len(instance_ids)) as pool:
        for future in [pool.submit(start, i) for i in instance_ids]:
            future.result(timeout=120)  # raises if any was refused
    for instance_id in instance_ids:
        assert store.active_operation(instance_id) is not None
