"""The pattern tables migrate on both backends: the asset project with the pattern modules and
the example's models copied in (as an agent copies them), plus hand-written revisions: a UUID
key, a portable enum, JSON/JSONB, a partial unique index, and adding an enum value."""

import asyncio
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import pool, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from tests.migrating import alembic, check_migrations

HERE = Path(__file__).resolve().parent
PATTERNS = HERE.parents[1] / "assets" / "patterns"
COPIED = ["keys", "enums", "json_columns", "soft_delete", "locking", "tags"]
TASKS, ARCHIVED = "a1c0de5e7a5c", "b2d1e6f8a9b0"


@pytest.fixture
def task_project(project: Path) -> Path:
    """The asset project with the patterns and the tasks example added to its app package."""
    app = project / "app"
    for name in COPIED:
        shutil.copy(PATTERNS / f"{name}.py", app / f"{name}.py")
    models = (HERE / "models.py").read_text(encoding="utf-8").replace("taskapp.", "app.")
    (app / "tasks.py").write_text(models, encoding="utf-8")
    with (app / "models.py").open("a", encoding="utf-8") as file:
        file.write("\nimport app.tasks  # noqa: E402, F401\n")
    for revision in (HERE / "revisions").glob("*.py"):
        shutil.copy(revision, project / "migrations" / "versions" / revision.name)
    return project


def test_pattern_revisions_match_models_and_round_trip(
    task_project: Path, empty_database_url: str
) -> None:
    result = check_migrations(task_project, empty_database_url)
    assert result.returncode == 0, result.stdout + result.stderr


async def insert_status(url: str, status: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO tasks (id, slug, title, status, details, version) "
                    "VALUES (:id, :slug, 't', :status, '{}', 1)"
                ),
                {"id": uuid.uuid4().hex, "slug": status, "status": status},
            )
    finally:
        await engine.dispose()


async def statuses(url: str) -> list[str]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.scalars(text("SELECT status FROM tasks"))).all())
    finally:
        await engine.dispose()


def test_add_enum_value_replaces_the_check_on_both_backends(
    task_project: Path, empty_database_url: str
) -> None:
    url = empty_database_url
    upgraded = alembic(task_project, url, "upgrade", TASKS)
    assert upgraded.returncode == 0, upgraded.stderr
    with pytest.raises(IntegrityError):
        asyncio.run(insert_status(url, "archived"))

    assert alembic(task_project, url, "upgrade", ARCHIVED).returncode == 0
    asyncio.run(insert_status(url, "archived"))
    # the new CHECK still refuses what no version allows
    with pytest.raises(IntegrityError):
        asyncio.run(insert_status(url, "bogus"))

    downgraded = alembic(task_project, url, "downgrade", TASKS)
    assert downgraded.returncode == 0, downgraded.stderr
    assert asyncio.run(statuses(url)) == ["done"]
    with pytest.raises(IntegrityError):
        asyncio.run(insert_status(url, "archived"))
