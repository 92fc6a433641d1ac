"""Database work outside a request (background tasks, scripts, concurrent queries): each unit
of work opens a session of its own from the app's session_factory."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import engine, session_factory

T = TypeVar("T")


async def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work in a new session and transaction: committed if it returns, rolled back if it
    raises. Hand it ids, not ORM objects or the request's session: those belong to a request
    whose session is closed by the time a background task runs."""
    async with session_factory() as session, session.begin():
        return await work(session)


async def gather_in_sessions(*works: Callable[[AsyncSession], Awaitable[T]]) -> list[T]:
    """Run independent queries concurrently, one session (and connection) each: one session
    runs one statement at a time (asyncio.gather on a single session raises or queues)."""
    return list(await asyncio.gather(*(run_in_session(work) for work in works)))


def run_script(main: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run(main()) for a command-line script, closing the pool in the same event loop:
    connections left open when the loop closes are cleaned up too late, with warnings."""

    async def run() -> T:
        try:
            return await main()
        finally:
            await engine.dispose()

    return asyncio.run(run())
