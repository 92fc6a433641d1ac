"""The asset app with one change, measured as an alternative: reads on an AUTOCOMMIT engine.

A GET then needs no BEGIN and no COMMIT; the checkout ping is the asset engine's own, one
SELECT 1, as in the asset app.
The price: nothing written through this session is transactional, so it only suits handlers
that only read (at READ COMMITTED each statement sees its own snapshot in a transaction too).
Run: DATABASE_URL=postgresql+asyncpg://... uvicorn bench.servers.read:app
"""

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import engine, get_session
from app.main import app

read_factory = async_sessionmaker(
    engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
)


async def get_read_session() -> AsyncIterator[AsyncSession]:
    async with read_factory() as session:
        yield session


app.dependency_overrides[get_session] = get_read_session
