"""Database errors provoked for real, each on a scratch table (the scratch_table fixture): for
the fault tests' answers by cause and the troubleshooting tests' quoted errors."""

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Provoke = Callable[[AsyncEngine, str], Awaitable[None]]


async def serialization_failure(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as first, engine.connect() as second:
        await first.execution_options(isolation_level="REPEATABLE READ")
        await first.execute(text(f"SELECT n FROM {table} WHERE id = 1"))
        await second.execute(text(f"UPDATE {table} SET n = n + 1 WHERE id = 1"))
        await second.commit()
        # first's snapshot predates second's commit: PostgreSQL cannot serialize the two
        await first.execute(text(f"UPDATE {table} SET n = n + 1 WHERE id = 1"))


async def deadlock(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as first, engine.connect() as second:
        for conn in (first, second):
            # a superuser setting; the default, 1 s, only slows the test down
            await conn.execute(text("SET deadlock_timeout = '10ms'"))
        await first.execute(text(f"UPDATE {table} SET n = 1 WHERE id = 1"))
        await second.execute(text(f"UPDATE {table} SET n = 2 WHERE id = 2"))
        results = await asyncio.gather(
            first.execute(text(f"UPDATE {table} SET n = 1 WHERE id = 2")),
            second.execute(text(f"UPDATE {table} SET n = 2 WHERE id = 1")),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        raise errors[0]


async def lock_not_available(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as holder, engine.connect() as other:
        await holder.execute(text(f"UPDATE {table} SET n = 1 WHERE id = 1"))
        await other.execute(text(f"SELECT n FROM {table} WHERE id = 1 FOR UPDATE NOWAIT"))


async def statement_timeout(engine: AsyncEngine, _table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SET LOCAL statement_timeout = 10"))
        await conn.execute(text("SELECT pg_sleep(5)"))


async def sqlite_busy(engine: AsyncEngine, table: str) -> None:
    async with engine.begin() as holder:
        await holder.execute(text(f"UPDATE {table} SET n = 1 WHERE id = 1"))
        async with engine.connect() as other:
            await other.exec_driver_sql("PRAGMA busy_timeout = 0")
            # BEGIN IMMEDIATE: the write lock, which holder has
            await other.execute(text(f"UPDATE {table} SET n = 2 WHERE id = 2"))


async def missing_table(engine: AsyncEngine, _table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT * FROM table_not_migrated_yet"))


async def missing_column(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text(f"SELECT column_not_migrated_yet FROM {table}"))


async def missing_insert_column(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text(f"INSERT INTO {table} (id, column_not_migrated_yet) VALUES (3, 0)"))


async def duplicate_key(engine: AsyncEngine, table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text(f"INSERT INTO {table} (id, n) VALUES (1, 0)"))


async def syntax_error(engine: AsyncEngine, _table: str) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELEC 1"))
