"""Keyset paging of the API lists over the store (SQLite and PostgreSQL): every record
exactly once, in (created_at, id) order, ties on created_at included, and a page
read from the index rather than by walking the table from its start."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, select

from tests.store import store_rows
from vnfm_runner.api import filters, paging
from vnfm_runner.api.vnflcm import INSTANCE_TABLE
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import InstanceRow


def fill(store: Store, count: int) -> list[str]:
    """``count`` instances, three at a time sharing one created_at; their ids in order."""
    pkg = store_rows.package()
    store.add_package(pkg)
    base = now()
    rows = []
    for n in range(count):
        iid = f"{n % 7:02d}-{n:05d}"  # ids not in creation order within a timestamp
        rows.append(
            {
                "id": iid,
                "vnfd_id": "vnfd-1",
                "package_id": pkg.id,
                "instantiation_state": "INSTANTIATED" if n % 2 else "NOT_INSTANTIATED",
                "doc": {"id": iid, "vnfInstanceName": f"i-{n}"},
                "desired_state": None,
                "vim": None,
                "created_at": base + timedelta(seconds=n // 3),
            }
        )
    with store.session() as s:
        s.execute(insert(InstanceRow), rows)
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))]


def walk(store: Store, size: int, filter_: str | None = None) -> list[str]:
    seen: list[str] = []
    marker = None
    while True:
        page = paging.page(store, INSTANCE_TABLE, filters.parse(filter_), marker, size)
        assert len(page.items) <= size
        seen += [d["id"] for d in page.items]
        if page.next_marker is None:
            return seen
        marker = page.next_marker


def test_every_record_once_in_order(store: Store) -> None:
    ordered = fill(store, 50)
    for size in (1, 3, 4, 50, 100):
        assert walk(store, size) == ordered
    # a SQL filter (indexed column) and a document filter, each over several pages
    with store.reading() as s:
        odd = set(
            s.scalars(
                select(InstanceRow.id).where(InstanceRow.instantiation_state == "INSTANTIATED")
            )
        )
    assert walk(store, 4, "(eq,instantiationState,INSTANTIATED)") == [
        i for i in ordered if i in odd
    ]
    seventh = ordered.index("00-00007")
    assert walk(store, 2, "(neq,vnfInstanceName,i-7)") == ordered[:seventh] + ordered[seventh + 1 :]


def test_a_page_starts_from_the_index(store: Store, url: str) -> None:
    """SQLite: the query of a page after the first seeks in (created_at, id) (a bare OR
    of the two cases made SQLite scan from the first row: later pages got slower)."""
    if not url.startswith("sqlite"):
        return
    fill(store, 10)
    first = paging.page(store, INSTANCE_TABLE, [], None, 4)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        paging.page(store, INSTANCE_TABLE, [], first.next_marker, 4)
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    ((sql, params),) = statements
    with store.engine.connect() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        )
    assert "SEARCH vnf_instances USING INDEX ix_api_vnf_instances_created" in plan, plan
