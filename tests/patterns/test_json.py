"""JSON columns: what in-place changes are saved, and what the database and the API refuse."""

import json
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from tests.patterns.api import create_app
from tests.patterns.models import Task
from tests.patterns.more_models import Memo
from tests.patterns.support import serve


async def reloaded(
    session: AsyncSession, model: type[Task] | type[Memo], ident: object
) -> dict[str, Any]:
    await session.commit()
    session.expunge_all()
    row: Task | Memo | None = await session.get(model, ident)
    assert row is not None
    return dict(row.details)


async def test_plain_json_in_place_change_is_silently_lost(session: AsyncSession) -> None:
    memo = Memo(slug="m", details={"a": 1})
    session.add(memo)
    await session.commit()
    memo.details["b"] = 2
    assert await reloaded(session, Memo, memo.id) == {"a": 1}


async def test_mutable_json_saves_top_level_change(session: AsyncSession) -> None:
    task = Task(slug="t", title="T", details={"a": 1})
    session.add(task)
    await session.commit()
    task.details["b"] = 2
    del task.details["a"]
    assert await reloaded(session, Task, task.id) == {"b": 2}


async def test_mutable_json_nested_change_needs_flag_modified(session: AsyncSession) -> None:
    task = Task(slug="t", title="T", details={"steps": {"one": False}})
    session.add(task)
    await session.commit()
    task.details["steps"]["one"] = True
    assert await reloaded(session, Task, task.id) == {"steps": {"one": False}}

    task = await session.get(Task, task.id)  # type: ignore[assignment]  # asserted below
    assert task is not None
    task.details["steps"]["one"] = True
    flag_modified(task, "details")
    assert await reloaded(session, Task, task.id) == {"steps": {"one": True}}


async def test_json_column_is_jsonb_on_postgresql(session: AsyncSession) -> None:
    task = Task(slug="t", title="T", details={"b": 1, "a": 2})
    session.add(task)
    await session.flush()
    if session.get_bind().dialect.name != "postgresql":
        stored = await session.scalar(text("SELECT details FROM tasks"))
        assert stored == '{"b": 1, "a": 2}'
        return
    assert await session.scalar(text("SELECT pg_typeof(details)::text FROM tasks")) == "jsonb"
    # JSONB's operators (@> here, served by a GIN index) need the column typed as JSONB:
    # with_variant keeps the portable JSON type in expressions
    jsonb = type_coerce(Task.details, JSONB)
    found = await session.scalar(select(Task.slug).where(jsonb.contains({"a": 2})))
    assert found == "t"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "a\x00b"], ids=["nan", "inf", "nul"])
async def test_database_refuses_what_json_cannot_hold(session: AsyncSession, bad: object) -> None:
    task = Task(slug="bad", title="Bad", details={"x": bad})
    session.add(task)
    if session.get_bind().dialect.name == "postgresql":
        # jsonb: NaN and Infinity are not JSON, and \u0000 cannot become text
        with pytest.raises(DBAPIError):
            await session.flush()
        return
    # SQLite stores whatever json.dumps wrote, NaN included: every later response that
    # renders this row would fail, which is why the request body refuses it first
    await session.flush()
    stored = await session.scalar(text("SELECT details FROM tasks"))
    assert stored == json.dumps({"x": bad})


@pytest.mark.parametrize(
    "details", ['{"x": NaN}', '{"x": [Infinity]}', '{"x": "a\\u0000b"}', '{"x": "\\ud800"}']
)
async def test_create_task_with_unstorable_json_is_422(client: AsyncClient, details: str) -> None:
    body = '{"slug": "j", "title": "J", "details": ' + details + "}"
    response = await client.post(
        "/tasks", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", "details"]


async def test_fastapi_default_422_renders_nan_as_500(session: AsyncSession) -> None:
    """The naive form: FastAPI's own handler echoes the NaN input and cannot render it."""
    factory = async_sessionmaker(bind=session.bind, expire_on_commit=False)
    async with serve(create_app(error_handlers=False), factory) as naive:
        response = await naive.post(
            "/tasks",
            content='{"slug": "j", "title": "J", "details": {"x": NaN}}',
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 500
