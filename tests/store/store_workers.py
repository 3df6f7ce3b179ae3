"""Worker processes of the race tests: each opens its own Store (its own engine)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import store_rows as rows

from vnfm_runner import bootstrap
from vnfm_runner.store.db import BusyError, Store


def claim(url: str, engine_id: str, op_ids: list[str], barrier: Any, results: Any) -> None:
    store = Store(url)
    won = []
    try:
        for op_id in op_ids:
            barrier.wait(timeout=60)
            won.append(store.claim_operation(op_id, engine_id, timedelta(minutes=5)))
    finally:
        results.put((engine_id, won))
        store.engine.dispose()


def start(url: str, name: str, instance_ids: list[str], barrier: Any, results: Any) -> None:
    store = Store(url)
    started = []
    try:
        for n, instance_id in enumerate(instance_ids):
            barrier.wait(timeout=60)
            try:
                store.start_operation(rows.operation(instance_id, id=f"{name}-{n}"))
                started.append(True)
            except BusyError:
                started.append(False)
    finally:
        results.put((name, started))
        store.engine.dispose()


def open_store(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=60)
    try:
        bootstrap.open_store(url).engine.dispose()
        results.put("ok")
    except Exception as exc:
        results.put(repr(exc))


def connect(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=60)
    store = Store(url)
    try:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")
        results.put("ok")
    except Exception as exc:
        results.put(repr(exc))
    finally:
        store.engine.dispose()
