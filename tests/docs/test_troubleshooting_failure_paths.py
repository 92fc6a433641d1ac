"""The failure-path sections of references/troubleshooting.md, reproduced: timeouts, conflicts,
closed connections, missing tables, a dependency's scope. The PgBouncer ones run through a
real PgBouncer in tests/reliability/test_pgbouncer_timeouts.py, which matches the quotes."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated

import asyncpg  # type: ignore[import-untyped]
import pytest
from fastapi import Depends, FastAPI
from fastapi.exceptions import DependencyScopeError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import SessionDep
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.models import User
from tests.databases import create_database, drop_database, dsn
from tests.docs.troubleshooting_support import POSTGRESQL_ONLY, url_of
from tests.provoke import serialization_failure
from tests.troubleshooting_doc import assert_quoted, shown


@POSTGRESQL_ONLY
async def test_slow_statement_raises_statement_timeout(engine: AsyncEngine) -> None:
    with pytest.raises(DBAPIError) as caught:
        async with engine.connect() as conn:
            await conn.execute(text("SET LOCAL statement_timeout = 10"))
            await conn.execute(text("SELECT pg_sleep(5)"))
    assert_quoted("canceling-statement-due-to-statement-timeout", shown(caught.value))


@POSTGRESQL_ONLY
async def test_alter_waiting_for_a_lock_raises_lock_timeout(
    engine: AsyncEngine,
    scratch_table: str,
) -> None:
    async with engine.connect() as holder, engine.connect() as migration:
        # a transaction in progress reads the table
        await holder.execute(text(f"SELECT * FROM {scratch_table}"))
        await migration.execute(text("SET LOCAL lock_timeout = 10"))
        with pytest.raises(DBAPIError) as caught:
            await migration.execute(text(f"ALTER TABLE {scratch_table} ADD COLUMN note TEXT"))
    assert_quoted("canceling-statement-due-to-lock-timeout", shown(caught.value))


@POSTGRESQL_ONLY
async def test_concurrent_update_raises_serialization_failure(
    engine: AsyncEngine,
    scratch_table: str,
) -> None:
    with pytest.raises(DBAPIError) as caught:
        await serialization_failure(engine, scratch_table)
    assert_quoted("could-not-serialize-access-due-to-concurrent-update", shown(caught.value))


@POSTGRESQL_ONLY
async def test_session_ended_by_idle_in_transaction_timeout_raises_connection_closed(
    engine: AsyncEngine,
) -> None:
    short = create_engine(
        DatabaseSettings(database_url=url_of(engine), db_idle_in_transaction_timeout=0.1)
    )
    admin = await asyncpg.connect(dsn(url_of(engine)))
    try:
        async with short.connect() as conn:
            await conn.execute(text("SELECT 1"))
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            # the transaction sits idle, as a handler awaiting something else leaves it, until
            # the server ends the session and this client has read the closed socket (before
            # that, asyncpg may have read only the server's message: tests/reliability/
            # test_timeouts.py sees both)
            async with asyncio.timeout(10):
                while not driver.is_closed():
                    await admin.fetchval("SELECT 1")
            with pytest.raises(InterfaceError) as caught:
                await conn.execute(text("SELECT 2"))
    finally:
        await admin.close()
        await short.dispose()
    assert_quoted("connection-is-closed", shown(caught.value))


async def test_query_on_unmigrated_database_raises_no_such_table(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    if engine.dialect.name == "sqlite":
        url, index = f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}", 0
    else:
        url, index = await create_database("skill_unmigrated"), 1
    unmigrated = create_engine(DatabaseSettings(database_url=url))
    try:
        with pytest.raises(DBAPIError) as caught:
            async with unmigrated.connect() as conn:
                await conn.execute(text(f"SELECT * FROM {User.__tablename__}"))
    finally:
        await unmigrated.dispose()
        if index:
            await drop_database(url)
    assert_quoted("no-such-table-relation-does-not-exist", shown(caught.value), index=index)


async def get_current_user(session: SessionDep) -> AsyncIterator[User | None]:
    yield await session.get(User, 1)


async def current_user(session: SessionDep) -> User | None:
    return await session.get(User, 1)


def route_with(dependency: Callable[..., object], **depends: str) -> FastAPI:
    demo = FastAPI()

    @demo.get("/me")
    async def me(user: Annotated[User | None, Depends(dependency, **depends)]) -> bool:
        return user is not None

    return demo


def test_yield_dependency_taking_session_dep_raises_dependency_scope_error() -> None:
    # wrong: a yield dependency, at FastAPI's default scope, takes SessionDep
    with pytest.raises(DependencyScopeError) as caught:
        route_with(get_current_user)
    assert_quoted("cannot-depend-on-dependencies-with-scope-function", shown(caught.value))


def test_plain_or_function_scoped_dependency_may_take_session_dep() -> None:
    assert route_with(current_user).routes
    assert route_with(get_current_user, scope="function").routes


# a test in another folder is named by its pytest id, path::function
REPRODUCED: dict[str, list[Callable[..., object] | str]] = {
    "canceling-statement-due-to-statement-timeout": [test_slow_statement_raises_statement_timeout],
    "canceling-statement-due-to-lock-timeout": [test_alter_waiting_for_a_lock_raises_lock_timeout],
    "could-not-serialize-access-due-to-concurrent-update": [
        test_concurrent_update_raises_serialization_failure
    ],
    "connection-is-closed": [
        test_session_ended_by_idle_in_transaction_timeout_raises_connection_closed
    ],
    "this-connection-is-closed": [
        "tests/reliability/test_pgbouncer_timeouts.py::"
        "test_checkout_ping_failing_twice_raises_invalid_request_error"
    ],
    "unsupported-startup-parameter-statement_timeout": [
        "tests/reliability/test_pgbouncer_timeouts.py::"
        "test_server_timeouts_as_startup_parameters_are_refused_by_pgbouncer"
    ],
    "no-such-table-relation-does-not-exist": [
        test_query_on_unmigrated_database_raises_no_such_table
    ],
    "cannot-depend-on-dependencies-with-scope-function": [
        test_yield_dependency_taking_session_dep_raises_dependency_scope_error
    ],
}
