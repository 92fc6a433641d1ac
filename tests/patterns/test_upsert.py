"""Upserts: 201 then 200 from one function on both backends, identical concurrent requests,
and bulk upserts that keep updated_at and the version honest."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskapp.db import utc_now
from taskapp.upsert import upsert, upsert_many

from tests.patterns.models import Task
from tests.patterns.more_models import Memo
from tests.patterns.support import race_check_then_insert, require_backend


async def test_put_task_creates_then_updates(client: AsyncClient) -> None:
    first = await client.put("/tasks/by-slug/report", json={"title": "Report", "tags": ["a"]})
    assert first.status_code == 201, first.text
    second = await client.put(
        "/tasks/by-slug/report", json={"title": "Report v2", "status": "done", "tags": ["b"]}
    )
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["id"] == first.json()["id"]
    assert (body["title"], body["status"], body["tags"]) == ("Report v2", "done", ["b"])
    # the upsert's UPDATE bumped the version, so the ETag a client holds no longer matches
    assert second.headers["ETag"] != first.headers["ETag"]


async def test_put_task_identical_concurrent_requests(committing_client: AsyncClient) -> None:
    body = {"title": "Same", "tags": ["x"]}
    responses = await asyncio.gather(
        *(committing_client.put("/tasks/by-slug/same", json=body) for _ in range(12))
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [200] * 11 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({response.json()["id"] for response in responses}) == 1
    assert (await committing_client.get("/tasks")).json() == ["same"]


async def test_check_then_insert_upsert_races_into_integrity_error(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The naive upsert: SELECT by key, then INSERT when nothing was found."""
    await require_backend(
        maker, "postgresql", "sqlite: BEGIN IMMEDIATE serializes the two requests"
    )
    await race_check_then_insert(
        maker, select(Memo).where(Memo.slug == "m"), lambda: Memo(slug="m")
    )


async def test_upsert_returns_created_flag(session: AsyncSession) -> None:
    memo, created = await upsert(session, Memo, {"slug": "m", "counter": 1}, key=["slug"])
    assert created and memo.counter == 1
    memo, created = await upsert(session, Memo, {"slug": "m", "counter": 2}, key=["slug"])
    assert not created and memo.counter == 2
    assert await session.scalar(select(func.count()).select_from(Memo)) == 1


async def test_upsert_many_inserts_updates_and_moves_updated_at(session: AsyncSession) -> None:
    an_hour_ago = utc_now() - timedelta(hours=1)
    session.add(Memo(slug="old", counter=1, created_at=an_hour_ago, updated_at=an_hour_ago))
    await session.flush()
    rows = [
        {"slug": "old", "counter": 5},
        {"slug": "new", "counter": 1},
        # the same key twice in one batch: the last row wins
        {"slug": "new", "counter": 2},
    ]
    assert await upsert_many(session, Memo, rows, key=["slug"]) == 2
    session.expunge_all()
    memos = {m.slug: m for m in (await session.scalars(select(Memo))).all()}
    assert (memos["old"].counter, memos["new"].counter) == (5, 2)
    assert memos["old"].created_at == an_hour_ago
    assert memos["old"].updated_at > an_hour_ago


async def test_upsert_many_bumps_version(session: AsyncSession) -> None:
    live = Task.deleted_at.is_(None)
    await upsert_many(session, Task, [{"slug": "t", "title": "T"}], key=["slug"], where=live)
    await upsert_many(session, Task, [{"slug": "t", "title": "T2"}], key=["slug"], where=live)
    session.expunge_all()
    task = (await session.scalars(select(Task))).one()
    assert (task.title, task.version) == ("T2", 2)


async def test_upsert_on_partial_index_needs_its_where(session: AsyncSession) -> None:
    """ON CONFLICT (slug) alone names no unique constraint: the index is partial."""
    with pytest.raises(DBAPIError, match="ON CONFLICT|no unique or exclusion constraint"):
        async with session.begin_nested():
            await upsert(session, Task, {"slug": "t", "title": "T"}, key=["slug"])
    task, created = await upsert(
        session, Task, {"slug": "t", "title": "T"}, key=["slug"], where=Task.deleted_at.is_(None)
    )
    assert created


async def test_naive_bulk_upsert_fails_or_keeps_stale_updated_at(session: AsyncSession) -> None:
    """DO UPDATE written by hand: duplicate keys in one batch, and SET without updated_at."""
    an_hour_ago = utc_now() - timedelta(hours=1)
    session.add(Memo(slug="old", counter=1, created_at=an_hour_ago, updated_at=an_hour_ago))
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":
        insert = postgresql.insert
        twice = insert(Memo).values([{"slug": "x", "counter": 1}, {"slug": "x", "counter": 2}])
        twice = twice.on_conflict_do_update(
            index_elements=["slug"], set_={"counter": twice.excluded.counter}
        )
        with pytest.raises(DBAPIError, match="cannot affect row a second time"):
            async with session.begin_nested():
                await session.execute(twice)
    else:
        from sqlalchemy.dialects import sqlite

        insert = sqlite.insert  # type: ignore[assignment]  # the dialects' Insert share a shape
    stmt = insert(Memo).values([{"slug": "old", "counter": 9}])
    stmt = stmt.on_conflict_do_update(
        index_elements=["slug"], set_={"counter": stmt.excluded.counter}
    )
    await session.execute(stmt)
    session.expunge_all()
    memo = (await session.scalars(select(Memo))).one()
    # onupdate does not run for ON CONFLICT DO UPDATE: the row changed, updated_at did not
    assert (memo.counter, memo.updated_at) == (9, an_hour_ago)
