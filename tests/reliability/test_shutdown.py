"""Fault 6: the app shuts down; the server must not keep its connections open."""

import asyncio
import importlib

import asyncpg
import pytest

from app.main import app
from tests.reliability.conftest import MakeEngine, Serve, count_connections

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
