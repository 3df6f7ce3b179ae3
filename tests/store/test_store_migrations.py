"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)

from vnfm_runner.bootstrap import open_store
from vnfm_runner.store import migrate
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import Base

# The newest migration: the one line a new migration changes here.
HEAD = "0007"
NEXT = f"{int(HEAD) + 1:04d}"


def _diff(url: str, metadata: MetaData = Base.metadata) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            opts = {**migrate.context_options(conn), "target_metadata": metadata}
            del opts["connection"]
            return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))
    finally:
        engine.dispose()


def _legacy_metadata() -> MetaData:
    """The schema create_all made before migrations existed."""
    legacy = MetaData()
    for table in Base.metadata.tables.values():
        if table.name not in migrate.LEGACY_SCHEMA:  # a table added by a later migration
            continue
        copy = table.to_metadata(legacy)
        for index in list(copy.indexes):
            if index.name == "uq_vnf_lcm_op_occs_active_instance":
                copy.indexes.discard(index)
    return legacy


def test_migrated_schema_is_the_models(store: Store, url: str) -> None:
    """A model change without its migration fails here."""
    assert _diff(url) == []
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.heads() == {HEAD}
        indexes = {i["name"]: i for i in inspect(conn).get_indexes("vnf_lcm_op_occs")}
    assert indexes["uq_vnf_lcm_op_occs_active_instance"]["unique"]


def test_a_model_change_without_migration_is_noticed(store: Store, url: str) -> None:
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["vims"].append_column(Column("region", String(64), nullable=True))
    diff = _diff(url, changed)
    assert [d[0] for d in diff if isinstance(d, tuple)] == ["add_column"]


def test_reopening_changes_nothing(store: Store, url: str) -> None:
    open_store(url).engine.dispose()
    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v[0] for v in versions] == [HEAD]


def test_a_store_from_before_migrations_is_adopted(url: str) -> None:
    engine = create_engine(url)
    _legacy_metadata().create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO vims (name, vim_type, connection, credentials, created_at) "
                "VALUES ('lab', 'openstack', '{\"region\": \"R1\"}', NULL, '2024-05-01 10:00:00')"
            )
        )
    engine.dispose()

    store = open_store(url)
    try:
        vim = store.vim("lab")
        assert vim is not None and vim.connection == {"region": "R1"}
        with store.engine.connect() as conn:
            assert migrate.current(conn) == migrate.heads()
        assert _diff(url) == []
    finally:
        store.engine.dispose()


def test_foreign_tables_are_not_taken_over(url: str) -> None:
    engine = create_engine(url)
    other = MetaData()
    Table("vims", other, Column("id", Integer, primary_key=True))
    other.create_all(engine)
    engine.dispose()
    with pytest.raises(migrate.SchemaError, match=r"table vims has columns \['id'\]"):
        open_store(url)


def test_a_newer_schema_is_refused(store: Store, url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrate.SchemaError, match="revision 9999, unknown"):
        open_store(url)


def test_unrelated_tables_are_left_alone(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            assert "notes" in inspect(conn).get_table_names()
    finally:
        store.engine.dispose()


def test_revision_command_writes_the_next_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)

    assert migrate.main(["revision", "-m", "nothing changed"]) == 0

    written = copy / "versions" / f"{NEXT}_nothing_changed.py"
    source = written.read_text()
    assert f'revision: str = "{NEXT}"' in source
    assert f'down_revision: str | None = "{HEAD}"' in source
    upgrade = source.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    assert "op." not in upgrade  # the models match head: nothing to do
    assert migrate.heads() == {NEXT}


