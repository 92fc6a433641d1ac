"""Tags shared across tasks: get-or-create under concurrency, replacing a lazy="raise"
collection, updated_at after a tags-only change, filtering with any(), an association object."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from taskapp.db import utc_now
from taskapp.tags import Tag, get_or_create_tags, set_tags

from tests.patterns.models import Task
from tests.patterns.more_models import Assignment, Person
from tests.patterns.support import race_check_then_insert, require_backend

NAMES = ["backend", "bug", "urgent"]


async def test_get_or_create_tags_under_concurrency(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async def create(names: list[str]) -> list[str]:
        async with maker() as session, session.begin():
            return sorted(tag.name for tag in await get_or_create_tags(session, names))

    # overlapping sets in different orders, ten at once
    sets = [NAMES, NAMES[::-1], NAMES[:2], NAMES[1:], ["urgent", "backend"]] * 2
    results = await asyncio.gather(*(create(names) for names in sets))
    assert results == [sorted(names) for names in sets]
    async with maker() as session:
        rows = (await session.scalars(select(Tag.name).order_by(Tag.name))).all()
    assert rows == NAMES


async def test_check_then_insert_tags_races_into_integrity_error(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    """The naive get-or-create: SELECT the names, INSERT the missing ones."""
    await require_backend(
        maker,
        "postgresql",
        "sqlite: BEGIN IMMEDIATE runs one writing transaction at a time, so the check and the "
        "insert of two requests cannot interleave",
    )
    await race_check_then_insert(
        maker, select(Tag).where(Tag.name == "bug"), lambda: Tag(name="bug")
    )


async def test_replace_unloaded_lazy_raise_collection_raises(session: AsyncSession) -> None:
    session.add(Task(slug="t", title="T", tags=[]))
    await session.commit()
    session.expunge_all()
    task = (await session.scalars(select(Task))).one()
    with pytest.raises(InvalidRequestError, match="lazy='raise'"):
        task.tags = await get_or_create_tags(session, ["bug"])
    await session.rollback()

    task = (await session.scalars(select(Task).options(selectinload(Task.tags)))).one()
    task.tags = await get_or_create_tags(session, ["bug"])
    await session.commit()
    assert [tag.name for tag in task.tags] == ["bug"]


async def test_tags_only_change_moves_updated_at(session: AsyncSession) -> None:
    an_hour_ago = utc_now() - timedelta(hours=1)
    task = Task(slug="t", title="T", tags=[], created_at=an_hour_ago, updated_at=an_hour_ago)
    session.add(task)
    await session.commit()

    # the naive change: the link table gets a row, the task's own row no UPDATE
    task.tags = await get_or_create_tags(session, ["bug"])
    await session.commit()
    assert task.updated_at == an_hour_ago
    assert task.version == 1

    await set_tags(session, task, ["bug", "urgent"])
    await session.commit()
    assert task.updated_at > an_hour_ago
    assert task.version == 2
    session.expunge_all()
    stmt = select(Task).options(selectinload(Task.tags))
    stored = (await session.scalars(stmt)).one()
    assert sorted(tag.name for tag in stored.tags) == ["bug", "urgent"]
    assert stored.updated_at == task.updated_at


async def test_read_tasks_filtered_by_tag(client: AsyncClient) -> None:
    for slug, tags in [("a", ["bug"]), ("b", ["bug", "ui"]), ("c", ["ui"]), ("d", [])]:
        body = {"slug": slug, "title": slug, "tags": tags}
        assert (await client.post("/tasks", json=body)).status_code == 201
    # any() is EXISTS (SELECT 1 FROM task_tags JOIN tags ...): one row per task, no duplicates
    assert (await client.get("/tasks", params={"tag": "bug"})).json() == ["a", "b"]
    assert (await client.get("/tasks", params={"tag": "ui"})).json() == ["b", "c"]
    assert (await client.get("/tasks")).json() == ["a", "b", "c", "d"]
    body = {"slug": "e", "title": "e", "tags": ["ui", "bug", "ui"]}
    created = (await client.post("/tasks", json=body)).json()
    assert created["tags"] == ["bug", "ui"]


async def test_association_object_carries_its_own_columns(session: AsyncSession) -> None:
    task, ada = Task(slug="t", title="T"), Person(name="Ada")
    session.add_all([task, ada])
    await session.flush()
    session.add(Assignment(task_id=task.id, person_id=ada.id, role="owner", assigned_at=utc_now()))
    await session.commit()
    session.expunge_all()
    stmt = select(Assignment).options(
        selectinload(Assignment.task), selectinload(Assignment.person)
    )
    link = (await session.scalars(stmt)).one()
    assert (link.task.slug, link.person.name, link.role) == ("t", "Ada", "owner")
    # one person, one role per task: the pair is the primary key
    session.expunge_all()
    session.add(
        Assignment(task_id=task.id, person_id=ada.id, role="reviewer", assigned_at=utc_now())
    )
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Assignment)) == 1


async def test_multi_row_insert_calls_the_uuid_default_per_row(session: AsyncSession) -> None:
    """get_or_create_tags' one INSERT of many rows, on a UUID-keyed model: a key for each row."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"slug": f"s{i}", "title": "t"} for i in range(3)]
    await session.execute(insert(Task).values(rows).on_conflict_do_nothing())
    keys = (await session.scalars(select(Task.id).where(Task.slug.in_(["s0", "s1", "s2"])))).all()
    assert len(set(keys)) == 3
    assert {key.version for key in keys} == {7}
