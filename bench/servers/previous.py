"""The asset app as it was before its read path changed (issue 16), to measure the change.

Reads in a transaction (BEGIN ... COMMIT) on a plain session: no write refusal, no retry.
Start it with DB_POOL_PING_AFTER_IDLE=0, which pings at every checkout as the engine then did.
Run: DATABASE_URL=postgresql+asyncpg://... DB_POOL_PING_AFTER_IDLE=0 \
  uvicorn bench.servers.previous:app
"""

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import engine, get_read_session
from app.main import app

__all__ = ["app"]

in_transaction = async_sessionmaker(engine, expire_on_commit=False)


async def get_read_session_in_transaction() -> AsyncIterator[AsyncSession]:
    async with in_transaction() as session, session.begin():
        yield session


app.dependency_overrides[get_read_session] = get_read_session_in_transaction
