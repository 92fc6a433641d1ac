"""Enum columns: values stored (not names), the database's CHECK, 422 for an unknown value,
and the naive Enum(...) that stores names and checks nothing."""

import enum

import pytest
from httpx import AsyncClient
from sqlalchemy import Column, Enum, MetaData, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable
from taskapp.enums import enum_type

from tests.patterns.models import Task, TaskStatus


async def test_create_task_with_unknown_status_is_422(client: AsyncClient) -> None:
    body = {"slug": "s", "title": "S", "status": "blocked"}
    response = await client.post("/tasks", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]
    body["status"] = "in_progress"
    assert (await client.post("/tasks", json=body)).json()["status"] == "in_progress"


async def test_enum_column_stores_values(session: AsyncSession) -> None:
    session.add(Task(slug="s", title="S", status=TaskStatus.IN_PROGRESS))
    await session.flush()
    assert await session.scalar(text("SELECT status FROM tasks")) == "in_progress"


async def test_database_check_refuses_unknown_status(session: AsyncSession) -> None:
    insert = text(
        "INSERT INTO tasks (id, slug, title, status, details, version) "
        "VALUES (:id, 's', 't', 'blocked', '{}', 1)"
    )
    with pytest.raises(IntegrityError, match="ck_tasks_task_status"):
        async with session.begin_nested():
            await session.execute(insert, {"id": "0" * 32})


async def test_unknown_string_raises_before_the_database(session: AsyncSession) -> None:
    session.add(Task(slug="s", title="S", status="blocked"))
    with pytest.raises(StatementError, match="blocked"):
        await session.flush()


class Color(enum.Enum):
    LIGHT_BLUE = "light-blue"


def test_naive_enum_stores_names_and_checks_nothing_on_sqlite() -> None:
    naive = Table("naive", MetaData(), Column("color", Enum(Color)))
    taught = Table("taught", MetaData(), Column("color", enum_type(Color, "color")))
    # Enum(Color): the member name, VARCHAR without CHECK on SQLite, a type on PostgreSQL
    assert isinstance(naive.c.color.type, Enum)
    assert naive.c.color.type.enums == ["LIGHT_BLUE"]
    assert "CHECK" not in str(CreateTable(naive).compile(dialect=sqlite.dialect()))
    assert isinstance(taught.c.color.type, Enum)
    assert taught.c.color.type.enums == ["light-blue"]
    for dialect in (sqlite.dialect(), postgresql.dialect()):  # type: ignore[no-untyped-call]
        ddl = str(CreateTable(taught).compile(dialect=dialect))
        assert "VARCHAR(32)" in ddl and "CHECK (color IN ('light-blue'))" in ddl
    native = Table("n", MetaData(), Column("color", enum_type(Color, "color", native=True)))
    assert "color color" in str(CreateTable(native).compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
