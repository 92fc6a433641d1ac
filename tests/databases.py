"""Throwaway databases for this repository's tests, on the PostgreSQL server the run uses."""

import os
import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

# the server the suite starts from; tests/conftest.py then exports TEST_POSTGRES_URL
DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_SERVER_URL


def dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_sql(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn(url), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def new_database(server: str, prefix: str = "skill", owner: str | None = None) -> str:
    """Create an empty database on server and return its URL (the bench's way in; a test
    calls create_database)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    owned = f' OWNER "{owner}"' if owner else ""
    await run_sql(server, f'CREATE DATABASE "{name}"{owned}')
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def create_database(prefix: str = "skill", owner: str | None = None) -> str:
    """Create an empty database on the test server and return its URL; skip the test when the
    server cannot be reached, or fail it when CI=true."""
    try:
        return await new_database(server_url(), prefix, owner)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"postgresql: cannot create a database on the test server: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


async def drop_database(url: str, server: str | None = None) -> None:
    """Drop the database of url, from server (default: the test server)."""
    name = make_url(url).database
    await run_sql(server or server_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
