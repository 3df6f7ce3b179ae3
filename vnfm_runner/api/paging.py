"""Keyset paging (SOL013 5.4) over the store's tables, in SQL.

A page is read with ``ORDER BY created_at, id`` after the marker
``(created_at, id)``, on the ``(created_at, id)`` index of each table (migration
0004); filter terms on indexed columns become SQL, the rest are checked on the
documents while reading on in batches. Nothing reads a whole table.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute

from vnfm_runner.api import filters
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import AlarmRow, InstanceRow, OperationRow, PmJobRow, PmThresholdRow


@dataclass(frozen=True)
class Table:
    row: (
        type[InstanceRow]
        | type[OperationRow]
        | type[AlarmRow]
        | type[PmJobRow]
        | type[PmThresholdRow]
    )
    # attribute path of the document -> the column holding the same value
    columns: dict[str, InstrumentedAttribute[Any]]
    # the API document from the record's stored one
    document: Callable[[dict[str, Any]], dict[str, Any]]


def encode_marker(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_marker(marker: str) -> tuple[datetime, str]:
    try:
        padded = marker + "=" * (-len(marker) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(str(stamp)), str(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise ApiProblem(400, "nextpage_opaque_marker is not one this server gave") from None


def _sql_conditions(table: Table, terms: list[filters.Term]) -> tuple[list[Any], list[Any]]:
    """(SQL conditions, terms left to check on documents)."""
    conds: list[Any] = []
    rest: list[filters.Term] = []
    for term in terms:
        column = table.columns.get(term.attr)
        if column is None or term.op not in ("eq", "neq", "in", "nin"):
            rest.append(term)
        elif term.op in ("eq", "in"):
            conds.append(column.in_(term.values))
        else:
            conds.append(column.not_in(term.values))
    return conds, rest


def _rows(
    store: Store, table: Table, conds: list[Any], after: tuple[datetime, str] | None, batch: int
) -> Iterator[Any]:
    """(doc, created_at, id) rows in keyset order: only the columns a listing needs."""
    created = table.row.created_at
    row_id = table.row.id
    while True:
        q = (
            select(table.row.doc, created, row_id)
            .where(*conds)
            .order_by(created, row_id)
            .limit(batch)
        )
        if after is not None:
            # "(created_at, id) > marker", written so that the index gives the start:
            # a bare OR of the two cases makes SQLite walk the index from its first row.
            q = q.where(created >= after[0], or_(created > after[0], row_id > after[1]))
        with store.reading_rows() as conn:  # a read transaction: never waits for writers
            rows: list[Any] = list(conn.execute(q).all())
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1]
        after = (last.created_at, last.id)


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_marker: str | None


def page(
    store: Store,
    table: Table,
    terms: list[filters.Term],
    marker: str | None,
    size: int,
) -> Page:
    conds, rest = _sql_conditions(table, terms)
    after = decode_marker(marker) if marker else None
    items: list[dict[str, Any]] = []
    last: Any = None
    more = False
    batch = size + 1 if not rest else max(size * 4, 200)
    for row in _rows(store, table, conds, after, batch):
        doc = table.document(row.doc)
        if rest and not filters.matches(rest, doc):
            continue
        if len(items) == size:
            more = True
            break
        items.append(doc)
        last = row
    next_marker = encode_marker(last.created_at, last.id) if more and last is not None else None
    return Page(items, next_marker)


def next_link(base_url: str, path: str, query: dict[str, str], marker: str) -> str:
    params = {k: v for k, v in query.items() if k != "nextpage_opaque_marker"}
    params["nextpage_opaque_marker"] = marker
    return f'<{base_url.rstrip("/")}{path}?{urlencode(params)}>; rel="next"'


def page_of(
    docs: list[dict[str, Any]],
    terms: list[filters.Term],
    marker: str | None,
    size: int,
    link: Callable[[str], str],
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A page of documents held in memory (packages, subscriptions: few), with the Link
    header of the next one; ``link(marker)`` makes its value."""
    docs = [d for d in docs if filters.matches(terms, d)]
    start = 0
    if marker:
        ids = [d["id"] for d in docs]
        _stamp, last_id = decode_marker(marker)
        start = ids.index(last_id) + 1 if last_id in ids else len(ids)
    chunk = docs[start : start + size]
    headers = {}
    if start + size < len(docs):
        headers["Link"] = link(encode_marker(datetime.now(UTC), chunk[-1]["id"]))
    return chunk, headers
