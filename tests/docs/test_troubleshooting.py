"""Every failure in references/troubleshooting.md, reproduced with the wrong pattern.

Each test runs the mistake a section describes on the current library versions, on SQLite and
PostgreSQL unless the failure belongs to one driver (the test id names the backend), and checks
that the text the section quotes is what the user sees: the exception as a traceback prints it,
or the log or pytest output. Where the section's fix is code, a second test runs the fix and
shows the failure gone. The lines a ```diff block removes are lines of this file, and the lines
it adds are lines of an asset, so the document cannot drift from what ran.
"""

import ast
import asyncio
import importlib
import importlib.util
import inspect
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi import Depends, FastAPI
from httpx import AsyncClient
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import ArgumentError, InvalidRequestError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool, QueuePool

from app.db.base import UTCDateTime
from app.db.config import DatabaseSettings
from app.db.engine import create_engine as create_app_engine
from app.main import app as asset_app
from app.models import User
from tests.docs.troubleshooting_support import (
    POSTGRESQL_ONLY,
    SQLITE_ONLY,
    Book,
    LazyBase,
    Shelf,
    commit_in_savepoint_then_roll_back,
    count_counters,
    create_counter_table,
    drop_unique_constraint,
    failing_factory,
    garbage_collected,
    logged_text,
    new_user,
    post_user,
    run_in_new_loop,
    run_pytest_project,
    select_one,
    sqlite_engine,
    url_of,
)
from tests.helpers import ROOT, count_users
from tests.troubleshooting_doc import (
    DOC,
    assert_quoted,
    diff_lines,
    quote,
    quote_pattern,
    quoted_errors,
    sections,
    shown,
    stripped_lines,
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


# migrations run from code


async def test_upgrade_inside_running_event_loop_raises_asyncio_run_error(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url_of(engine))
    # no ini file: the logging set-up in alembic.ini would reconfigure this test process
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(ROOT / "assets" / "migrations"))
    with garbage_collected():
        # wrong: an Alembic command called from async code, so env.py's asyncio.run() fails
        with pytest.raises(RuntimeError) as caught:
            command.upgrade(config, "head")
        output = shown(caught.value)
        del caught
    assert_quoted("asynciorun-cannot-be-called-from-a-running-event-loop", output)


def test_percent_in_url_breaks_alembic_ini_interpolation() -> None:
    config = Config()
    # wrong: env.py copying a URL with a percent-encoded password into the ini options
    with pytest.raises(ValueError) as caught:
        config.set_main_option("sqlalchemy.url", "postgresql+asyncpg://app:p%40ss@db:5432/app")
    assert_quoted("invalid-interpolation-syntax", shown(caught.value))
    # the workaround the section gives: doubled percent signs read back as the URL
    url = "postgresql+asyncpg://app:p%40ss@db:5432/app"
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    assert config.get_main_option("sqlalchemy.url") == url


# URLs and drivers


def test_psycopg_is_not_installed() -> None:
    # the next test reproduces a user's environment, which has asyncpg only
    assert importlib.util.find_spec("psycopg") is None
    assert importlib.util.find_spec("psycopg2") is None


@pytest.mark.parametrize("make_engine", [create_async_engine, create_engine])
def test_postgresql_url_without_driver_raises_no_module_psycopg(
    make_engine: Callable[[str], Any],
) -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        make_engine("postgresql://postgres@127.0.0.1:5432/app")
    assert_quoted("no-module-named-psycopg", shown(caught.value))
    with pytest.raises(ModuleNotFoundError) as caught:
        make_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/app")
    assert_quoted("no-module-named-psycopg", shown(caught.value), index=1)


