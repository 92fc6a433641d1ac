"""Pool exhaustion: slow requests hold every pooled connection; the next request must not hang."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import get_read_session
from app.main import app
from tests.reliability.support import MakeEngine, Serve


async def test_read_users_answers_503_while_pool_exhausted(
    engine: AsyncEngine, make_engine: MakeEngine, serve: Serve
) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("sqlite: create_engine keeps SQLAlchemy's default pool for a file database")
    small = make_engine(db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.5)
    factory = async_sessionmaker(small, expire_on_commit=False)
    holding, release = asyncio.Event(), asyncio.Event()

    async def holding_session(request: Request) -> AsyncIterator[AsyncSession]:
        async with factory() as session, session.begin():
            if "x-hold" in request.headers:
                # check a connection out and keep it, like a slow handler would
                await session.connection()
                holding.set()
                await release.wait()
            yield session

    app.dependency_overrides[get_read_session] = holding_session
    try:
        async with serve(small) as client:
            holder = asyncio.create_task(client.get("/users", headers={"x-hold": "1"}))
            async with asyncio.timeout(5):
                await holding.wait()
            assert small.pool.checkedout() == 1  # type: ignore[attr-defined]
            # pool_timeout is 0.5 s: the bound only proves the request does not hang
            async with asyncio.timeout(5):
                blocked = await client.get("/users")
                health = await client.get("/health")
            release.set()
            async with asyncio.timeout(5):
                held = await holder
                after = await client.get("/users")
    finally:
        release.set()
        app.dependency_overrides.pop(get_read_session, None)
    assert blocked.status_code == 503
    assert blocked.headers["Retry-After"] == "1"
    assert blocked.json() == {"detail": "Database busy, retry shortly"}
    assert health.status_code == 503
    assert held.status_code == 200
    assert after.status_code == 200
    assert small.pool.checkedout() == 0  # type: ignore[attr-defined]
