"""Migration lock: a migration needs a lock that a long transaction holds. Without lock_timeout the
ALTER waits, and every query on that table queues behind it; with DB_MIGRATION_LOCK_TIMEOUT
env.py gives up (55P03) and the app keeps serving."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.errors import sqlstate
from tests.databases import create_database, drop_database, dsn
from tests.migrating import FIRST, add_revision, alembic_config


@pytest.fixture
async def migrated(
    project: Path,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Path, str]]:
    """A PostgreSQL database at the first revision, and a project whose next one adds a column."""
    if engine.dialect.name != "postgresql":
        pytest.skip("sqlite: no lock_timeout; a migration waits the busy timeout, then fails")
    url = await create_database("skill_lock")
    monkeypatch.setenv("DATABASE_URL", url)
    add_revision(
        project,
        "c0ffee000001",
        upgrade='op.add_column("users", sa.Column("nickname", sa.String(50), nullable=True))',
        downgrade='op.drop_column("users", "nickname")',
    )
    await migrate(project, FIRST)
    yield project, url
    await drop_database(url)


async def migrate(folder: Path, revision: str) -> None:
    # env.py calls asyncio.run(): a thread keeps it off this test's running loop
    await asyncio.to_thread(command.upgrade, alembic_config(folder), revision)


async def waiting_for_locks(admin: asyncpg.Connection) -> int:
    count: int = await admin.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted")
    return count


async def test_migration_gives_up_on_a_held_lock_with_lock_timeout(
    migrated: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, url = migrated
    monkeypatch.setenv("DB_MIGRATION_LOCK_TIMEOUT", "0.2")
    holder = await asyncpg.connect(dsn(url))
    try:
        async with holder.transaction():
            # a long read transaction: ACCESS SHARE on users, which ALTER TABLE must wait for
            await holder.fetch("SELECT * FROM users")
            with pytest.raises(DBAPIError) as raised:
                async with asyncio.timeout(60):
                    await migrate(folder, "head")
    finally:
        await holder.close()
    assert sqlstate(raised.value) == "55P03"
    assert "canceling statement due to lock timeout" in str(raised.value)
    # run again once the lock is free, the migration goes through
    await migrate(folder, "head")


async def test_migration_without_lock_timeout_queues_every_query_behind_it(
    migrated: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, url = migrated
    # wrong: no lock_timeout
    monkeypatch.setenv("DB_MIGRATION_LOCK_TIMEOUT", "0")
    holder = await asyncpg.connect(dsn(url))
    reader = await asyncpg.connect(dsn(url))
    admin = await asyncpg.connect(dsn(url))
    try:
        async with holder.transaction():
            await holder.fetch("SELECT * FROM users")
            upgrade = asyncio.ensure_future(migrate(folder, "head"))
            async with asyncio.timeout(10):
                while await waiting_for_locks(admin) < 1:
                    pass
            # a plain read, which the holder does not block, now waits behind the ALTER
            read = asyncio.ensure_future(reader.fetchval("SELECT count(*) FROM users"))
            async with asyncio.timeout(10):
                while await waiting_for_locks(admin) < 2:
                    pass
            assert not read.done()
            assert not upgrade.done()
        # the holder ended: the ALTER runs, then the read
        async with asyncio.timeout(60):
            await upgrade
            assert await read == 0
    finally:
        for conn in (holder, reader, admin):
            await conn.close()
