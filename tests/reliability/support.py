"""What the fault tests share besides fixtures: the fixtures' types, and naming and counting
each engine's PostgreSQL connections."""

import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

Serve = Callable[..., AbstractAsyncContextManager[AsyncClient]]
MakeEngine = Callable[..., AsyncEngine]


def server_dsn(engine: AsyncEngine) -> str:
    """A plain asyncpg DSN for the server behind engine, for admin queries."""
    url = engine.url.set(drivername="postgresql", query={})
    return url.render_as_string(hide_password=False)


_names: "weakref.WeakKeyDictionary[AsyncEngine, str]" = weakref.WeakKeyDictionary()


def tag_connections(engine: AsyncEngine, application_name: str) -> None:
    """Name every PostgreSQL connection engine opens, so pg_stat_activity can count them."""
    _names[engine] = application_name

    @event.listens_for(engine.sync_engine, "do_connect")
    def _tag(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        server_settings = dict(cparams.get("server_settings", {}))
        cparams["server_settings"] = server_settings | {"application_name": application_name}


def application_name(engine: AsyncEngine) -> str:
    """The application_name make_engine gave engine's connections."""
    return _names[engine]


async def count_connections(admin: asyncpg.Connection, engine: AsyncEngine) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        application_name(engine),
    )
    return count


# connections the dead-connection tests keep open, all killed at once
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
