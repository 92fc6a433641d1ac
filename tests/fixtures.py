"""Fixtures more than one test folder uses, registered for the whole suite by tests/conftest.py
(`pytest_plugins`), so no test module imports a fixture."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.helpers import copy_asset_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the asset project (app/, alembic.ini, migrations/) that a test may change."""
    return copy_asset_project(tmp_path / "project")


@pytest.fixture
async def scratch_table(engine: AsyncEngine) -> AsyncIterator[str]:
    """A table of the test's own, (id INTEGER PRIMARY KEY, n INTEGER) holding (1, 0) and
    (2, 0), dropped afterwards."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, n INTEGER)"))
        await conn.execute(text(f"INSERT INTO {name} (id, n) VALUES (1, 0), (2, 0)"))
    yield name
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {name}"))
