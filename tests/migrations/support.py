"""Shared by tests/migrations and tests/scripts: project copies, empty databases, alembic runs."""

import asyncio
import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic.config import Config
from sqlalchemy import inspect, pool
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
CHECK_MIGRATIONS = ROOT / "scripts" / "check_migrations.py"
DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]


def server_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_SERVER_URL


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_sql(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn(url), timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(owner: str | None = None) -> str:
    """Create an empty database on the test server; return its URL. Skips (or fails in CI)."""
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    owned = f' OWNER "{owner}"' if owner else ""
    try:
        await run_sql(server_url(), f'CREATE DATABASE "{name}"{owned}')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"postgresql: cannot create a database on the test server: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    name = make_url(url).database
    await run_sql(server_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def migration_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    url = await create_database()
    yield url
    await drop_database(url)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the asset project (app/, alembic.ini, migrations/) that a test may change."""
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ASSETS / "app", root / "app", ignore=ignore)
    shutil.copytree(ASSETS / "migrations", root / "migrations", ignore=ignore)
    shutil.copy(ASSETS / "alembic.ini", root / "alembic.ini")
    return root


def alembic_config(project: Path) -> Config:
    """The project's Alembic config, for commands run in this process (the asset app is
    already imported here, so only unchanged copies of it can run this way)."""
    return Config(str(project / "alembic.ini"), stdout=io.StringIO())


def alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the alembic command line in the project folder, as a user would, on url."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_migrations(
    project: Path, url: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run scripts/check_migrations.py in a fresh interpreter, which imports this project's app."""
    return subprocess.run(
        [sys.executable, str(CHECK_MIGRATIONS), str(project), "--url", url, *args],
        cwd=cwd or project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tables(url: str) -> set[str]:
    """table_names for synchronous tests (no event loop is running in them)."""
    return asyncio.run(table_names(url))


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
