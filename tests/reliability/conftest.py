"""Fixtures for the fault tests: the app served on engines each test builds and breaks."""

import importlib
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.api.deps import get_engine
from app.db import Base
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.db.reads import read_sessionmaker
from app.main import app
from tests.databases import create_database, drop_database

# the PgBouncer and proxy fixtures live in modules of their own; importing them registers them
from tests.reliability.pgbouncer import start_pgbouncer  # noqa: F401
from tests.reliability.proxy import proxy  # noqa: F401

session_module = importlib.import_module("app.db.session")

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


@pytest.fixture
async def make_engine(engine: AsyncEngine) -> AsyncIterator[MakeEngine]:
    """Build engines on the test database with DatabaseSettings overrides; disposed after."""
    made: list[AsyncEngine] = []

    def make(**settings: Any) -> AsyncEngine:
        settings.setdefault("database_url", engine.url.render_as_string(hide_password=False))
        new = create_engine(DatabaseSettings(**settings))
        if new.dialect.name == "postgresql":
            tag_connections(new, f"reliability-{uuid.uuid4().hex[:8]}")
        made.append(new)
        return new

    yield make
    for new in made:
        await new.dispose()


def application_name(engine: AsyncEngine) -> str:
    """The application_name make_engine gave engine's connections."""
    return _names[engine]


@pytest.fixture
async def pg_admin(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection of the test's own, outside every engine's pool."""
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: server faults need PostgreSQL")
    conn = await asyncpg.connect(server_dsn(engine), timeout=5)
    yield conn
    await conn.close()


async def count_connections(admin: asyncpg.Connection, engine: AsyncEngine) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        application_name(engine),
    )
    return count


@pytest.fixture
async def serve(monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine) -> AsyncIterator[Serve]:
    """Serve the app on an engine (and optionally a session factory) through the real
    get_session and the real exception handlers, as a client sees it:
    an unhandled exception is a 500 response, not an exception in the test. Tables are
    emptied afterwards, since these requests commit for real."""

    @asynccontextmanager
    async def serve(
        on: AsyncEngine, factory: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncClient]:
        if factory is None:
            factory = async_sessionmaker(on, expire_on_commit=False)
        # the real get_session and get_read_session read these module globals at each request
        monkeypatch.setattr(session_module, "session_factory", factory)
        reads = read_sessionmaker(on)
        monkeypatch.setattr(session_module, "read_session_factory", reads)
        app.dependency_overrides[get_engine] = lambda: on
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with AsyncClient(transport=transport, base_url="http://test") as client:
                yield client
        finally:
            app.dependency_overrides.pop(get_engine, None)

    try:
        yield serve
    finally:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())


@pytest.fixture
async def own_database(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own on the backend of `engine`: a new SQLite file, or a
    PostgreSQL database created for the test and dropped after it."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
        return
    url = await create_database("skill_own")
    yield url
    await drop_database(url)


@pytest.fixture
async def scratch_table(engine: AsyncEngine) -> AsyncIterator[str]:
    """A table of the test's own, (id INTEGER PRIMARY KEY, n INTEGER) holding (1, 0) and
    (2, 0), dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, n INTEGER)"))
        await conn.execute(text(f"INSERT INTO {name} (id, n) VALUES (1, 0), (2, 0)"))
    yield name
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {name}"))
