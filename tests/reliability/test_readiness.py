"""Fault 15: a deploy that did not migrate. /health/ready reports the missing tables and a
database behind the code's head revision; /health/live does not look at the database."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import Base
from app.db.readiness import code_revisions
from tests.databases import create_database, drop_database
from tests.reliability.conftest import MakeEngine, Serve

ASSETS = Path(__file__).resolve().parents[2] / "assets"
HEAD = "edfeb0c041b3"


@pytest.fixture
async def own_database(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own on the backend of `engine`."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
        return
    url = await create_database("skill_ready")
    yield url
    await drop_database(url)


@pytest.fixture
def alembic_ini(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app finds the migrations as the alembic command does, here through $ALEMBIC_CONFIG."""
    monkeypatch.setenv("ALEMBIC_CONFIG", str(ASSETS / "alembic.ini"))
    code_revisions.cache_clear()
    yield
    code_revisions.cache_clear()


async def prepare(url: str, *, tables: bool, revision: str | None) -> None:
    setup = create_async_engine(url)
    try:
        async with setup.begin() as conn:
            if tables:
                await conn.run_sync(Base.metadata.create_all)
            if revision is not None:
                await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
                await conn.execute(text(f"INSERT INTO alembic_version VALUES ('{revision}')"))
    finally:
        await setup.dispose()


STATES = [
    pytest.param(
        False,
        None,
        503,
        f"missing tables: posts, users; migrations behind: database at no revision, code at {HEAD}",
        id="not_migrated",
    ),
    pytest.param(
        True,
        None,
        503,
        f"migrations behind: database at no revision, code at {HEAD}",
        id="no_revision",
    ),
    pytest.param(True, HEAD, 200, "ok", id="at_head"),
    # a rolling deploy migrated first: the old code keeps serving
    pytest.param(True, "f00dfeedbeef", 200, "ok", id="ahead_of_code"),
]


@pytest.mark.usefixtures("alembic_ini")
@pytest.mark.parametrize(("tables", "revision", "status", "database"), STATES)
async def test_health_ready_reports_schema_state(
    own_database: str,
    make_engine: MakeEngine,
    serve: Serve,
    tables: bool,
    revision: str | None,
    status: int,
    database: str,
) -> None:
    await prepare(own_database, tables=tables, revision=revision)
    async with serve(make_engine(database_url=own_database)) as client, asyncio.timeout(30):
        ready = await client.get("/health/ready")
        alias = await client.get("/health")
        live = await client.get("/health/live")
    assert ready.status_code == status
    assert ready.json()["database"] == database
    assert (alias.status_code, alias.json()) == (ready.status_code, ready.json())
    assert live.status_code == 200


async def test_health_ready_without_alembic_ini_checks_tables_only(
    own_database: str, make_engine: MakeEngine, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALEMBIC_CONFIG", str(ASSETS / "no-such.ini"))
    code_revisions.cache_clear()
    await prepare(own_database, tables=True, revision=None)
    try:
        async with serve(make_engine(database_url=own_database)) as client:
            ready = await client.get("/health/ready")
    finally:
        code_revisions.cache_clear()
    assert ready.status_code == 200


async def test_health_ready_takes_no_write_lock_on_sqlite(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve
) -> None:
    app_engine = make_engine(db_sqlite_busy_timeout=0.1)
    async with serve(app_engine) as client:
        # a writer holds SQLite's write lock (BEGIN IMMEDIATE) for as long as it likes
        async with app_engine.begin() as writer:
            await writer.execute(text("DELETE FROM posts"))
            ready = await client.get("/health/ready")
    assert ready.status_code == 200
