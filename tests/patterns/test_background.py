"""Sessions outside a request: a background task with a session of its own, the one that
borrows the request's and loses its write, and asyncio.gather on one session."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import BackgroundTasks, FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from taskapp import background
from taskapp.background import gather_in_sessions, run_in_session, run_script
from taskapp.db import SessionDep
from taskapp.db.config import DatabaseSettings
from taskapp.db.engine import create_engine

from tests.patterns.more_models import Memo
from tests.patterns.support import serve


@pytest.fixture
def own_sessions(
    maker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """background.py's session_factory, pointed at the test database."""
    monkeypatch.setattr(background, "session_factory", maker)
    yield


async def count_memos(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        return await session.scalar(select(func.count()).select_from(Memo)) or 0


def memo_app() -> FastAPI:
    app = FastAPI()

    async def add_memo(session: AsyncSession, slug: str) -> None:
        session.add(Memo(slug=slug))
        await session.flush()

    @app.post("/naive", status_code=202)
    async def naive(session: SessionDep, tasks: BackgroundTasks) -> None:
        # the request's session: closed, and its transaction committed, before this runs
        tasks.add_task(add_memo, session, "naive")
        app.state.borrowed = session

    @app.post("/taught", status_code=202)
    async def taught(tasks: BackgroundTasks) -> None:
        tasks.add_task(run_in_session, lambda session: add_memo(session, "taught"))

    return app


@pytest.fixture
async def memo(
    maker: async_sessionmaker[AsyncSession], own_sessions: None
) -> AsyncIterator[tuple[AsyncClient, FastAPI]]:
    app = memo_app()
    async with serve(app, maker) as client:
        yield client, app


async def test_background_task_with_request_session_loses_its_write(
    memo: tuple[AsyncClient, FastAPI], maker: async_sessionmaker[AsyncSession]
) -> None:
    client, app = memo
    response = await client.post("/naive")
    assert response.status_code == 202
    # the task ran (the ASGI call ends after it) and flushed: the closed session began a new
    # transaction, on a connection of its own, that nothing commits or returns to the pool
    borrowed: AsyncSession = app.state.borrowed
    assert borrowed.in_transaction()
    # closing it, as garbage collection eventually would, rolls the write back
    await borrowed.close()
    assert await count_memos(maker) == 0


async def test_background_task_with_own_session_commits(
    memo: tuple[AsyncClient, FastAPI], maker: async_sessionmaker[AsyncSession]
) -> None:
    client, _app = memo
    response = await client.post("/taught")
    assert response.status_code == 202
    assert await count_memos(maker) == 1


async def test_run_in_session_rolls_back_when_work_raises(
    own_sessions: None, maker: async_sessionmaker[AsyncSession]
) -> None:
    async def fail(session: AsyncSession) -> None:
        session.add(Memo(slug="x"))
        await session.flush()
        raise RuntimeError("the job failed")

    with pytest.raises(RuntimeError):
        await run_in_session(fail)
    assert await count_memos(maker) == 0


async def test_gather_on_one_session_raises(maker: async_sessionmaker[AsyncSession]) -> None:
    # an empty pool: the session's first statement must open a connection
    await maker.kw["bind"].dispose()
    async with maker() as session:
        queries = [session.execute(select(func.count()).select_from(Memo)) for _ in range(3)]
        results = await asyncio.gather(*queries, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    # the first statement is still provisioning the session's connection when the others start
    assert len(errors) == 2
    assert all("concurrent operations are not permitted" in str(e) for e in errors), errors


async def test_gather_on_one_session_with_an_idle_connection_queues(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """No I/O to provision (an idle pooled connection, no ping, no BEGIN sent): SQLAlchemy's
    driver adapters queue the statements on one lock, so they run one after another."""
    engine = create_async_engine(maker.kw["bind"].url)
    try:
        async with engine.connect() as warm:
            await warm.execute(select(1))
        async with AsyncSession(engine) as session:
            results = await asyncio.gather(
                *(session.execute(select(func.count()).select_from(Memo)) for _ in range(3))
            )
        assert [result.scalar() for result in results] == [0, 0, 0]
    finally:
        await engine.dispose()


async def test_gather_in_sessions_runs_queries_concurrently(
    own_sessions: None, maker: async_sessionmaker[AsyncSession]
) -> None:
    async with maker() as session, session.begin():
        session.add_all([Memo(slug="a", counter=1), Memo(slug="b", counter=2)])

    async def total(session: AsyncSession) -> int:
        return await session.scalar(select(func.sum(Memo.counter))) or 0

    async def count(session: AsyncSession) -> int:
        return await session.scalar(select(func.count()).select_from(Memo)) or 0

    assert await gather_in_sessions(total, count) == [3, 2]


def test_run_script_disposes_the_engine(
    pattern_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a sync test: run_script starts its own event loop, as a script's entry point does
    url = pattern_engine.url.render_as_string(hide_password=False)
    engine = create_engine(DatabaseSettings(database_url=url))
    monkeypatch.setattr(background, "engine", engine)
    monkeypatch.setattr(background, "session_factory", async_sessionmaker(engine))

    async def main() -> int:
        return await run_in_session(lambda s: s.scalar(select(func.count()).select_from(Memo)))  # type: ignore[no-any-return]

    assert run_script(main) == 0
    # dispose() closed the pool's connections inside the script's own loop
    assert engine.pool.checkedin() == 0
