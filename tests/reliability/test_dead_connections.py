"""Dead connections: the server kills every pooled connection (a restart, a failover, an idle
timeout)."""

import re

import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.reliability.support import (
    POOL,
    MakeEngine,
    Serve,
    count_connections,
    kill_connections,
    open_full_pool,
)


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
