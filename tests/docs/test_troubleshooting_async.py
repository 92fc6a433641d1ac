"""The asyncio failures of references/troubleshooting.md, reproduced with the wrong pattern:
MissingGreenlet, lazy="raise", an exhausted pool, a different or closed event loop, a session
shared between tasks (the conventions are in test_troubleshooting.py)."""

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import (
    String,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.exc import InvalidRequestError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool

from app.models import User
from tests.docs.troubleshooting_support import (
    POSTGRESQL_ONLY,
    Book,
    LazyBase,
    Shelf,
    garbage_collected,
    logged_text,
    new_user,
    run_in_new_loop,
    run_pytest_project,
    select_one,
    url_of,
)
from tests.helpers import count_users
from tests.troubleshooting_doc import (
    assert_quoted,
    quote_pattern,
    shown,
)

# MissingGreenlet


def assert_missing_greenlet_wrapping(dialect: str, output: str) -> None:
    """PostgreSQL raises MissingGreenlet itself; on SQLite another error wraps it."""
    if dialect == "sqlite":
        assert re.search(
            r"sqlalchemy\.exc\.(StatementError|DBAPIError): \(sqlalchemy\.exc\.MissingGreenlet\)",
            output,
        )
    else:
        assert "sqlalchemy.exc.MissingGreenlet: greenlet_spawn" in output


async def test_read_attribute_after_commit_raises_missing_greenlet(engine: AsyncEngine) -> None:
    # wrong: expire_on_commit left at its default, True
    session_factory = async_sessionmaker(engine)
    try:
        async with session_factory() as session:
            user = new_user()
            session.add(user)
            await session.commit()
            with garbage_collected():
                with pytest.raises(SQLAlchemyError) as caught:
                    user.name  # noqa: B018  (reading the expired attribute is the failure)
                output = shown(caught.value)
                del caught
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(User))
    assert_quoted("missinggreenlet", output)
    assert_missing_greenlet_wrapping(engine.dialect.name, output)


