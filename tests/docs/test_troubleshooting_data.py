"""The schema and data failures of references/troubleshooting.md, reproduced with the wrong
pattern: an unnamed constraint, values PostgreSQL refuses, SQLite's locks and rollbacks, naive
and aware datetimes, the commit after yield (the conventions are in test_troubleshooting.py)."""

import asyncio
import importlib
import importlib.util
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from httpx import AsyncClient
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
)

from app.db.base import UTCDateTime
from app.db.config import DatabaseSettings
from app.db.engine import create_engine as create_app_engine
from app.main import app as asset_app
from app.models import User
from tests.docs.troubleshooting_support import (
    POSTGRESQL_ONLY,
    SQLITE_ONLY,
    commit_in_savepoint_then_roll_back,
    count_counters,
    create_counter_table,
    drop_unique_constraint,
    failing_factory,
    new_user,
    post_user,
    sqlite_engine,
)
from tests.helpers import count_users
from tests.troubleshooting_doc import (
    assert_quoted,
    shown,
)

# Can't emit DROP CONSTRAINT


async def test_drop_unnamed_constraint_fails(connection: AsyncConnection) -> None:
    with pytest.raises((SQLAlchemyError, ValueError)) as caught:
        await connection.run_sync(drop_unique_constraint, None, False)
    index = 1 if connection.dialect.name == "sqlite" else 0
    assert_quoted("cant-emit-drop-constraint", shown(caught.value), index=index)


async def test_drop_constraint_named_by_convention(connection: AsyncConnection) -> None:
    await connection.run_sync(drop_unique_constraint, "uq_troubleshooting_accounts_email", True)
    # the constraint is gone: a duplicate email now inserts
    for _ in range(2):
        await connection.execute(
            text("INSERT INTO troubleshooting_accounts (email) VALUES ('a@example.com')")
        )


# values PostgreSQL refuses


@POSTGRESQL_ONLY
async def test_id_beyond_int32_raises_value_out_of_range(connection: AsyncConnection) -> None:
    with pytest.raises(SQLAlchemyError) as caught:
        await connection.execute(select(User).where(User.id == 2**31))
    assert_quoted("value-out-of-int32-range", shown(caught.value))


@POSTGRESQL_ONLY
async def test_nul_character_in_text_raises_invalid_byte_sequence(
    connection: AsyncConnection,
) -> None:
    with pytest.raises(SQLAlchemyError) as caught:
        await connection.execute(
            insert(User).values(email="a\x00b@example.com", name="Ada", hashed_password="x")
        )
    assert_quoted("invalid-byte-sequence-for-encoding-utf8-0x00", shown(caught.value))


async def test_out_of_range_id_and_nul_answer_422(client: AsyncClient) -> None:
    assert (await client.get(f"/users/{2**31}")).status_code == 422
    body = {"email": "ada@example.com", "name": "A\x00da", "password": "long-enough"}
    assert (await client.post("/users", json=body)).status_code == 422


# SQLite: database is locked, rows that survive a rollback