def test_create_async_engine_with_sync_url_raises_async_driver_required(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        create_async_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert_quoted("the-asyncio-extension-requires-an-async-driver", shown(caught.value))


@POSTGRESQL_ONLY
async def test_sslmode_in_asyncpg_url_raises_unexpected_keyword(engine: AsyncEngine) -> None:
    wrong = create_async_engine(engine.url.update_query_dict({"sslmode": "require"}))
    try:
        with pytest.raises(TypeError) as caught:
            async with wrong.connect():
                pass
    finally:
        await wrong.dispose()
    assert_quoted("unexpected-keyword-argument-sslmode", shown(caught.value))


@POSTGRESQL_ONLY
async def test_ssl_in_asyncpg_url_connects(engine: AsyncEngine) -> None:
    # prefer: TLS when the server offers it (the local test server does not), else plain
    right = create_async_engine(engine.url.update_query_dict({"ssl": "prefer"}))
    try:
        async with right.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await right.dispose()


# engine options


async def test_queuepool_class_on_async_engine_raises(engine: AsyncEngine) -> None:
    with pytest.raises(ArgumentError) as caught:
        # wrong: the sync pool class, copied from a create_engine() call
        create_async_engine(url_of(engine), poolclass=QueuePool)
    assert_quoted("pool-class-queuepool-cannot-be-used-with-asyncio-engine", shown(caught.value))


def test_pool_size_for_sqlite_memory_raises_invalid_argument() -> None:
    with pytest.raises(TypeError) as caught:
        create_async_engine("sqlite+aiosqlite:///:memory:", pool_size=5, max_overflow=10)
    assert_quoted("invalid-arguments-sent-to-create_engine", shown(caught.value))
    with pytest.raises(TypeError, match="'pool_timeout'"):
        create_async_engine("sqlite+aiosqlite:///:memory:", pool_timeout=5)


async def test_asset_engine_accepts_sqlite_memory() -> None:
    memory = create_app_engine(DatabaseSettings(database_url="sqlite+aiosqlite:///:memory:"))
    try:
        async with memory.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await memory.dispose()


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


async def test_commit_after_yield_answers_201_for_lost_row(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
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

    # the asset's own get_session needs the scope too: declared without it, its transaction
    # also commits after the response
    session_module = importlib.import_module("app.db.session")
    monkeypatch.setattr(session_module, "session_factory", session_factory)
    unscoped = FastAPI()

    @unscoped.post("/users", status_code=201)
    async def create_user_unscoped(
        session: Annotated[AsyncSession, Depends(session_module.get_session)],
    ) -> dict[str, str]:
        session.add(new_user())
        await session.flush()
        return {"email": "ada@example.com"}

    assert await post_user(unscoped) == 201
    assert await count_users(engine) == 0

    # the fix: the asset app's SessionDep (scope="function") commits before the response, so
    # the failed commit is an error response
    assert await post_user(asset_app) >= 500
    assert await count_users(engine) == 0


# PgBouncer: reproduced through a real pgbouncer by tests/reliability/test_pgbouncer.py

PGBOUNCER_TEST = ROOT / "tests" / "reliability" / "test_pgbouncer.py"


def string_constants(path: Path) -> dict[str, str]:
    """The module-level string constants of a Python file, read without importing it."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def test_quote_pgbouncer_errors_the_reliability_test_asserts() -> None:
    # that test matches the first line of str(error) against these patterns
    patterns = string_constants(PGBOUNCER_TEST)
    for index, name in enumerate(["DOES_NOT_EXIST", "ALREADY_EXISTS"]):
        quoted = quote("prepared-statement-does-not-exist-behind-pgbouncer", index=index)
        assert re.fullmatch(patterns[name], quoted.replace("...", "1")), (name, quoted)


# the document itself

REPRODUCED: dict[str, list[Callable[..., object] | str]] = {
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
    "cant-emit-drop-constraint": [test_drop_unnamed_constraint_fails],
    "asynciorun-cannot-be-called-from-a-running-event-loop": [
        test_upgrade_inside_running_event_loop_raises_asyncio_run_error
    ],
    "invalid-interpolation-syntax": [test_percent_in_url_breaks_alembic_ini_interpolation],
    "offset-naive-and-offset-aware-datetimes": [test_mix_naive_and_aware_datetimes_fails],
    "no-module-named-psycopg": [test_postgresql_url_without_driver_raises_no_module_psycopg],
    "the-asyncio-extension-requires-an-async-driver": [
        test_create_async_engine_with_sync_url_raises_async_driver_required
    ],
    "unexpected-keyword-argument-sslmode": [test_sslmode_in_asyncpg_url_raises_unexpected_keyword],
    "pool-class-queuepool-cannot-be-used-with-asyncio-engine": [
        test_queuepool_class_on_async_engine_raises
    ],
    "invalid-arguments-sent-to-create_engine": [
        test_pool_size_for_sqlite_memory_raises_invalid_argument
    ],
    "value-out-of-int32-range": [test_id_beyond_int32_raises_value_out_of_range],
    "invalid-byte-sequence-for-encoding-utf8-0x00": [
        test_nul_character_in_text_raises_invalid_byte_sequence
    ],
    "database-is-locked": [test_deferred_transactions_raise_database_is_locked],
    "rows-survive-the-test-rollback-on-sqlite": [
        test_savepoint_without_begin_recipe_keeps_rows_after_rollback
    ],
    "prepared-statement-does-not-exist-behind-pgbouncer": [
        test_quote_pgbouncer_errors_the_reliability_test_asserts
    ],
    "201-for-a-row-that-was-never-saved": [test_commit_after_yield_answers_201_for_lost_row],
}


def reproduced() -> dict[str, list[Callable[..., object] | str]]:
    """REPRODUCED, and the REPRODUCED of each tests/docs/test_troubleshooting_<topic>.py."""
    found: dict[str, list[Callable[..., object] | str]] = dict(REPRODUCED)
    for path in sorted(Path(__file__).parent.glob("test_troubleshooting_*.py")):
        found |= importlib.import_module(f"tests.docs.{path.stem}").REPRODUCED
    return found


def source_of(test: Callable[..., object] | str) -> str:
    """A test's source: a function of this folder, or "path::function" in another, read from
    its file without importing it."""
    if not isinstance(test, str):
        return inspect.getsource(test)
    path, name = test.split("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise AssertionError(f"{test} is not a test function")


def test_reproduce_every_section() -> None:
    documented = {s.anchor for s in sections()} - {"contents"}
    assert documented == set(reproduced()), "each error section needs a reproducing test here"


def test_match_every_quoted_error_in_a_test() -> None:
    tests = reproduced()
    for (section, index), _text in quoted_errors().items():
        sources = [source_of(test) for test in tests.get(section, [])]
        # assert_quoted(...) matches a failure; quote(...) compares with another test's pattern
        calls = (f'assert_quoted("{section}"', f'quote("{section}"')
        used = [
            s
            for s in sources
            if any(c in s for c in calls) and (index == 0 or f"index={index}" in s)
        ]
        if index > 0 and not used:
            used = [s for s in sources if any(c in s for c in calls) and "index=index" in s]
        assert used, f"```text block {index} under #{section} is not asserted by a test"


def test_list_every_section_in_contents() -> None:
    body = DOC.read_text(encoding="utf-8")
    for section in sections():
        if section.anchor != "contents":
            assert f"(#{section.anchor})" in body, f"#{section.anchor} is missing from Contents"


def test_diff_lines_come_from_tests_and_assets() -> None:
    wrong = stripped_lines(Path(__file__))
    right = stripped_lines(*(p for p in (ROOT / "assets").rglob("*.py")))
    for block, sign, line in diff_lines():
        where = f"{block.id}: {sign}{line}"
        if sign == "-":
            assert line in wrong, f"{where} is not the wrong pattern this file runs"
        else:
            assert line in right, f"{where} is not a line of a file under assets/"


def test_quote_pattern_elides_varying_text() -> None:
    pattern = quote_pattern("Task <Task pending ...> got Future ... attached to a different loop")
    assert pattern.search(
        "Task <Task pending name='Task-6'> got Future <F x=1> attached to a different loop"
    )
    assert not pattern.search("got Future <F> attached to a different loop")
