"""Schema migrations of the store, with Alembic configured from code (no alembic.ini).

The composition root (``vnfm_runner.bootstrap.open_store``) calls :func:`upgrade`
when it opens a database: an empty database gets every migration, a store created by ``Base.metadata.create_all`` before
migrations existed is adopted (stamped at the initial revision when its tables
match), an up-to-date one costs one query.

Developers add a migration with (see ``migrations/README``)::

    python -m vnfm_runner.store.migrate revision -m "what changes"
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from vnfm_runner.store.db import Store  # the store sets up SQLite's transactions
from vnfm_runner.store.tables import Base, UTCDateTime

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The revision whose schema is what create_all made before migrations existed.
BASE_REVISION = "0001"
# That schema's tables and columns, frozen: how a pre-migration store is recognised.
LEGACY_SCHEMA: dict[str, frozenset[str]] = {
    "vnf_packages": frozenset(
        {
            "id",
            "vnfd_id",
            "path",
            "summary",
            "onboarding_state",
            "operational_state",
            "created_at",
        }
    ),
    "vnf_instances": frozenset(
        {
            "id",
            "vnfd_id",
            "package_id",
            "instantiation_state",
            "doc",
            "desired_state",
            "vim",
            "created_at",
        }
    ),
    "vnf_lcm_op_occs": frozenset(
        {
            "id",
            "vnf_instance_id",
            "operation",
            "state",
            "doc",
            "runner_ident",
            "artifacts_dir",
            "desired_before",
            "desired_after",
            "engine_id",
            "lease_expires_at",
            "created_at",
        }
    ),
    "vims": frozenset({"name", "vim_type", "connection", "credentials", "created_at"}),
}
# pg_advisory_xact_lock key: processes opening one PostgreSQL store migrate one at a time
# (on SQLite, the store's BEGIN IMMEDIATE already serialises them).
_PG_LOCK_KEY = 0x766E666D5F6D6967  # "vnfm_mig"


class SchemaError(Exception):
    """The database holds something the migrations cannot take over."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code so it works from an installed package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff:  # generated revisions come out lint- and format-clean
        cfg.set_section_option("post_write_hooks", "hooks", "ruff_fix, ruff_format")
        cfg.set_section_option("post_write_hooks", "ruff_fix.type", "exec")
        cfg.set_section_option("post_write_hooks", "ruff_fix.executable", ruff)
        cfg.set_section_option(
            "post_write_hooks", "ruff_fix.options", "check --fix --quiet REVISION_SCRIPT_FILENAME"
        )
        cfg.set_section_option("post_write_hooks", "ruff_format.type", "exec")
        cfg.set_section_option("post_write_hooks", "ruff_format.executable", ruff)
        cfg.set_section_option(
            "post_write_hooks", "ruff_format.options", "format --quiet REVISION_SCRIPT_FILENAME"
        )
    cfg.attributes["connection"] = connection
    return cfg


def context_options(connection: Connection) -> dict[str, Any]:
    """``context.configure`` arguments, shared by env.py and the schema test."""
    return {
        "connection": connection,
        "target_metadata": Base.metadata,
        "render_as_batch": True,  # SQLite cannot ALTER much: batch mode copies tables
        "compare_type": True,
        "render_item": _render_item,
    }


def _render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | bool:
    # Revisions must not import the models: write our UTC type as the plain type.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(config()).get_heads())


def current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision, in one transaction."""
    script = ScriptDirectory.from_config(config())
    target = set(script.get_heads())
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        at = current(conn)
        if at == target:
            return
        known = {rev.revision for rev in script.walk_revisions()}
        if at - known:
            raise SchemaError(
                f"the database is at revision {', '.join(sorted(at - known))}, unknown to "
                "this vnfm-toolkit (made by a newer version?)"
            )
        cfg = config(conn)
        if not at and _adopt_legacy(conn):
            command.stamp(cfg, BASE_REVISION)
        command.upgrade(cfg, "head")


def _adopt_legacy(conn: Connection) -> bool:
    """True for a store made by create_all before migrations; False for an empty one."""
    insp = inspect(conn)
    present = set(insp.get_table_names()) & LEGACY_SCHEMA.keys()
    if not present:
        return False
    problems = []
    for table, columns in sorted(LEGACY_SCHEMA.items()):
        if table not in present:
            problems.append(f"table {table} is missing")
            continue
        have = {c["name"] for c in insp.get_columns(table)}
        if have != columns:
            problems.append(f"table {table} has columns {sorted(have)}, expected {sorted(columns)}")
    if problems:
        raise SchemaError(
            "the database has vnfm tables but no migration history, and they do not "
            "match the original schema: " + "; ".join(problems)
        )
    return True


# -- command line (developers) -------------------------------------------------------
def _next_rev_id() -> str:
    script = ScriptDirectory.from_config(config())
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def _revision(message: str, url: str | None, empty: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="vnfm-migrate-") as tmp:
        # Autogenerate compares the models with a database at head: a scratch one
        # unless --url names another (PostgreSQL reflects types more precisely).
        store = Store(url or f"sqlite:///{tmp}/scratch.db")
        try:
            upgrade(store.engine)
            with store.engine.begin() as conn:
                command.revision(
                    config(conn), message=message, autogenerate=not empty, rev_id=_next_rev_id()
                )
        finally:
            store.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vnfm_runner.store.migrate", description="Schema migrations of the store."
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="write a new migration from the model changes")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--empty", action="store_true", help="no autogenerate (data migrations)")
    rev.add_argument("--url", help="compare against this database instead of a scratch SQLite")
    for name, text_ in (("upgrade", "upgrade a database to head"), ("current", "show revision")):
        p = sub.add_parser(name, help=text_)
        p.add_argument("--url", help="database URL (default: VNFM_DATABASE_URL or the home's)")
    args = parser.parse_args(argv)

    if args.cmd == "revision":
        _revision(args.message, args.url, args.empty)
        return 0
    from sqlalchemy import create_engine

    from vnfm_runner.settings import Settings

    url = args.url or Settings().db_url
    if args.cmd == "upgrade":
        store = Store(url)
        try:
            upgrade(store.engine)
        finally:
            store.engine.dispose()
        print(f"{url}: at {', '.join(sorted(heads()))}")
        return 0
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        print(f"{url}: no database")
        return 1
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            print(", ".join(sorted(current(conn))) or "(no revision)")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    from vnfm_runner.store import migrate as _migrate  # the one module bootstrap uses too

    sys.exit(_migrate.main())
