"""Soft delete: 404 after delete, twice, and for PATCH; slugs free again; the global filter
against an explicit WHERE, and where neither helps."""

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from taskapp.db import utc_now
from taskapp.soft_delete import INCLUDE_DELETED, soft_delete

from tests.patterns.models import Task
from tests.patterns.more_models import Assignment, Memo, Person


async def test_delete_task_then_read_patch_delete_are_404(client: AsyncClient) -> None:
    created = (await client.post("/tasks", json={"slug": "gone", "title": "Gone"})).json()
    url = f"/tasks/{created['id']}"
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    patch = await client.patch(url, json={"title": "Back"}, headers={"If-Match": '"1"'})
    assert patch.status_code == 404
    assert (await client.get("/tasks")).json() == []


async def test_create_task_reuses_slug_of_deleted_task(client: AsyncClient) -> None:
    first = (await client.post("/tasks", json={"slug": "s", "title": "First"})).json()
    # while the first is live, the slug is taken
    assert (await client.post("/tasks", json={"slug": "s", "title": "Dup"})).status_code == 409
    await client.delete(f"/tasks/{first['id']}")
    second = await client.post("/tasks", json={"slug": "s", "title": "Second"})
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    # and PUT by slug updates the live task, never the deleted one
    put = await client.put("/tasks/by-slug/s", json={"title": "Third"})
    assert (put.status_code, put.json()["id"]) == (200, second.json()["id"])


async def test_plain_unique_constraint_blocks_slug_of_deleted_row(session: AsyncSession) -> None:
    """The naive form: deleted_at set by hand on a table whose slug is plainly unique."""
    session.add(Memo(slug="s", deleted_at=utc_now()))
    await session.flush()
    session.add(Memo(slug="s"))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_global_filter_hides_deleted_rows_in_relationship_loads(
    session: AsyncSession,
) -> None:
    task, ada = Task(slug="t", title="T"), Person(name="Ada")
    session.add_all([task, ada])
    await session.flush()
    session.add(Assignment(task_id=task.id, person_id=ada.id, role="owner", assigned_at=utc_now()))
    await session.flush()
    assert await soft_delete(session, Task, task.id)
    session.expunge_all()

    stmt = select(Assignment).options(selectinload(Assignment.task))
    assert (await session.scalars(stmt)).one().task is None
    # an explicit WHERE on the main query only would still load the deleted task here
    session.expunge_all()
    every = stmt.execution_options(**{INCLUDE_DELETED: True})
    assert (await session.scalars(every)).one().task is not None


async def test_include_deleted_option_sees_deleted_rows(session: AsyncSession) -> None:
    session.add_all([Task(slug="live", title="L"), Task(slug="dead", title="D")])
    await session.flush()
    dead = await session.scalar(select(Task).where(Task.slug == "dead"))
    assert dead is not None
    assert await soft_delete(session, Task, dead.id)
    assert not await soft_delete(session, Task, dead.id)
    slugs = select(Task.slug).order_by(Task.slug)
    assert (await session.scalars(slugs)).all() == ["live"]
    every = slugs.execution_options(**{INCLUDE_DELETED: True})
    assert (await session.scalars(every)).all() == ["dead", "live"]


async def test_session_get_returns_deleted_object_already_in_session(
    session: AsyncSession,
) -> None:
    """get() answers from the identity map without a query, so no filter runs."""
    session.add(Task(slug="t", title="T"))
    await session.flush()
    session.expunge_all()
    task = (await session.scalars(select(Task))).one()
    assert await soft_delete(session, Task, task.id)
    in_session = await session.get(Task, task.id)
    assert in_session is task and task.deleted_at is not None
    session.expunge_all()
    assert await session.get(Task, task.id) is None
