"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, inspect, text

from vnfm_runner.store import migrate
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import Base


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
        assert migrate.current(conn) == migrate.heads() == {"0003"}
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
    Store(url).engine.dispose()
    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert [v[0] for v in versions] == ["0003"]


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

    store = Store(url)
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
        Store(url)


def test_a_newer_schema_is_refused(store: Store, url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(migrate.SchemaError, match="revision 9999, unknown"):
        Store(url)


def test_unrelated_tables_are_left_alone(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    store = Store(url)
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

    written = copy / "versions" / "0004_nothing_changed.py"
    source = written.read_text()
    assert 'revision: str = "0004"' in source
    assert 'down_revision: str | None = "0003"' in source
    upgrade = source.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    assert "op." not in upgrade  # the models match head: nothing to do
    assert migrate.heads() == {"0004"}
