"""SQLite concurrency: readers and writers at the same time. On SQLite the asset engine runs in WAL
mode, read sessions begin DEFERRED (no lock) and write sessions BEGIN IMMEDIATE, so readers never
wait for a writer and writers queue on the busy timeout instead of failing."""

import asyncio
import importlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, insert, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.db import Base
from app.db.engine import for_reads
from app.errors import DATABASE_BUSY
from app.models import User
from tests.reliability.designs import rollback_journal_engine
from tests.reliability.support import MakeEngine, Serve

session_module = importlib.import_module("app.db.session")

HANG = 30
READERS = 20
NEW_USER = {"email": "reader@example.com", "name": "Reader", "password": "long-enough"}


async def test_read_users_while_write_transaction_held_all_succeed(
    make_engine: MakeEngine, serve: Serve
) -> None:
    app_engine = make_engine(db_sqlite_busy_timeout=0.1)
    async with serve(app_engine) as client:
        assert (await client.post("/users", json=NEW_USER)).status_code == 201
        # on SQLite, BEGIN IMMEDIATE: this transaction holds the write lock throughout
        async with app_engine.begin() as writer:
            await writer.execute(
                insert(User).values(email="open@example.com", name="Open", hashed_password="x")
            )
            async with asyncio.timeout(HANG):
                responses = await asyncio.gather(*(client.get("/users") for _ in range(READERS)))
            # every read has answered while the write transaction is still open
            assert writer.in_transaction()
    assert [r.status_code for r in responses] == [200] * READERS
    # each saw the last commit, without the open transaction's row
    assert {r.json()["count"] for r in responses} == {1}


async def test_read_users_while_write_held_fail_when_reads_take_the_write_lock(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: readers never take a write lock")
    app_engine = make_engine(db_sqlite_busy_timeout=0.1)
    async with serve(app_engine) as client:
        # wrong: read sessions begin like write sessions, with BEGIN IMMEDIATE
        writes = async_sessionmaker(app_engine, expire_on_commit=False)
        monkeypatch.setattr(session_module, "read_session_factory", writes)
        async with app_engine.begin() as writer:
            await writer.execute(text("DELETE FROM posts"))
            async with asyncio.timeout(HANG):
                responses = await asyncio.gather(*(client.get("/users") for _ in range(READERS)))
    # each waited out the busy timeout for the lock the writer held
    assert [r.status_code for r in responses] == [503] * READERS
    assert {r.json()["detail"] for r in responses} == {DATABASE_BUSY}


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rollback_journal"])
async def test_create_user_while_read_transaction_open(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve, tmp_path: Path, wal: bool
) -> None:
    """With the rollback journal a commit needs every reader gone; with WAL it does not."""
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: a commit never waits for readers")
    path = tmp_path / "journal.db"
    if wal:
        app_engine = make_engine(
            database_url=f"sqlite+aiosqlite:///{path}", db_sqlite_busy_timeout=0.1
        )
    else:
        app_engine = rollback_journal_engine(path, busy_timeout_ms=100)
    try:
        async with app_engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        assert mode == ("wal" if wal else "delete")
        async with serve(app_engine) as client:
            reads = app_engine.execution_options(sqlite_begin="DEFERRED")
            async with reads.connect() as reader:
                # a read transaction in progress, as a slow GET holds one
                await reader.execute(text("SELECT count(*) FROM users"))
                async with asyncio.timeout(HANG):
                    created = await client.post("/users", json=NEW_USER)
                assert reader.in_transaction()
    finally:
        await app_engine.dispose()
    assert created.status_code == (201 if wal else 503)


async def test_create_and_read_users_concurrently_all_succeed(
    committing_client: AsyncClient,
) -> None:
    writes = [
        committing_client.post("/users", json=NEW_USER | {"email": f"w{i}@example.com"})
        for i in range(READERS)
    ]
    reads = [committing_client.get("/users") for _ in range(READERS)]
    async with asyncio.timeout(HANG):
        responses = await asyncio.gather(
            *(item for pair in zip(writes, reads, strict=True) for item in pair)
        )
    assert sorted({r.status_code for r in responses}) == [200, 201]
    assert [r.status_code for r in responses[::2]] == [201] * READERS
    final = await committing_client.get("/users", params={"limit": 100})
    assert final.json()["count"] == READERS


async def test_sqlite_connections_use_wal_and_a_busy_timeout(make_engine: MakeEngine) -> None:
    app_engine = make_engine(db_sqlite_busy_timeout=2.5)
    if app_engine.dialect.name != "sqlite":
        pytest.skip(f"{app_engine.dialect.name}: PRAGMAs are SQLite's")
    async with app_engine.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
        }
    # synchronous 1 is NORMAL
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 2500,
        "synchronous": 1,
        "foreign_keys": 1,
    }


