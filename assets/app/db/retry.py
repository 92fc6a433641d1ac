"""Run a whole transaction again when PostgreSQL aborted it to resolve a conflict."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.errors import RETRY_TRANSACTION, sqlstate

T = TypeVar("T")


async def run_transaction(
    factory: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff: float = 0.05,
) -> T:
    """Run work(session) in a transaction of its own and commit; when PostgreSQL aborts it with
    a serialization failure (40001) or a deadlock (40P01), run it again in a new transaction,
    up to attempts times in all. work must do nothing outside the database that a second run
    would repeat (an email sent, a payment taken)."""
    attempt = 1
    while True:
        try:
            async with factory() as session, session.begin():
                return await work(session)
        except DBAPIError as exc:
            if attempt >= attempts or sqlstate(exc) not in RETRY_TRANSACTION:
                raise
        # a random pause, growing with each attempt, keeps colliding transactions from
        # colliding again in step
        await asyncio.sleep(random.uniform(0, backoff * 2 ** (attempt - 1)))
        attempt += 1
