"""Fixtures for the fault tests: the app served on engines each test builds and breaks. The
PgBouncer and proxy fixtures live in modules of their own, registered by tests/conftest.py."""

import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.api.deps import get_engine
from app.db import Base
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.db.reads import read_sessionmaker
from app.main import app
from tests.databases import create_database, drop_database
from tests.reliability.support import MakeEngine, Serve, server_dsn, tag_connections

session_module = importlib.import_module("app.db.session")


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


@pytest.fixture
async def pg_admin(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection of the test's own, outside every engine's pool."""
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: server faults need PostgreSQL")
    conn = await asyncpg.connect(server_dsn(engine), timeout=5)
    yield conn
    await conn.close()


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
