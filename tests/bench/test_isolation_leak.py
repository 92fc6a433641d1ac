"""The savepoint fixtures undo a committed write before the next test, on every backend.

The first test commits a user through the shared `session` fixture; the second, which runs
after it, looks for that user through the test's session and through a fresh connection of
its own. On SQLite this holds only with the engine's BEGIN recipe (isolation_level=None):
without it the driver's own transaction handling lets the SAVEPOINT release commit for real.
"""

import aiosqlite
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import User

EMAIL = "leak-probe@example.com"
# backends on which the writing test has run in this session
_written: set[str] = set()


async def test_commit_user_inside_test(engine: AsyncEngine, session: AsyncSession) -> None:
    session.add(User(email=EMAIL, name="Probe", hashed_password="x"))
    await session.commit()
    assert await session.scalar(select(User.id).where(User.email == EMAIL)) is not None
    # the commit ended a SAVEPOINT only: nothing reached the database for other connections
    assert await _committed_count(engine) == 0
    _written.add(engine.dialect.name)


async def test_read_committed_user_in_next_test_finds_none(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    if engine.dialect.name not in _written:
        pytest.skip(f"{engine.dialect.name}: the writing test did not run first in this session")
    assert await session.scalar(select(User.id).where(User.email == EMAIL)) is None
    assert await _committed_count(engine) == 0


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
