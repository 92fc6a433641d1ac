"""The fixtures' two ways to build the schema, create_all and the migrations, give the same one."""

from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from assets.tests.conftest import create_schema


def snapshot(connection: Connection) -> dict[str, Any]:
    """Everything the database reports about the app's tables, in comparable form."""
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        columns = [
            (c["name"], repr(c["type"]), c["nullable"], c["default"])
            for c in inspector.get_columns(table)
        ]
        tables[table] = {
            "columns": columns,
            "primary key": inspector.get_pk_constraint(table),
            "foreign keys": sorted(
                (fk["name"], fk["constrained_columns"], fk["referred_table"], fk["options"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
        }
    return tables


async def test_migrations_and_create_all_build_same_schema(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the app's engine, as the engine fixture builds it
    engine = create_engine(DatabaseSettings(database_url=empty_database_url))
    schemas = {}
    try:
        for way in ("migrations", "create_all"):
            monkeypatch.setenv("TEST_SCHEMA", way)
            await create_schema(engine)
            async with engine.connect() as conn:
                schemas[way] = await conn.run_sync(snapshot)
                names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert ("alembic_version" in names) == (way == "migrations")
    finally:
        await engine.dispose()

    assert set(schemas["migrations"]) == {"users", "posts"}
    assert schemas["migrations"] == schemas["create_all"]
