"""Helpers shared by the pattern tests."""

from collections.abc import Callable

import pytest
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def require_backend(maker: async_sessionmaker[AsyncSession], name: str, reason: str) -> None:
    """Skip the test unless maker's database is `name`; reason starts with the other dialect."""
    async with maker() as probe:
        if probe.get_bind().dialect.name != name:
            pytest.skip(reason)


async def race_check_then_insert(
    maker: async_sessionmaker[AsyncSession],
    exists: Select[tuple[object]],
    row: Callable[[], object],
) -> None:
    """The naive get-or-create: two requests both find the row missing and both insert it;
    the first commits, the second hits the unique constraint (a 500 in a route)."""
    async with maker() as first, maker() as second:
        for session in (first, second):
            assert await session.scalar(exists) is None
        first.add(row())
        await first.commit()
        second.add(row())
        with pytest.raises(IntegrityError):
            await second.commit()
