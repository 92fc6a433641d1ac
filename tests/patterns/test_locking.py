"""Concurrent writers: ETag / If-Match with a version column against the lost update, and
SELECT ... FOR UPDATE where it has effect (PostgreSQL), with SQLite's write lock instead."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm.exc import StaleDataError
from taskapp.locking import get_for_update

from tests.patterns.models import Task
from tests.patterns.more_models import Memo
from tests.patterns.support import require_backend


async def test_patch_task_etag_if_match_flow(client: AsyncClient) -> None:
    created = await client.post("/tasks", json={"slug": "e", "title": "E"})
    url, tag = f"/tasks/{created.json()['id']}", created.headers["ETag"]
    assert tag == '"1"'
    assert (await client.get(url)).headers["ETag"] == tag
    missing = await client.patch(url, json={"title": "E2"})
    assert missing.status_code == 428
    wrong = await client.patch(url, json={"title": "E2"}, headers={"If-Match": '"7"'})
    assert wrong.status_code == 412
    ok = await client.patch(url, json={"title": "E2"}, headers={"If-Match": tag})
    assert (ok.status_code, ok.headers["ETag"], ok.json()["title"]) == (200, '"2"', "E2")
    # the client that still holds version 1 cannot overwrite version 2
    stale = await client.patch(url, json={"title": "E3"}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert (await client.get(url)).json()["title"] == "E2"


async def test_patch_task_concurrent_same_version_one_wins(
    committing_client: AsyncClient,
) -> None:
    created = (await committing_client.post("/tasks", json={"slug": "c", "title": "C"})).json()
    url = f"/tasks/{created['id']}"
    bodies = [{"details": {"editor": n}} for n in range(8)]
    responses = await asyncio.gather(
        *(committing_client.patch(url, json=b, headers={"If-Match": '"1"'}) for b in bodies)
    )
    codes = sorted(response.status_code for response in responses)
    assert codes == [200] + [412] * 7, [r.text for r in responses]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    stored = (await committing_client.get(url)).json()
    assert (stored["details"], stored["version"]) == (winner["details"], 2)


async def read(maker: async_sessionmaker[AsyncSession], model: type[Task] | type[Memo]) -> Any:
    """A GET: one transaction that reads the row and ends."""
    async with maker() as session, session.begin():
        return (await session.scalars(select(model))).one()


async def write(maker: async_sessionmaker[AsyncSession], row: object) -> None:
    """A PATCH that writes back the client's edited copy, in a transaction of its own."""
    async with maker() as session, session.begin():
        # the detached copy keeps its changes and the version it was read at
        session.add(row)


async def test_read_modify_write_without_version_loses_update(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The naive PATCH: both clients read the same row, the second write erases the first."""
    async with maker() as session, session.begin():
        session.add(Memo(slug="m", details={"tags": []}))
    mine, theirs = await read(maker, Memo), await read(maker, Memo)
    # each client appends to the list it read and sends the whole value back
    mine.details = {"tags": [*mine.details["tags"], "mine"]}
    await write(maker, mine)
    theirs.details = {"tags": [*theirs.details["tags"], "theirs"]}
    await write(maker, theirs)
    assert (await read(maker, Memo)).details == {"tags": ["theirs"]}


async def test_versioned_update_of_stale_row_raises(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        session.add(Task(slug="v", title="V"))
    mine, theirs = await read(maker, Task), await read(maker, Task)
    mine.title = "mine"
    await write(maker, mine)
    theirs.title = "theirs"
    # UPDATE ... WHERE version = 1 matched nothing: the row is at version 2
    with pytest.raises(StaleDataError):
        await write(maker, theirs)
    stored = await read(maker, Task)
    assert (stored.title, stored.version) == ("mine", 2)


async def test_get_for_update_holds_the_row_on_postgresql(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        session.add(Memo(slug="m"))
    await require_backend(maker, "postgresql", "sqlite: no row locks; see the write-lock test")
    async with maker() as holder, maker() as other:
        memo = await holder.scalar(select(Memo))
        assert memo is not None
        # a plain SELECT takes no lock: another transaction can lock the row at once
        nowait = select(Memo).with_for_update(nowait=True)
        assert await other.scalar(nowait) is not None
        await other.rollback()

        locked = await get_for_update(holder, Memo, memo.id)
        assert locked is memo
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await other.scalar(nowait)
        await other.rollback()
        await holder.commit()
        assert await other.scalar(nowait) is not None


async def test_increment_with_for_update_loses_nothing(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        session.add(Memo(slug="m"))
        await session.flush()

    async def increment() -> None:
        async with maker() as session, session.begin():
            memo = await session.scalar(select(Memo))
            assert memo is not None
            memo = await get_for_update(session, Memo, memo.id)
            assert memo is not None
            memo.counter += 1

    await asyncio.gather(*(increment() for _ in range(10)))
    async with maker() as session:
        assert await session.scalar(select(Memo.counter)) == 10


async def test_increment_without_lock_loses_updates_on_postgresql(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session, session.begin():
        session.add(Memo(slug="m"))
    await require_backend(
        maker, "postgresql", "sqlite: BEGIN IMMEDIATE serializes the two transactions"
    )
    first, second = maker(), maker()
    async with first, second:
        mine = await first.scalar(select(Memo))
        theirs = await second.scalar(select(Memo))
        assert mine is not None and theirs is not None
        mine.counter += 1
        await first.commit()
        theirs.counter += 1
        await second.commit()
    async with maker() as session:
        assert await session.scalar(select(Memo.counter)) == 1


async def test_for_update_renders_nothing_on_sqlite_where_the_write_lock_holds(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as holder:
        engine = holder.get_bind()
        if engine.dialect.name != "sqlite":
            pytest.skip("postgresql: row locks, tested above")
        sql = str(select(Memo).with_for_update().compile(dialect=engine.dialect))
        assert "FOR UPDATE" not in sql
        async with holder.begin():
            await holder.scalar(select(Memo))
            # the app's engine began with BEGIN IMMEDIATE: no other writer can start, and one
            # that will not wait (timeout 0) is refused at once
            other = create_async_engine(str(engine.engine.url), connect_args={"timeout": 0})
            try:
                async with other.connect() as conn:
                    with pytest.raises(OperationalError, match="database is locked"):
                        await conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                await other.dispose()


async def test_increment_without_lock_is_serialized_on_sqlite(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """SQLite's answer to FOR UPDATE: BEGIN IMMEDIATE queues whole transactions."""
    async with maker() as session, session.begin():
        session.add(Memo(slug="m"))
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("postgresql: without a lock the reads interleave (test above)")

    async def increment() -> None:
        async with maker() as session, session.begin():
            memo = await session.scalar(select(Memo))
            assert memo is not None
            memo.counter += 1

    await asyncio.gather(*(increment() for _ in range(10)))
    async with maker() as session:
        assert await session.scalar(select(Memo.counter)) == 10
