"""Code in a running event loop (tests, app start-up) migrates by handing env.py a connection."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from tests.migrating import alembic_config, table_names


async def test_upgrade_inside_running_event_loop(project: Path, empty_database_url: str) -> None:
    engine = create_async_engine(empty_database_url, poolclass=pool.NullPool)

    def upgrade(connection: Connection) -> None:
        config = alembic_config(project)
        # env.py runs the migrations on this connection instead of calling asyncio.run()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
    await engine.dispose()

    assert await table_names(empty_database_url) == {"users", "posts", "alembic_version"}


async def test_upgrade_through_app_engine_refuses_sqlite_foreign_keys(
    project: Path, empty_database_url: str
) -> None:
    # the app's SQLite engine turns foreign keys on: a batch-mode table copy would then
    # delete the rows that reference the table, so env.py refuses the connection
    engine = create_engine(DatabaseSettings(database_url=empty_database_url))

    def upgrade(connection: Connection) -> None:
        config = alembic_config(project)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                with pytest.raises(
                    RuntimeError, match=r"foreign keys on \(PRAGMA foreign_keys=ON\)"
                ):
                    await conn.run_sync(upgrade)
            else:
                await conn.run_sync(upgrade)
    finally:
        await engine.dispose()

    expected = set() if engine.dialect.name == "sqlite" else {"users", "posts", "alembic_version"}
    assert await table_names(empty_database_url) == expected
