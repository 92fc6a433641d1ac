"""Fixtures that give each runnable markdown block a fresh database of the `engine` backend.

SQLite: a new file per block. PostgreSQL: one database for the docs per run (never the one the
other tests share), its public schema dropped and recreated before each block. Either way the
tables of app.models exist and are empty when the block starts.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import app.models  # noqa: F401  (registers the tables on Base.metadata)
from app.db import Base
from tests.databases import create_database, drop_database


@pytest.fixture(scope="session")
async def docs_postgres_url(engine: AsyncEngine) -> AsyncIterator[str | None]:
    """A database of its own on the test server, dropped at the end (None on SQLite, where
    each block gets a new file)."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    url = await create_database("skill_docs")
    yield url
    await drop_database(url)


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
