"""The savepoint fixtures undo a committed write before the next test, on every backend.

One test commits a user through the shared `session` fixture and looks for it from a
connection outside the test's transaction while the test runs; a fixture set up before the
test's own fixtures, and so torn down after them, looks again once they have rolled back,
where the next test would start. On SQLite this holds only with the engine's BEGIN recipe
(isolation_level=None): without it the driver's own transaction handling lets the SAVEPOINT
release commit for real.
"""

from collections.abc import AsyncIterator

import aiosqlite
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import User

EMAIL = "leak-probe@example.com"


async def _committed_count(engine: AsyncEngine) -> int:
    """Rows with EMAIL that a connection outside the test's transaction can see."""
    if engine.dialect.name == "sqlite":
        # the test's connection holds SQLite's write lock (BEGIN IMMEDIATE), so another engine
        # connection would wait on it; a plain driver read needs no lock and sees the file
        async with aiosqlite.connect(engine.url.database or "") as other:
            async with other.execute("SELECT count(*) FROM users WHERE email = ?", (EMAIL,)) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else 0
    async with engine.connect() as other:
        return int(await other.scalar(select(func.count()).where(User.email == EMAIL)) or 0)


@pytest.fixture
async def nothing_left_after_test(engine: AsyncEngine) -> AsyncIterator[list[int]]:
    """Yields a list that receives, after the test's fixtures have ended, the rows still there."""
    found: list[int] = []
    yield found
    found.append(await _committed_count(engine))
    assert found == [0], f"{engine.dialect.name}: the committed user outlived its test"


async def test_commit_user_inside_test_leaves_nothing_behind(
    nothing_left_after_test: list[int], engine: AsyncEngine, session: AsyncSession
) -> None:
    session.add(User(email=EMAIL, name="Probe", hashed_password="x"))
    await session.commit()
    assert await session.scalar(select(User.id).where(User.email == EMAIL)) is not None
    # the commit ended a SAVEPOINT only: nothing reached the database for other connections
    assert await _committed_count(engine) == 0
    assert nothing_left_after_test == []