async def test_client_fixture_reads_its_own_writes_and_rolls_them_back(
    client: AsyncClient, engine: AsyncEngine
) -> None:
    """The savepoint-isolated client: read and write sessions share the test's connection, so
    a GET sees the POST before it, and the outer transaction undoes both."""
    created = (await client.post("/users", json=NEW_USER)).json()
    assert (await client.get(f"/users/{created['id']}")).status_code == 200
    # another connection reads without waiting: on SQLite the test's transaction holds the
    # write lock, and WAL lets a reader past it; it does not see the uncommitted row
    async with engine.execution_options(sqlite_begin="DEFERRED").connect() as other:
        count = (await other.execute(text("SELECT count(*) FROM users"))).scalar_one()
    assert count == 0


async def test_backup_of_wal_database_needs_vacuum_into_not_a_file_copy(
    engine: AsyncEngine, make_engine: MakeEngine, tmp_path: Path
) -> None:
    """A commit sits in live.db-wal until a checkpoint: copying live.db alone loses it."""
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: WAL files are SQLite's")
    path = tmp_path / "live.db"
    app_engine = make_engine(database_url=f"sqlite+aiosqlite:///{path}")
    async with app_engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with app_engine.begin() as conn:
        await conn.execute(
            insert(User).values(email="kept@example.com", name="Kept", hashed_password="x")
        )
    # wrong: a file copy while the app runs
    (tmp_path / "copied.db").write_bytes(path.read_bytes())
    # VACUUM INTO (or the online backup API) reads through SQLite, the -wal file included
    with closing(sqlite3.connect(path)) as backup_source:
        backup_source.execute(f"VACUUM INTO '{tmp_path / 'vacuumed.db'}'")
    assert users_in(tmp_path / "copied.db") is None
    assert users_in(tmp_path / "vacuumed.db") == 1


def users_in(path: Path) -> int | None:
    """Rows in the users table of the database file at path; None without that table."""
    with closing(sqlite3.connect(path)) as conn:
        found = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'users'")
        if found.fetchone()[0] == 0:
            return None
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


async def test_read_transaction_that_writes_after_another_commit_fails_at_once(
    engine: AsyncEngine, make_engine: MakeEngine
) -> None:
    """Why a handler that reads and then writes takes SessionDep: a DEFERRED transaction that
    has read cannot write once another writer has committed (WAL's SQLITE_BUSY_SNAPSHOT),
    however long the busy timeout."""
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: no write lock to upgrade to")
    app_engine = make_engine(db_sqlite_busy_timeout=5)
    user = {"name": "Snap", "hashed_password": "x"}
    try:
        async with for_reads(app_engine).connect() as reader:
            await reader.execute(text("SELECT count(*) FROM users"))
            async with app_engine.begin() as writer:
                await writer.execute(insert(User).values(email="first@example.com", **user))
            with pytest.raises(OperationalError) as raised:
                await reader.execute(insert(User).values(email="second@example.com", **user))
    finally:
        async with app_engine.begin() as conn:
            await conn.execute(delete(User))
    assert raised.value.orig.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"  # type: ignore[union-attr]