async def test_read_attribute_after_commit_with_expire_on_commit_false(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        user = new_user()
        session.add(user)
        await session.commit()
        assert user.name == "Ada"
        assert user.updated_at.tzinfo is not None


async def test_lazy_load_under_asyncio_raises_missing_greenlet(
    connection: AsyncConnection,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await connection.run_sync(LazyBase.metadata.create_all)
    async with session_maker() as session:
        session.add(Shelf(id=1, books=[Book(id=1)]))
        await session.commit()
    async with session_maker() as session:
        shelf = await session.get_one(Shelf, 1)
        with garbage_collected():
            with pytest.raises(SQLAlchemyError) as caught:
                shelf.books  # noqa: B018
            output = shown(caught.value)
            del caught
    assert_quoted("missinggreenlet", output)
    assert_missing_greenlet_wrapping(connection.dialect.name, output)


class Note(LazyBase):
    __tablename__ = "troubleshooting_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


async def test_read_server_onupdate_value_after_update_raises_missing_greenlet(
    connection: AsyncConnection,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    await connection.run_sync(LazyBase.metadata.create_all)
    async with session_maker() as session:
        note = Note(body="draft")
        session.add(note)
        await session.commit()
        # INSERT ... RETURNING brought the server default back; the UPDATE's value is not
        assert note.updated_at is not None
        note.body = "final"
        await session.commit()
        with garbage_collected():
            with pytest.raises(SQLAlchemyError) as caught:
                note.updated_at  # noqa: B018
            output = shown(caught.value)
            del caught
    assert_quoted("missinggreenlet", output)


# lazy="raise"


async def test_touch_unloaded_relationship_raises_lazy_raise_error(
    session: AsyncSession,
) -> None:
    session.add(new_user())
    await session.flush()
    session.expunge_all()
    user = await session.scalar(select(User))
    assert user is not None
    with pytest.raises(InvalidRequestError) as caught:
        user.posts  # noqa: B018
    assert_quoted("not-available-due-to-lazyraise", shown(caught.value))


# QueuePool limit


async def test_exhaust_pool_raises_queuepool_limit(engine: AsyncEngine) -> None:
    small = create_async_engine(url_of(engine), pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with small.connect():
            with pytest.raises(PoolTimeoutError) as caught:
                await small.connect()
    finally:
        await small.dispose()
    assert_quoted("queuepool-limit-reached", shown(caught.value))
    # the message names QueuePool although the async engine's pool is its asyncio subclass
    assert type(small.pool).__name__ == "AsyncAdaptedQueuePool"


# attached to a different loop, Event loop is closed


@POSTGRESQL_ONLY
def test_reuse_engine_in_second_event_loop_raises_different_loop(engine: AsyncEngine) -> None:
    with garbage_collected():
        # wrong: one engine shared by two asyncio.run() calls (two event loops)
        shared = create_async_engine(url_of(engine))
        first, result = run_in_new_loop(select_one(shared))
        assert result == 1
        second = asyncio.new_event_loop()
        try:
            with pytest.raises(RuntimeError) as caught:
                second.run_until_complete(select_one(shared)())
            output = shown(caught.value)
            del caught
        finally:
            second.close()
            first.run_until_complete(shared.dispose())
            first.close()
            del shared
    assert_quoted("attached-to-a-different-loop", output)


@POSTGRESQL_ONLY
def test_dispose_engine_after_its_loop_closed_logs_event_loop_is_closed(
    engine: AsyncEngine,
) -> None:
    with garbage_collected():
        shared = create_async_engine(url_of(engine))
        first, _ = run_in_new_loop(select_one(shared))
        # asyncio.run closes its loop on return, with the pooled connection still open
        first.close()
        second = asyncio.new_event_loop()
        try:
            with logged_text("sqlalchemy.pool") as log:
                second.run_until_complete(shared.dispose())
        finally:
            second.close()
            del shared
    assert_quoted("event-loop-is-closed", log.getvalue())
    assert "Exception closing connection" in log.getvalue()


@POSTGRESQL_ONLY
def test_session_engine_fixture_in_function_loops_fails_second_test(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    # wrong: a session-scoped engine fixture, while each test gets its own event loop
    result = run_pytest_project(tmp_path, url_of(engine), "[pytest]\nasyncio_mode = auto\n")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed, 1 passed" in output
    assert_quoted("attached-to-a-different-loop", output)
    assert_quoted("event-loop-is-closed", output)


@POSTGRESQL_ONLY
def test_session_engine_fixture_in_session_loop_passes(engine: AsyncEngine, tmp_path: Path) -> None:
    ini = (
        "[pytest]\nasyncio_mode = auto\n"
        "asyncio_default_fixture_loop_scope = session\n"
        "asyncio_default_test_loop_scope = session\n"
    )
    result = run_pytest_project(tmp_path, url_of(engine), ini)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "2 passed" in output
    assert not quote_pattern("Event loop is closed").search(output)


# another operation is in progress


@POSTGRESQL_ONLY
async def test_share_session_between_tasks_raises_another_operation_in_progress(
    engine: AsyncEngine,
) -> None:
    # NullPool: the connection this test breaks is closed, never returned to a pool
    isolated = create_async_engine(url_of(engine), poolclass=NullPool)
    try:
        async with AsyncSession(isolated) as session:
            await session.execute(text("SELECT 1"))
            # wrong: two tasks drive one session (and so one connection) at once
            outcomes = await asyncio.gather(
                session.execute(text("SELECT 1")), session.commit(), return_exceptions=True
            )
            await session.invalidate()
    finally:
        await isolated.dispose()
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors, outcomes
    assert_quoted("another-operation-is-in-progress", shown(errors[0]))


async def test_give_each_task_its_own_session(engine: AsyncEngine) -> None:
    # count_users opens a session of its own on each call
    assert await asyncio.gather(*(count_users(engine) for _ in range(5))) == [0] * 5


# the sections these tests reproduce (collected by test_troubleshooting.py)
REPRODUCED: dict[str, list[Callable[..., object]]] = {
    "missinggreenlet": [
        test_read_attribute_after_commit_raises_missing_greenlet,
        test_read_server_onupdate_value_after_update_raises_missing_greenlet,
        test_lazy_load_under_asyncio_raises_missing_greenlet,
    ],
    "not-available-due-to-lazyraise": [test_touch_unloaded_relationship_raises_lazy_raise_error],
    "queuepool-limit-reached": [test_exhaust_pool_raises_queuepool_limit],
    "attached-to-a-different-loop": [
        test_reuse_engine_in_second_event_loop_raises_different_loop,
        test_session_engine_fixture_in_function_loops_fails_second_test,
    ],
    "event-loop-is-closed": [
        test_dispose_engine_after_its_loop_closed_logs_event_loop_is_closed,
        test_session_engine_fixture_in_function_loops_fails_second_test,
    ],
    "another-operation-is-in-progress": [
        test_share_session_between_tasks_raises_another_operation_in_progress
    ],
}