@SQLITE_ONLY
async def test_deferred_transactions_raise_database_is_locked(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # wrong: the recipe's plain BEGIN, so each transaction starts as a reader
    deferred = sqlite_engine(tmp_path / "app.db", "BEGIN")
    await create_counter_table(deferred)
    first, second = await deferred.connect(), await deferred.connect()
    try:
        await first.begin()
        await second.begin()
        await first.execute(text("SELECT count(*) FROM counters"))
        await second.execute(text("SELECT count(*) FROM counters"))
        await first.execute(text("INSERT INTO counters (id) VALUES (1)"))
        with pytest.raises(SQLAlchemyError) as caught:
            await second.execute(text("INSERT INTO counters (id) VALUES (2)"))
    finally:
        await first.close()
        await second.close()
        await deferred.dispose()
    assert_quoted("database-is-locked", shown(caught.value))


@SQLITE_ONLY
async def test_begin_immediate_queues_second_writer(engine: AsyncEngine, tmp_path: Path) -> None:
    immediate = create_app_engine(
        DatabaseSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    )
    await create_counter_table(immediate)

    async def write(row_id: int) -> None:
        async with immediate.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM counters"))
            await conn.execute(text("INSERT INTO counters (id) VALUES (:id)"), {"id": row_id})

    try:
        async with immediate.begin() as first:
            await first.execute(text("SELECT count(*) FROM counters"))
            # the second writer waits at BEGIN IMMEDIATE until the first commits
            second = asyncio.ensure_future(write(2))
            await first.execute(text("INSERT INTO counters (id) VALUES (1)"))
        await second
        assert await count_counters(immediate) == 2
    finally:
        await immediate.dispose()


@SQLITE_ONLY
async def test_savepoint_without_begin_recipe_keeps_rows_after_rollback(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # wrong: the default aiosqlite engine, whose driver emits no BEGIN before SAVEPOINT
    plain = sqlite_engine(tmp_path / "app.db", None)
    try:
        await create_counter_table(plain)
        await commit_in_savepoint_then_roll_back(plain)
        assert await count_counters(plain) == 1
    finally:
        await plain.dispose()


@SQLITE_ONLY
async def test_savepoint_with_begin_recipe_rolls_back(engine: AsyncEngine, tmp_path: Path) -> None:
    recipe = create_app_engine(
        DatabaseSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    )
    try:
        await create_counter_table(recipe)
        await commit_in_savepoint_then_roll_back(recipe)
        assert await count_counters(recipe) == 0
    finally:
        await recipe.dispose()


# datetimes


async def test_mix_naive_and_aware_datetimes_fails(connection: AsyncConnection) -> None:
    metadata = MetaData()
    events = Table(
        "troubleshooting_events",
        metadata,
        Column("id", Integer, primary_key=True),
        # wrong: DateTime() is TIMESTAMP WITHOUT TIME ZONE on PostgreSQL
        Column("naive_at", DateTime()),
        # wrong on SQLite: timezone=True is ignored there, values come back naive
        Column("aware_at", DateTime(timezone=True)),
    )
    await connection.run_sync(metadata.create_all)
    now = datetime.now(UTC)
    if connection.dialect.name == "postgresql":
        with pytest.raises(SQLAlchemyError) as caught:
            async with connection.begin_nested():
                await connection.execute(events.insert().values(naive_at=now))
        assert_quoted("offset-naive-and-offset-aware-datetimes", shown(caught.value))
    else:
        await connection.execute(events.insert().values(aware_at=now))
        stored = await connection.scalar(select(events.c.aware_at))
        assert stored is not None
        with pytest.raises(TypeError) as compared:
            assert stored < now
        assert_quoted("offset-naive-and-offset-aware-datetimes", shown(compared.value), index=1)


async def test_utc_datetime_stays_aware(connection: AsyncConnection) -> None:
    metadata = MetaData()
    events = Table(
        "troubleshooting_events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    await connection.run_sync(metadata.create_all)
    now = datetime.now(UTC)
    await connection.execute(events.insert().values(at=now))
    stored = await connection.scalar(select(events.c.at))
    assert stored == now
    assert stored.utcoffset() == timedelta(0)


# FastAPI: the commit after yield


async def test_commit_after_yield_answers_201_for_lost_row(engine: AsyncEngine) -> None:
    session_factory = failing_factory(engine)

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            yield session
            await session.commit()

    # wrong: no scope="function", so the commit above runs after the response is sent
    SessionDep = Annotated[AsyncSession, Depends(get_session)]
    app = FastAPI()

    @app.post("/users", status_code=201)
    async def create_user(session: SessionDep) -> dict[str, str]:
        session.add(new_user())
        await session.flush()
        return {"email": "ada@example.com"}

    assert await post_user(app) == 201
    assert await count_users(engine) == 0


async def test_session_dep_answers_error_when_commit_fails(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_module = importlib.import_module("app.db.session")
    monkeypatch.setattr(session_module, "session_factory", failing_factory(engine))
    status = await post_user(asset_app)
    assert status >= 500
    assert await count_users(engine) == 0


# the sections these tests reproduce (collected by test_troubleshooting.py)
REPRODUCED: dict[str, list[Callable[..., object]]] = {
    "cant-emit-drop-constraint": [test_drop_unnamed_constraint_fails],
    "offset-naive-and-offset-aware-datetimes": [test_mix_naive_and_aware_datetimes_fails],
    "value-out-of-int32-range": [test_id_beyond_int32_raises_value_out_of_range],
    "invalid-byte-sequence-for-encoding-utf8-0x00": [
        test_nul_character_in_text_raises_invalid_byte_sequence
    ],
    "database-is-locked": [test_deferred_transactions_raise_database_is_locked],
    "rows-survive-the-test-rollback-on-sqlite": [
        test_savepoint_without_begin_recipe_keeps_rows_after_rollback
    ],
    "201-for-a-row-that-was-never-saved": [test_commit_after_yield_answers_201_for_lost_row],
}
