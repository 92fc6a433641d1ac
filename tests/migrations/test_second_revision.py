"""A second revision that alters a column and adds a named constraint round-trips on both
backends: batch mode recreates the SQLite table, the naming convention lets downgrade drop it."""

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.migrating import FIRST, add_revision, alembic_config, check_migrations

USER_ROW = "(id, email, name, hashed_password) VALUES (1, 'a@example.com', 'Ann', 'x')"
POST_ROW = "(id, title, content, author_id) VALUES (1, 't', 'c', 1)"

UPGRADE = """
with op.batch_alter_table("users") as batch_op:
    batch_op.alter_column(
        "name", existing_type=sa.String(100), type_=sa.String(200), existing_nullable=False
    )
    batch_op.create_unique_constraint(batch_op.f("uq_users_name"), ["name"])
"""
DOWNGRADE = """
with op.batch_alter_table("users") as batch_op:
    batch_op.drop_constraint(batch_op.f("uq_users_name"), type_="unique")
    batch_op.alter_column(
        "name", existing_type=sa.String(200), type_=sa.String(100), existing_nullable=False
    )
"""


def add_second_revision(project: Path) -> None:
    add_revision(
        project, "a1b2c3d4e5f6", UPGRADE, DOWNGRADE, "widen user names and make them unique"
    )
    models = project / "app" / "models.py"
    before = "name: Mapped[str] = mapped_column(String(100))"
    assert before in models.read_text()
    models.write_text(
        models.read_text().replace(
            before, "name: Mapped[str] = mapped_column(String(200), unique=True)"
        )
    )


async def run(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def unique_constraints(url: str) -> set[str | None]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: inspect(c).get_unique_constraints("users"))
            return {c["name"] for c in found}
    finally:
        await engine.dispose()


async def migrate(project: Path, direction: str, revision: str) -> None:
    # the commands run env.py's asyncio.run(): a thread keeps them off this test's running loop
    await asyncio.to_thread(getattr(command, direction), alembic_config(project), revision)


async def test_second_revision_round_trips_with_rows_kept(
    project: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_second_revision(project)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    await migrate(project, "upgrade", FIRST)
    await run(empty_database_url, f"INSERT INTO users {USER_ROW}")
    await run(empty_database_url, f"INSERT INTO posts {POST_ROW}")

    await migrate(project, "upgrade", "head")
    assert await unique_constraints(empty_database_url) == {"uq_users_name", "uq_users_email"}
    await run(empty_database_url, f"UPDATE users SET name = '{'n' * 200}' WHERE id = 1")

    await run(empty_database_url, "UPDATE users SET name = 'Ann' WHERE id = 1")
    await migrate(project, "downgrade", FIRST)
    assert await unique_constraints(empty_database_url) == {"uq_users_email"}
    # batch mode copied users into a new table: the post that references it is still there
    joined = "SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.author_id"
    assert await run(empty_database_url, joined) == [(1, "Ann")]


def test_check_migrations_passes_with_second_revision(
    project: Path, empty_database_url: str
) -> None:
    add_second_revision(project)

    result = check_migrations(project, empty_database_url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK   no drift" in result.stdout
    assert "OK   downgrade base" in result.stdout
