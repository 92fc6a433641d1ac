"""Code in a running event loop (tests, app start-up) migrates by handing env.py a connection."""

import gc
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tests.migrations.support import alembic_config, table_names


async def test_upgrade_inside_running_event_loop(project: Path, migration_url: str) -> None:
    engine = create_async_engine(migration_url, poolclass=pool.NullPool)

    def upgrade(connection: Connection) -> None:
        config = alembic_config(project)
        # env.py runs the migrations on this connection instead of calling asyncio.run()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)
    await engine.dispose()

    assert await table_names(migration_url) == {"users", "posts", "alembic_version"}


@pytest.mark.filterwarnings("ignore:coroutine 'run_async_migrations' was never awaited")
async def test_upgrade_without_connection_fails_inside_running_event_loop(
    project: Path, migration_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", migration_url)

    with pytest.raises(RuntimeError, match=r"asyncio.run\(\) cannot be called from a running"):
        command.upgrade(alembic_config(project), "head")

    gc.collect()
    assert await table_names(migration_url) == set()
