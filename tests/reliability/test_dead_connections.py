"""Dead connections: the server kills every pooled connection (a restart, a failover, an idle
timeout)."""

import re

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.reliability.support import MakeEngine, Serve, application_name, count_connections

POOL = 3


async def open_full_pool(make_engine: MakeEngine, *, pre_ping: bool) -> AsyncEngine:
    engine = make_engine(db_pool_size=POOL, db_max_overflow=0, db_pool_pre_ping=pre_ping)
    # hold POOL connections at once, so that the pool keeps POOL open connections
    conns = [await engine.connect() for _ in range(POOL)]
    for conn in conns:
        await conn.close()
    return engine


async def kill_connections(admin: asyncpg.Connection, engine: AsyncEngine) -> int:
    # pids first, in a query of their own: inside one WHERE clause the planner may call
    # pg_terminate_backend before the application_name filter, on every backend
    pids = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application_name(engine)
    )
    for row in pids:
        # the timeout makes pg_terminate_backend wait until the backend has exited
        assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", row["pid"])
    return len(pids)


async def test_read_users_succeeds_after_pool_killed_with_pre_ping(
    make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=True)
    assert await kill_connections(pg_admin, engine) == POOL
    async with serve(engine) as client:
        # the pool hands connections out oldest first: the first POOL requests get dead ones
        statuses = [(await client.get("/users")).status_code for _ in range(2 * POOL)]
    assert statuses == [200] * (2 * POOL)
    assert await count_connections(pg_admin, engine) >= 1


async def test_read_users_fails_once_after_pool_killed_without_pre_ping(
    make_engine: MakeEngine,
    serve: Serve,
    pg_admin: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = await open_full_pool(make_engine, pre_ping=False)
    assert await kill_connections(pg_admin, engine) == POOL
    async with serve(engine) as client:
        first = await client.get("/users")
        # the failed request invalidated the whole pool, so the dead connections are replaced
        statuses = [(await client.get("/users")).status_code for _ in range(2 * POOL)]
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "1"
    assert first.json() == {"detail": "Database unavailable, retry shortly"}
    assert statuses == [200] * (2 * POOL)
    [message] = [r.getMessage() for r in caplog.records if r.name == "app.errors"]
    # asyncpg has usually seen the socket close by then; if not, the query finds out
    assert re.fullmatch(
        r"GET /users: database unavailable: (InterfaceError: connection is closed"
        r"|Error \[08003\]: connection was closed in the middle of operation: terminating"
        r" connection due to administrator command)",
        message,
    ), message
    print(message)
