"""Helpers shared by the pattern tests (taskapp is importable once tests/patterns/conftest.py
has loaded)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from taskapp.db import get_session


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


@asynccontextmanager
async def serve(
    app: FastAPI, factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncClient]:
    """An HTTP client for app whose requests take their sessions from factory."""

    async def get_test_session() -> AsyncIterator[AsyncSession]:
        async with factory() as session, session.begin():
            yield session

    app.dependency_overrides[get_session] = get_test_session
    # raise_app_exceptions=False: a server error reaches the test as the client sees it, a 500
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
