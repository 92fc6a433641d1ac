"""The bench's own databases: a PostgreSQL database created for the run, a SQLite temp file."""

import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app import models  # noqa: F401  (registers the tables on Base.metadata)
from app.db import Base
from app.db.config import DatabaseSettings
from app.db.engine import create_engine

SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Backend:
    name: str
    url: str
    """SQLAlchemy URL"""
    raw: str
    """asyncpg DSN, or the SQLite file path"""


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _server(sql: str, server_url: str = SERVER_URL) -> None:
    conn = await asyncpg.connect(_dsn(server_url), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def open_backend(name: str, tmpdir: Path, server_url: str = SERVER_URL) -> Backend:
    if name == "sqlite":
        path = tmpdir / "bench.db"
        return Backend(name, f"sqlite+aiosqlite:///{path}", str(path))
    db = f"bench_{uuid.uuid4().hex[:10]}"
    await _server(f'CREATE DATABASE "{db}"', server_url)
    url = make_url(server_url).set(database=db).render_as_string(hide_password=False)
    return Backend(name, url, _dsn(url))


async def close_backend(backend: Backend, server_url: str = SERVER_URL) -> None:
    if backend.name == "postgresql":
        db = make_url(backend.url).database
        await _server(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)', server_url)
    else:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(backend.raw + suffix).unlink(missing_ok=True)


def asset_engine(backend: Backend, **overrides: object) -> AsyncEngine:
    """The engine exactly as the asset app builds it (pool pre-ping on for PostgreSQL)."""
    return create_engine(DatabaseSettings(database_url=backend.url, **overrides))  # type: ignore[arg-type]


async def reset_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql("TRUNCATE posts, users RESTART IDENTITY CASCADE")
        else:
            await conn.exec_driver_sql("DELETE FROM posts")
            await conn.exec_driver_sql("DELETE FROM users")
