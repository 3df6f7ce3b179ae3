"""A cheap "has anything changed?" for readers that rebuild views of the store.

SQLite's ``PRAGMA data_version``, read on a connection of its own that never
writes, moves whenever any other connection (any process: the server, the CLI)
commits. The API's list pages and the watcher's view of the instances are
rebuilt only when it moves. Other backends have no such counter: None, and the
readers rebuild every time.
"""

from __future__ import annotations

import sqlite3
import threading

from vnfm_runner.store.db import Store


class ChangeStamp:
    """SQLite's ``PRAGMA data_version`` on a connection of its own that never writes:
    it changes whenever any other connection commits."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self._conn.close()


def change_stamp(store: Store) -> ChangeStamp | None:
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return ChangeStamp(url.database)
