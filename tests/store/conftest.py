"""The store suite runs on SQLite (a file per test) and on PostgreSQL.

PostgreSQL: ``VNFM_TEST_POSTGRES_URL`` (``scripts/postgres.sh`` prints one) or
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; a fresh database
``vnfm_test_<random>`` is created for the session and dropped at its end, its
schema emptied before each test. Without a reachable server the PostgreSQL
cases are skipped, unless ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from vnfm_runner.bootstrap import open_store
from vnfm_runner.store.db import Store

PG_URL_ENV = "VNFM_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    server = make_url(os.environ.get(PG_URL_ENV) or PG_DEFAULT)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"vnfm_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL not reachable at {server.render_as_string(hide_password=True)} "
            f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc}); "
            f"run scripts/postgres.sh and export {PG_URL_ENV}"
        )
        if _in_ci():
            pytest.fail(f"CI is set: {reason}")
        pytest.skip(reason)
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vnfm.db'}"
    db_url: str = request.getfixturevalue("pg_database")
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return db_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = open_store(url)  # migrated, the journal installed: as every process opens it
    try:
        yield s
    finally:
        s.engine.dispose()
