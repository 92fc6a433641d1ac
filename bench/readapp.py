"""The asset app with one change, measured as an alternative: reads on an AUTOCOMMIT engine.

A GET then needs no BEGIN and no COMMIT, and pool_pre_ping's check is one round trip instead
of three (SQLAlchemy's asyncpg ping wraps it in BEGIN/ROLLBACK only inside transactions).
The price: the statements of one request no longer share a snapshot, and nothing written
through this session is transactional, so it only suits handlers that run a single SELECT.
Run: DATABASE_URL=postgresql+asyncpg://... uvicorn bench.readapp:app
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