def _api_tables_of_0003() -> MetaData:
    """The API tables as the 0003-era server made them at start-up (create_all, then the
    paging indexes by plain SQL): frozen here, as ``LEGACY_SCHEMA`` is for 0001."""
    meta = MetaData()
    Table(
        "api_vnf_packages",
        meta,
        Column("id", String(36), primary_key=True),
        Column("store_package_id", String(36), nullable=True, index=True),
        Column("onboarding_state", String(32), nullable=False),
        Column("operational_state", String(32), nullable=False),
        Column("user_defined_data", JSON, nullable=False),
        Column("failure", JSON, nullable=True),
        Column("details", JSON, nullable=False),
        Column("upload_path", String(4096), nullable=True),
        Column("deleted", Boolean, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    Table(
        "api_subscriptions",
        meta,
        Column("id", String(36), primary_key=True),
        Column("doc", JSON, nullable=False),
        Column("authentication", String(8192), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )
    return meta


PAGING_INDEXES_OF_0003 = (
    "CREATE INDEX IF NOT EXISTS ix_api_vnf_instances_created ON vnf_instances (created_at, id)",
    "CREATE INDEX IF NOT EXISTS ix_api_vnf_lcm_op_occs_created ON vnf_lcm_op_occs (created_at, id)",
)


def _at_0003(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.config(conn), "0003")
    finally:
        engine.dispose()


@pytest.mark.parametrize("server_ran", [True, False], ids=["server-ran", "never-served"])
def test_upgrade_from_0003_keeps_the_api_records(url: str, server_ran: bool) -> None:
    """A 0003 store whose server made the API tables (with rows) or never ran: 0004
    adopts what is there, creates what is not, and the schema is the models'."""
    from vnfm_runner.store.tables import LCM_API, PkgInfoRow, SubscriptionRow

    _at_0003(url)
    sub_doc = {"id": "s-1", "filter": {}, "callbackUri": "http://nfvo/cb", "verbosity": "FULL"}
    if server_ran:
        engine = create_engine(url)
        _api_tables_of_0003().create_all(engine)
        with engine.begin() as conn:
            for statement in PAGING_INDEXES_OF_0003:
                conn.exec_driver_sql(statement)
            conn.execute(
                _api_tables_of_0003().tables["api_subscriptions"].insert(),
                [
                    {
                        "id": "s-1",
                        "doc": sub_doc,
                        "authentication": "sealed",
                        "created_at": datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC),
                    }
                ],
            )
            conn.execute(
                _api_tables_of_0003().tables["api_vnf_packages"].insert(),
                [
                    {
                        "id": "p-1",
                        "store_package_id": None,
                        "onboarding_state": "CREATED",
                        "operational_state": "DISABLED",
                        "user_defined_data": {"k": "v"},
                        "failure": None,
                        "details": {},
                        "upload_path": None,
                        "deleted": False,
                        "created_at": datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC),
                    }
                ],
            )
        engine.dispose()

    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            assert migrate.current(conn) == {HEAD}
            insp = inspect(conn)
            for table in ("vnf_instances", "vnf_lcm_op_occs"):
                names = {i["name"] for i in insp.get_indexes(table)}
                assert f"ix_api_{table}_created" in names
        assert _diff(url) == []
        with store.reading() as s:
            subs = list(s.scalars(select(SubscriptionRow)))
            pkgs = list(s.scalars(select(PkgInfoRow)))
        if server_ran:
            assert [(r.id, r.api, r.doc, r.authentication) for r in subs] == [
                ("s-1", LCM_API, sub_doc, "sealed")
            ]
            assert [(p.id, p.user_defined_data, p.deleted) for p in pkgs] == [
                ("p-1", {"k": "v"}, False)
            ]
            assert subs[0].created_at.tzinfo is not None  # read back as UTC
        else:
            assert subs == [] and pkgs == []
    finally:
        store.engine.dispose()


def test_downgrade_to_0003_and_up_again(store: Store, url: str) -> None:
    """0004's downgrade leaves the API's rows for the 0003 server; upgrading again works."""
    from vnfm_runner.notify.subscriptions import SubscriptionRegistry
    from vnfm_runner.secrets import SecretBox
    from vnfm_runner.store.tables import LCM_API, PKGM_API

    class NoBox(SecretBox):
        def __init__(self) -> None:
            pass

    registry = SubscriptionRegistry(store, NoBox())
    lcm = registry.add(LCM_API, "/vnflcm/v2/subscriptions", {"callbackUri": "http://a/cb"})
    registry.add(PKGM_API, "/vnfpkgm/v1/subscriptions", {"callbackUri": "http://b/cb"})
    with store.engine.begin() as conn:
        command.downgrade(migrate.config(conn), "0003")
    with store.engine.connect() as conn:
        assert "api" not in {c["name"] for c in inspect(conn).get_columns("api_subscriptions")}
    store.engine.dispose()
    again = open_store(url)
    try:
        assert [d["id"] for d in SubscriptionRegistry(again, NoBox()).all()] == [lcm["id"]]
        assert _diff(url) == []
    finally:
        again.engine.dispose()
