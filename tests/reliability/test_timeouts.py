"""Timeouts: the server stops answering (a half-open connection), cannot be reached, or a
statement waits on a lock: each request answers 503 with a reason, within a bound, never hangs.

The bounds with the settings FAST uses (the defaults are 5 s to connect and ping, 20 s per
command): a pooled connection gone half-open costs a read the command timeout (no ping is due
under load: DB_POOL_PING_AFTER_IDLE) plus the retry's connect timeout, or the ping's timeout
plus a connect timeout once it sat idle; one that freezes mid-request costs DB_COMMAND_TIMEOUT;
/health/ready answers within READY_TIMEOUT. asyncio.timeout(HANG) in these tests only turns a
hang into a failure.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from app.db import get_read_session
from app.errors import DATABASE_BUSY, DATABASE_TIMEOUT, DATABASE_UNAVAILABLE
from app.main import app
from tests.reliability.proxy import FAST, FreezingProxy
from tests.reliability.support import MakeEngine, Serve

HANG = 30
NEW_USER = {"email": "slow@example.com", "name": "Slow", "password": "long-enough"}


def database_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "app.errors"]


async def test_read_users_on_half_open_pooled_connection_answers_503(
    proxy: FreezingProxy, make_engine: MakeEngine, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(database_url=proxy.url, **FAST)
    async with serve(engine) as client:
        # the pool keeps its one connection, through the proxy
        assert (await client.get("/users")).status_code == 200
        proxy.freeze()
        async with asyncio.timeout(HANG):
            response = await client.get("/users")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    # the read on the pooled connection timed out, and so did the retry's new connection
    assert database_log(caplog) == [
        "GET /users: database unavailable: Error [08001]: cannot connect: TimeoutError"
    ]


async def test_read_users_when_connection_freezes_mid_request_answers_503(
    proxy: FreezingProxy, make_engine: MakeEngine, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(database_url=proxy.url, **FAST)

    async def freezing_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            await session.execute(text("SELECT 1"))
            # the handler's own query is the first to meet the frozen connection
            proxy.freeze()
            yield session

    app.dependency_overrides[get_read_session] = freezing_session
    try:
        async with serve(engine) as client, asyncio.timeout(HANG):
            response = await client.get("/users")
    finally:
        app.dependency_overrides.pop(get_read_session, None)
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_TIMEOUT}
    assert database_log(caplog) == ["GET /users: database timeout: TimeoutError"]


async def test_health_on_half_open_connection_answers_live_and_not_ready(
    proxy: FreezingProxy, make_engine: MakeEngine, serve: Serve
) -> None:
    engine = make_engine(database_url=proxy.url, **FAST)
    async with serve(engine) as client:
        assert (await client.get("/health/ready")).status_code == 200
        proxy.freeze()
        async with asyncio.timeout(HANG):
            live = await client.get("/health/live")
            ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "no answer in time"}


async def test_read_users_on_half_open_connection_hangs_without_timeouts(
    proxy: FreezingProxy, serve: Serve
) -> None:
    # wrong: asyncpg's defaults, a 60 s connect timeout and no command timeout, and no ping
    naive = create_async_engine(proxy.url, pool_size=1, max_overflow=0)
    try:
        async with serve(naive) as client:
            assert (await client.get("/users")).status_code == 200
            proxy.freeze()
            request = asyncio.ensure_future(client.get("/users"))
            # three times what the taught engine needs to answer 503 in the tests above
            done, _ = await asyncio.wait({request}, timeout=3 * 1.0)
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await request
        assert not done, "the request should still be waiting for the frozen connection"
    finally:
        await naive.dispose()


@pytest.mark.parametrize("taught", [False, True], ids=["plain_engine", "asset_engine"])
async def test_command_timeout_on_frozen_connection(
    proxy: FreezingProxy, make_engine: MakeEngine, taught: bool
) -> None:
    """What asyncpg's command_timeout raises through SQLAlchemy: a bare TimeoutError, not a
    DBAPIError, so the app's DBAPIError handler never sees it (a 500); SQLAlchemy counts it as
    an exit exception and invalidates the connection. The asset engine raises an
    OperationalError instead."""
    if taught:
        engine = make_engine(database_url=proxy.url, **FAST)
    else:
        engine = create_async_engine(proxy.url, connect_args={"command_timeout": 1.0})
    conn = await engine.connect()
    try:
        await conn.execute(text("SELECT 1"))
        proxy.freeze()
        async with asyncio.timeout(HANG):
            with pytest.raises((TimeoutError, DBAPIError)) as raised:
                await conn.execute(text("SELECT 1"))
        invalidated = conn.invalidated
    finally:
        await conn.close()
        if not taught:
            await engine.dispose()
    assert invalidated
    if taught:
        assert isinstance(raised.value, OperationalError)
        assert isinstance(raised.value.orig, TimeoutError)
    else:
        assert type(raised.value) is TimeoutError


async def test_update_user_waiting_on_a_lock_answers_503(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's statement_timeout cancels the UPDATE (57014); SQLite's busy timeout gives
    up on the write lock ("database is locked")."""
    app_engine = make_engine(
        db_statement_timeout=0.2, db_command_timeout=5, db_sqlite_busy_timeout=0.1
    )
    async with serve(app_engine) as client:
        user = (await client.post("/users", json=NEW_USER)).json()
        # another transaction holds the row (PostgreSQL) or the write lock (SQLite)
        async with engine.begin() as holder:
            await holder.execute(
                text("UPDATE users SET name = 'Held' WHERE id = :id"), {"id": user["id"]}
            )
            async with asyncio.timeout(HANG):
                response = await client.patch(f"/users/{user['id']}", json={"name": "Waited"})
            await holder.rollback()
    assert response.status_code == 503
    busy = DATABASE_TIMEOUT if engine.dialect.name == "postgresql" else DATABASE_BUSY
    assert response.json() == {"detail": busy}
    logged = {
        "postgresql": "database timeout: Error [57014]: "
        "canceling statement due to statement timeout",
        "sqlite": "database busy: OperationalError [SQLITE_BUSY]: database is locked",
    }
    assert database_log(caplog) == [f"PATCH /users/{user['id']}: {logged[engine.dialect.name]}"]


