"""The notification suite runs on SQLite and on PostgreSQL, like the store's
(the backends and their fixtures: tests/store/conftest.py)."""

from tests.store.conftest import pg_database, store, url

__all__ = ["pg_database", "store", "url"]
