"""Telling "the disk is full" apart from other failures.

A full disk is the VNFM's condition, not a bug nor the client's mistake: the API
answers 507 Insufficient Storage and the CLI one line, instead of a 500 or a
traceback. The cause may come as an OSError (a file being written) or wrapped by
the database driver (SQLite ``SQLITE_FULL``, PostgreSQL SQLSTATE 53100).
"""

from __future__ import annotations

import errno
import sqlite3

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
PG_DISK_FULL = "53100"
NO_SPACE_DETAIL = "the VNFM has no storage space left; nothing was stored"


def is_no_space(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) says that the storage is full."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in NO_SPACE_ERRNOS:
            return True
        if getattr(cur, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if isinstance(cur, sqlite3.OperationalError) and "disk is full" in str(cur):
            return True
        if getattr(cur, "sqlstate", None) == PG_DISK_FULL:
            return True
        orig = getattr(cur, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's
        todo += [orig if isinstance(orig, BaseException) else None, cur.__cause__, cur.__context__]
    return False
