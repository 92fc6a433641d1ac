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
