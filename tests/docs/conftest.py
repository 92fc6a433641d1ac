"""Fixtures that give each runnable markdown block a fresh database of the `engine` backend.

SQLite: a new file per block. PostgreSQL: one database for the docs per run (never the one the
other tests share), its public schema dropped and recreated before each block. Either way the
tables of app.models exist and are empty when the block starts.
"""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import app.models  # noqa: F401  (registers the tables on Base.metadata)
from app.db import Base


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def docs_postgres_url(engine: AsyncEngine) -> AsyncIterator[str | None]:
    """A database of its own on the server the `engine` fixture reached, dropped at the end
    (None on SQLite, where each block gets a new file)."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    server = engine.url.set(database="postgres")
    name = f"skill_docs_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(server.render_as_string(hide_password=False)))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield engine.url.set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(_asyncpg_dsn(server.render_as_string(hide_password=False)))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _fresh_schema(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture
async def block_database_url(docs_postgres_url: str | None, tmp_path: Path) -> str:
    """DATABASE_URL for one block run: the backend of `engine`, with empty app tables."""
    url = docs_postgres_url or f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await _fresh_schema(url)
    return url
