"""The bench's own databases: a PostgreSQL database created for the run, a SQLite temp file.

The PostgreSQL server, its URL and the way to run SQL on it are the test suite's
(tests/databases.py), so the bench and the tests agree on where the server is.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from app import models  # noqa: F401  (registers the tables on Base.metadata)
from app.db import Base
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from tests.databases import DEFAULT_SERVER_URL, drop_database, dsn, new_database

SERVER_URL = DEFAULT_SERVER_URL
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Backend:
    name: str
    url: str
    """SQLAlchemy URL"""
    raw: str
    """asyncpg DSN, or the SQLite file path"""


async def open_backend(name: str, tmpdir: Path, server_url: str = SERVER_URL) -> Backend:
    if name == "sqlite":
        path = tmpdir / "bench.db"
        return Backend(name, f"sqlite+aiosqlite:///{path}", str(path))
    url = await new_database(server_url, "bench")
    return Backend(name, url, dsn(url))


async def close_backend(backend: Backend, server_url: str = SERVER_URL) -> None:
    if backend.name == "postgresql":
        await drop_database(backend.url, server_url)
    else:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(backend.raw + suffix).unlink(missing_ok=True)


def asset_engine(backend: Backend, **overrides: object) -> AsyncEngine:
    """The engine exactly as the asset app builds it (with its checkout ping on PostgreSQL)."""
    return create_engine(DatabaseSettings(database_url=backend.url, **overrides))  # type: ignore[arg-type]


async def reset_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)


async def empty_tables(engine: AsyncEngine, *tables: str) -> None:
    """Delete every row of tables (default: posts, then users), between repetitions."""
    tables = tables or ("posts", "users")
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                await conn.exec_driver_sql(f"DELETE FROM {table}")
