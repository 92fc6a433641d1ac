"""The read path: read sessions without BEGIN/COMMIT on PostgreSQL that refuse writes, the
checkout ping only after idle, and one more try for a read whose connection was dropped."""

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.reads import ReadOnlySessionError, read_sessionmaker
from app.models import User
from tests.reliability.support import (
    POOL,
    MakeEngine,
    Serve,
    count_connections,
    kill_connections,
    open_full_pool,
)

postgresql_module = importlib.import_module("app.db.postgresql")

NEW_USER = {"email": "read-path@example.com", "name": "Read", "password": "long-enough"}


def sent_statements(engine: AsyncEngine) -> list[str]:
    """Every statement engine sends from now on: SQLAlchemy's own (SQLite's BEGIN among them),
    and on PostgreSQL what asyncpg sends by itself on new connections (BEGIN, COMMIT, the
    ping), from its query log."""
    sent: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    if engine.dialect.name == "postgresql":

        @event.listens_for(engine.sync_engine, "connect")
        def _log(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(lambda q: sent.append(q.query))

    return sent


async def logged() -> None:
    # asyncpg hands each record to its query loggers with loop.call_soon: one turn of the
    # event loop runs every one scheduled so far
    await asyncio.sleep(0)


def transaction_statements(sent: list[str]) -> list[str]:
    words = ("BEGIN", "COMMIT", "ROLLBACK")
    return [s.strip().rstrip(";") for s in sent if s.lstrip().upper().startswith(words)]


async def create_user(engine: AsyncEngine, serve: Serve) -> int:
    async with serve(engine) as client:
        response = await client.post("/users", json=NEW_USER)
    assert response.status_code == 201
    user_id: int = response.json()["id"]
    return user_id


async def test_read_user_sends_no_begin_or_commit_on_postgresql(
    make_engine: MakeEngine, serve: Serve
) -> None:
    engine = make_engine()
    user_id = await create_user(engine, serve)
    sent = sent_statements(engine)
    # a new connection, so that the logger sees everything this request sends
    await engine.dispose()
    async with serve(engine) as client:
        read = await client.get(f"/users/{user_id}")
        await logged()
        # the write session, for comparison: the same capture sees its BEGIN and COMMIT
        wrote = len(sent)
        patched = await client.patch(f"/users/{user_id}", json={"name": "Renamed"})
    await logged()
    assert (read.status_code, patched.status_code) == (200, 200)
    assert any("FROM users" in s for s in sent[:wrote])
    if engine.dialect.name == "postgresql":
        assert transaction_statements(sent[:wrote]) == []
        assert transaction_statements(sent[wrote:]) == [
            "BEGIN ISOLATION LEVEL READ COMMITTED",
            "COMMIT",
        ]
    else:
        # SQLite keeps a read transaction, which gives the reader one snapshot of the file;
        # DEFERRED takes no lock until the first read
        assert transaction_statements(sent[:wrote]) == ["BEGIN DEFERRED"]
        assert transaction_statements(sent[wrote:]) == ["BEGIN IMMEDIATE"]


async def test_read_session_refuses_writes(make_engine: MakeEngine) -> None:
    engine = make_engine()
    factory = read_sessionmaker(engine)
    async with factory() as session:
        session.add(User(email="no@example.com", name="No", hashed_password="x"))
        with pytest.raises(ReadOnlySessionError, match="take SessionDep"):
            await session.flush()
    values = {"email": "no@example.com", "name": "No", "hashed_password": "x"}
    async with factory() as session:
        with pytest.raises(ReadOnlySessionError, match="take SessionDep"):
            await session.execute(insert(User).values(**values))
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_checkout_pings_only_a_connection_idle_past_the_threshold(
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_pool_size=1, db_max_overflow=0, db_pool_ping_after_idle=5)
    if engine.dialect.name != "postgresql":
        pytest.skip("sqlite: a database file has no connection to ping")
    sent = sent_statements(engine)

    async def checkout() -> list[str]:
        before = len(sent)
        async with engine.connect() as conn:
            # a statement of the test's own: the log records in order, so the ping (sent
            # before it) is in the log once this one is
            await conn.exec_driver_sql("SELECT 'checked out'")
        await logged()
        return [s for s in sent[before:] if s == "SELECT 1"]

    new, reused = await checkout(), await checkout()
    now: Callable[[], float] = postgresql_module.monotonic
    # six seconds later, as the pool's clock sees it
    monkeypatch.setattr(postgresql_module, "monotonic", lambda: now() + 6)
    idle = await checkout()
    assert (new, reused, idle) == ([], [], ["SELECT 1"])


async def test_read_user_retries_once_when_connections_are_killed_under_load(
    make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=True)
    user_id = await create_user(engine, serve)
    sent = sent_statements(engine)
    disconnects = []

    @event.listens_for(engine.sync_engine, "handle_error")
    def _count(context: Any) -> None:
        disconnects.append(context.is_disconnect)

    assert await kill_connections(pg_admin, engine) == POOL
    async with serve(engine) as client:
        # more requests at once than the pool holds: each of the POOL connections, reused a
        # moment ago and not pinged, is dead when a request first runs its SELECT on it
        responses = await asyncio.gather(
            *(client.get(f"/users/{user_id}") for _ in range(3 * POOL))
        )
    assert [r.status_code for r in responses] == [200] * (3 * POOL)
    # each dead connection failed one read (pinging none), which then ran once more on a new
    # connection; no other error
    assert disconnects == [True] * len(disconnects)
    assert 1 <= len(disconnects) <= POOL
    assert len([s for s in sent if "FROM users" in s]) == 3 * POOL + len(disconnects)
    assert 1 <= await count_connections(pg_admin, engine) <= POOL


async def test_read_user_retry_is_bounded_when_the_server_stays_unreachable(
    make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=True)
    connects = []

    @event.listens_for(engine.sync_engine, "do_connect")
    def _refuse(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        # every new connection goes to a port nothing listens on (connection refused)
        connects.append(1)
        cparams["port"] = 1

    assert await kill_connections(pg_admin, engine) == POOL
    async with serve(engine) as client:
        response = await client.get("/users/1")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    # the first try met a dead connection, the second could not connect: no third
    assert len(connects) == 1


async def test_create_user_is_not_retried_when_its_connection_was_killed(
    make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=True)
    sent = sent_statements(engine)
    assert await kill_connections(pg_admin, engine) == POOL
    async with serve(engine) as client:
        failed = await client.post("/users", json=NEW_USER)
        again = await client.post("/users", json=NEW_USER)
    await logged()
    # a write may have committed before its connection dropped: the client decides
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "1"
    assert again.status_code == 201
    # one INSERT per request: the one that met the dead connection was not sent again
    assert len([s for s in sent if s.startswith("INSERT INTO users")]) == 2


async def test_read_in_a_transaction_of_the_callers_own_is_not_retried(
    make_engine: MakeEngine, pg_admin: asyncpg.Connection
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=True)
    assert await kill_connections(pg_admin, engine) == POOL
    # session.begin() is the caller's transaction: a second try inside it would split it
    with pytest.raises(DBAPIError) as raised:
        async with read_sessionmaker(engine)() as session, session.begin():
            await session.execute(select(User))
    assert raised.value.connection_invalidated
