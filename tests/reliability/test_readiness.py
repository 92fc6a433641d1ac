"""Readiness after a deploy that did not migrate: /health/ready reports the missing tables and a
database behind the code's head revision; /health/live does not look at the database."""

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import Base
from app.db.readiness import code_revisions
from tests.migrating import FIRST, add_revision
from tests.reliability.support import MakeEngine, Serve

ASSETS = Path(__file__).resolve().parents[2] / "assets"
# the code's head: a second revision, added to a copy of the asset migrations
HEAD = "c0ffee000002"


@pytest.fixture
def alembic_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app finds the migrations as the alembic command does, here through $ALEMBIC_CONFIG:
    a copy of the asset migrations with a second revision."""
    shutil.copy(ASSETS / "alembic.ini", tmp_path / "alembic.ini")
    shutil.copytree(
        ASSETS / "migrations", tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    add_revision(tmp_path, HEAD)
    monkeypatch.setenv("ALEMBIC_CONFIG", str(tmp_path / "alembic.ini"))
    code_revisions.cache_clear()
    yield
    code_revisions.cache_clear()


async def prepare(url: str, *, tables: bool, revision: str | None) -> None:
    setup = create_async_engine(url)
    try:
        async with setup.begin() as conn:
            if tables:
                await conn.run_sync(Base.metadata.create_all)
            # None: no alembic_version table; "": the table, empty (downgraded to base)
            if revision is not None:
                await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            if revision:
                await conn.execute(text(f"INSERT INTO alembic_version VALUES ('{revision}')"))
    finally:
        await setup.dispose()


STATES = [
    pytest.param(False, None, 503, "missing tables: posts, users", id="not_migrated"),
    pytest.param(
        True, FIRST, 503, f"migrations behind: database at {FIRST}, code at {HEAD}", id="behind"
    ),
    pytest.param(
        True,
        "",
        503,
        f"migrations behind: database at no revision, code at {HEAD}",
        id="emptied_version_table",
    ),
    pytest.param(True, HEAD, 200, "ok", id="at_head"),
    # a rolling deploy migrated first: the old code keeps serving
    pytest.param(True, "f00dfeedbeef", 200, "ok", id="ahead_of_code"),
    # tables made by create_all, as the test fixtures make them: no revision to compare
    pytest.param(True, None, 200, "ok", id="no_version_table"),
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