async def wait_for_lock_waiters(admin: asyncpg.Connection, count: int) -> None:
    """Return once count backends wait for a lock (looked up a bounded number of times)."""
    async with asyncio.timeout(10):
        while await admin.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") < count:
            pass


async def test_update_user_waits_as_long_as_the_lock_without_statement_timeout(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    # wrong: no statement_timeout, so a request waits for as long as another holds its row
    app_engine = make_engine(db_statement_timeout=0)
    async with serve(app_engine) as client:
        user = (await client.post("/users", json=NEW_USER)).json()
        async with engine.begin() as holder:
            await holder.execute(
                text("UPDATE users SET name = 'Held' WHERE id = :id"), {"id": user["id"]}
            )
            patch = asyncio.ensure_future(
                client.patch(f"/users/{user['id']}", json={"name": "Waited"})
            )
            await wait_for_lock_waiters(pg_admin, 1)
            # still waiting, however long the holder takes; it ends only with the holder
            assert not patch.done()
            await holder.rollback()
        async with asyncio.timeout(HANG):
            response = await patch
    assert response.status_code == 200


async def idle_killed_request(
    engine: AsyncEngine, serve: Serve, admin: asyncpg.Connection
) -> tuple[int, str]:
    """GET /users whose transaction sits idle until PostgreSQL ends the session (25P03),
    as a handler awaiting something else (an HTTP call, a queue) leaves it."""
    idle, resume = asyncio.Event(), asyncio.Event()
    pids: list[int] = []

    async def stalled_session() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            pids.append((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            idle.set()
            await resume.wait()
            yield session

    app.dependency_overrides[get_read_session] = stalled_session
    try:
        async with serve(engine) as client:
            request = asyncio.ensure_future(client.get("/users"))
            await idle.wait()
            alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
            async with asyncio.timeout(10):
                while await admin.fetchval(alive, pids[0]):
                    pass
            resume.set()
            async with asyncio.timeout(HANG):
                response = await request
    finally:
        resume.set()
        app.dependency_overrides.pop(get_read_session, None)
    return response.status_code, response.text


# asyncpg meets a session the server ended in one of two ways, depending on whether it has
# read the end of the socket yet: InterfaceError "connection is closed", or, having read only
# the server's FATAL message, InternalClientError "cannot switch to state ..." (about a third of
# the time here). SQLAlchemy finds the connection closed in both cases and invalidates it; a
# few tries see both
TRIES = 40


async def test_request_idle_in_transaction_past_timeout_answers_503(
    make_engine: MakeEngine,
    serve: Serve,
    pg_admin: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app_engine = make_engine(db_idle_in_transaction_timeout=0.1)
    closed = "GET /users: database unavailable: InterfaceError: connection is closed"
    protocol = "GET /users: database unavailable: InternalClientError: cannot switch to state"
    statuses = []
    for _ in range(TRIES):
        statuses.append((await idle_killed_request(app_engine, serve, pg_admin))[0])
        seen = {line[: len(protocol)] for line in database_log(caplog)}
        if {closed, protocol} <= seen:
            break
    assert set(statuses) == {503}
    assert seen == {closed, protocol}


def url_with(url: str, **parts: Any) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)


def _refuse_dns(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """Make host unresolvable here, without asking a DNS server."""
    real = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("failure", ["refused", "dns", "timeout"])
async def test_connect_failure_of_every_kind_answers_503(
    proxy: FreezingProxy,
    make_engine: MakeEngine,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    url = proxy.url
    if failure == "refused":
        # bound and not listening: refuses connections, and stays ours
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = url_with(proxy.url, port=sock.getsockname()[1])
    elif failure == "dns":
        _refuse_dns(monkeypatch, "db.invalid")
        url = url_with(proxy.url, host="db.invalid")
    else:
        proxy.freeze()
    engine = make_engine(database_url=url, **FAST)
    try:
        async with serve(engine) as client, asyncio.timeout(HANG):
            response = await client.get("/users")
            ready = await client.get("/health/ready")
    finally:
        if failure == "refused":
            sock.close()
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert ready.status_code == 503
    [line] = database_log(caplog)
    assert line.startswith("GET /users: database unavailable: Error [08001]: cannot connect: ")
    expected = {"refused": "ConnectionRefusedError", "dns": "gaierror", "timeout": "TimeoutError"}
    assert expected[failure] in line
