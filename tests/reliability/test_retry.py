"""Serialization retry: PostgreSQL aborts a transaction to resolve a conflict (40001);
run_transaction runs the whole transaction again, a bounded number of times, and lets every other
error through."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.errors import sqlstate
from app.db.retry import run_transaction


def repeatable_read(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # at READ COMMITTED PostgreSQL re-reads the row instead of failing; stricter levels fail
    return async_sessionmaker(
        engine.execution_options(isolation_level="REPEATABLE READ"), expire_on_commit=False
    )


async def value(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT n FROM {table} WHERE id = 1"))).scalar_one())


def conflicting_increment(
    engine: AsyncEngine, table: str, conflicts: int, attempts: list[int]
) -> Callable[[AsyncSession], Awaitable[int]]:
    """An increment whose first `conflicts` runs meet a concurrent committed increment between
    their read and their write."""

    async def work(session: AsyncSession) -> int:
        attempts.append(len(attempts) + 1)
        n = (await session.execute(text(f"SELECT n FROM {table} WHERE id = 1"))).scalar_one()
        if len(attempts) <= conflicts:
            async with engine.begin() as other:
                await other.execute(text(f"UPDATE {table} SET n = n + 100 WHERE id = 1"))
        await session.execute(text(f"UPDATE {table} SET n = :n WHERE id = 1"), {"n": n + 1})
        return int(n) + 1

    return work


async def test_run_transaction_retries_serialization_failure(
    engine: AsyncEngine, scratch_table: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: one writer at a time, no serialization failures")
    attempts: list[int] = []
    work = conflicting_increment(engine, scratch_table, conflicts=1, attempts=attempts)
    async with asyncio.timeout(30):
        result = await run_transaction(repeatable_read(engine), work, backoff=0)
    assert attempts == [1, 2]
    # the second run read the other transaction's 100 and added its own 1
    assert result == await value(engine, scratch_table) == 101


async def test_transaction_without_retry_fails_with_serialization_failure(
    engine: AsyncEngine, scratch_table: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: one writer at a time, no serialization failures")
    attempts: list[int] = []
    work = conflicting_increment(engine, scratch_table, conflicts=1, attempts=attempts)
    with pytest.raises(DBAPIError) as raised:
        async with repeatable_read(engine)() as session, session.begin():
            await work(session)
    assert sqlstate(raised.value) == "40001"
    assert await value(engine, scratch_table) == 100


async def test_run_transaction_gives_up_after_attempts(
    engine: AsyncEngine, scratch_table: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: one writer at a time, no serialization failures")
    attempts: list[int] = []
    work = conflicting_increment(engine, scratch_table, conflicts=10, attempts=attempts)
    with pytest.raises(DBAPIError) as raised:
        await run_transaction(repeatable_read(engine), work, attempts=3, backoff=0)
    assert sqlstate(raised.value) == "40001"
    assert attempts == [1, 2, 3]


async def test_run_transaction_commits_once_and_never_retries_other_errors(
    engine: AsyncEngine, scratch_table: str
) -> None:
    factory = async_sessionmaker(engine, expire_on_commit=False)
    runs: list[str] = []

    async def increment(session: AsyncSession) -> None:
        runs.append("increment")
        await session.execute(text(f"UPDATE {scratch_table} SET n = n + 1 WHERE id = 1"))

    async def duplicate(session: AsyncSession) -> None:
        runs.append("duplicate")
        await session.execute(text(f"INSERT INTO {scratch_table} (id, n) VALUES (1, 0)"))

    await run_transaction(factory, increment)
    with pytest.raises(IntegrityError):
        await run_transaction(factory, duplicate)
    assert runs == ["increment", "duplicate"]
    assert await value(engine, scratch_table) == 1
