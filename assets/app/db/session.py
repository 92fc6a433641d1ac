"""One session per request, committed before the response is sent: SessionDep for handlers
that write, ReadSessionDep for handlers that only read."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.db.reads import read_sessionmaker

engine = create_engine(DatabaseSettings.load())
# expire_on_commit=False keeps loaded attributes readable after commit, without a new query
session_factory = async_sessionmaker(engine, expire_on_commit=False)
# the same pool, run as for_reads() says: on SQLite no write lock, on PostgreSQL no BEGIN
read_session_factory = read_sessionmaker(engine)


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session in a transaction: commit if the handler returns, roll back if it raises."""
    async with session_factory() as session, session.begin():
        yield session


async def get_read_session() -> AsyncIterator[AsyncSession]:
    """Like get_session, for handlers that only read: SQLite readers never wait for a writer,
    and PostgreSQL reads send no BEGIN and no COMMIT."""
    # no session.begin(): a read has nothing to commit, and on PostgreSQL no transaction to
    # begin; closing the session ends whatever its statements began
    async with read_session_factory() as session:
        yield session


# scope="function" runs the commit when the handler returns, before FastAPI sends the response,
# so a failed commit becomes an error response instead of a 201 for a row that never landed
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
