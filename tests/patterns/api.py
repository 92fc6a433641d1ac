"""The second example's routes, as a user's api/routes/tasks.py would combine the patterns."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from taskapp.db import SessionDep
from taskapp.errors import add_error_handlers
from taskapp.json_columns import JSONObject
from taskapp.keys import UUIDPath
from taskapp.locking import VERSION_MISMATCH, IfMatch, check_if_match, etag
from taskapp.soft_delete import soft_delete
from taskapp.tags import Tag, get_or_create_tags, set_tags
from taskapp.upsert import upsert

from tests.patterns.models import Task, TaskStatus

TASK_NOT_FOUND = "Task not found"
SLUG_TAKEN = "A task with this slug already exists"

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,100}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TagName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,50}$")]


class TaskPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    status: TaskStatus = TaskStatus.TODO
    details: JSONObject = {}
    tags: list[TagName] = []


class TaskCreate(TaskPut):
    slug: Slug


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    status: TaskStatus | None = None
    details: JSONObject | None = None
    tags: list[TagName] | None = None


class TaskPublic(BaseModel):
    id: uuid.UUID
    slug: str
    title: str
    status: TaskStatus
    details: JSONObject
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


def public(task: Task, response: Response) -> TaskPublic:
    response.headers["ETag"] = etag(task.version)
    return TaskPublic(
        id=task.id,
        slug=task.slug,
        title=task.title,
        status=task.status,
        details=task.details,
        tags=sorted(tag.name for tag in task.tags),
        version=task.version,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


async def load_task(session: SessionDep, task_id: uuid.UUID) -> Task:
    stmt = select(Task).where(Task.id == task_id).options(selectinload(Task.tags))
    task = await session.scalar(stmt)
    if task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, TASK_NOT_FOUND)
    return task  # type: ignore[no-any-return]


router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_task(session: SessionDep, task_in: TaskCreate, response: Response) -> TaskPublic:
    tags = await get_or_create_tags(session, task_in.tags)
    task = Task(**task_in.model_dump(exclude={"tags"}), tags=tags)
    session.add(task)
    try:
        await session.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, SLUG_TAKEN) from None
    return public(task, response)


@router.put("/by-slug/{slug}")
async def put_task(
    session: SessionDep, slug: Slug, task_in: TaskPut, response: Response
) -> TaskPublic:
    values = task_in.model_dump(exclude={"tags"}) | {"slug": slug}
    task, created = await upsert(
        session, Task, values, key=["slug"], where=Task.deleted_at.is_(None)
    )
    task = await load_task(session, task.id)
    await set_tags(session, task, task_in.tags)
    await session.flush()
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return public(task, response)


@router.get("")
async def read_tasks(
    session: SessionDep, tag: Annotated[TagName | None, Query()] = None
) -> list[str]:
    stmt = select(Task.slug).order_by(Task.slug)
    if tag is not None:
        stmt = stmt.where(Task.tags.any(Tag.name == tag))
    return list((await session.scalars(stmt)).all())


@router.get("/{task_id}")
async def read_task(session: SessionDep, task_id: UUIDPath, response: Response) -> TaskPublic:
    return public(await load_task(session, task_id), response)


@router.patch("/{task_id}")
async def update_task(
    session: SessionDep,
    task_id: UUIDPath,
    task_in: TaskUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    task = await load_task(session, task_id)
    check_if_match(if_match, task.version)
    changes = task_in.model_dump(exclude_unset=True, exclude={"tags"})
    for field, value in changes.items():
        setattr(task, field, value)
    if task_in.tags is not None:
        await set_tags(session, task, task_in.tags)
    try:
        await session.flush()
    except StaleDataError:
        # another request changed the row between our SELECT and this UPDATE
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, VERSION_MISMATCH) from None
    return public(task, response)


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(session: SessionDep, task_id: UUIDPath) -> Response:
    if not await soft_delete(session, Task, task_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, TASK_NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def create_app(*, error_handlers: bool = True) -> FastAPI:
    """The example app; error_handlers=False leaves FastAPI's own handlers, the naive form."""
    app = FastAPI()
    app.include_router(router)
    if error_handlers:
        add_error_handlers(app)
    return app
