"""Shutdown: the app shuts down; what disposing the engine does, and what it does not."""

import asyncio
import importlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import app
from tests.reliability.support import MakeEngine, Serve, count_connections, server_dsn

ASSETS = Path(__file__).resolve().parents[2] / "assets"


@pytest.fixture
async def pg_server(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection | None]:
    """An admin connection to the PostgreSQL server, None on SQLite."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    conn = await asyncpg.connect(server_dsn(engine), timeout=5)
    yield conn
    await conn.close()


main_module = importlib.import_module("app.main")


async def test_lifespan_end_closes_every_connection(
    make_engine: MakeEngine,
    serve: Serve,
    pg_admin: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_engine = make_engine(db_pool_size=5)
    # the lifespan disposes the module's engine: make it this test's tagged one
    monkeypatch.setattr(main_module, "engine", app_engine)
    async with app.router.lifespan_context(app), serve(app_engine) as client:
        async with asyncio.timeout(30):
            responses = await asyncio.gather(*(client.get("/users") for _ in range(10)))
        assert {r.status_code for r in responses} == {200}
        open_while_running = await count_connections(pg_admin, app_engine)
    # a closed connection's backend exits a moment later: look again, a bounded number of times
    async with asyncio.timeout(10):
        for _ in range(1000):
            left = await count_connections(pg_admin, app_engine)
            if left == 0:
                break
    assert open_while_running >= 1
    assert left == 0


# one process that opens three pooled connections and exits, disposing the engine or not
EXITING_PROCESS = """
import asyncio, sys
from sqlalchemy import event, text
from app.db.config import DatabaseSettings
from app.db.engine import create_engine

url, name, dispose = sys.argv[1:4]
engine = create_engine(DatabaseSettings(database_url=url))
if engine.dialect.name == "postgresql":
    @event.listens_for(engine.sync_engine, "do_connect")
    def _tag(_dialect, _record, _cargs, cparams):
        cparams["server_settings"] = cparams.get("server_settings", {}) | {"application_name": name}

async def main():
    connections = [await engine.connect() for _ in range(3)]
    for connection in connections:
        await connection.execute(text("SELECT 1"))
        await connection.close()
    if dispose == "dispose":
        await engine.dispose()

asyncio.run(main())
"""
UNCLOSED = {
    "postgresql": "ResourceWarning: unclosed connection <asyncpg.connection.Connection",
    "sqlite": "was deleted before being closed",
}


@pytest.mark.parametrize("dispose", [False, True], ids=["exit_only", "dispose"])
async def test_process_exit_closes_server_side_with_or_without_dispose(
    engine: AsyncEngine, pg_server: asyncpg.Connection | None, dispose: bool
) -> None:
    """A process that exits closes its sockets: PostgreSQL sees end-of-file and its backends
    end at once, dispose or not. Without dispose the connections are left to the garbage
    collector after their event loop has closed, which warns."""
    name = f"exiting-{uuid.uuid4().hex[:8]}"
    url = engine.url.render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "always::ResourceWarning",
        "-c",
        EXITING_PROCESS,
        url,
        name,
        "dispose" if dispose else "exit",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ASSETS)},
    )
    async with asyncio.timeout(60):
        _out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert (UNCLOSED[engine.dialect.name] in err.decode()) is not dispose, err.decode()
    if pg_server is None:
        return
    async with asyncio.timeout(10):
        for _ in range(1000):
            left = await pg_server.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
            )
            if left == 0:
                break
    assert left == 0


async def test_lifespan_end_without_dispose_leaves_connections_open(
    make_engine: MakeEngine, serve: Serve, pg_admin: asyncpg.Connection
) -> None:
    """While the process lives on (tests, an app built per test, an embedding server), pooled
    connections stay open on the server until the engine is disposed."""
    app_engine = make_engine(db_pool_size=5)
    async with serve(app_engine) as client:
        async with asyncio.timeout(30):
            responses = await asyncio.gather(*(client.get("/users") for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    # the requests are over and nothing disposed the engine: its connections are still there
    assert await count_connections(pg_admin, app_engine) >= 1
    await app_engine.dispose()
    async with asyncio.timeout(10):
        for _ in range(1000):
            if await count_connections(pg_admin, app_engine) == 0:
                break
    assert await count_connections(pg_admin, app_engine) == 0
