"""The read path measured for adoption, written as it would sit in assets/app/db/.

Three parts, each usable alone:
- `ping_when_idle`: the checkout ping only for a connection that sat in the pool longer than
  `idle_seconds`, so a loaded app pays no round trip for it;
- `ReadSession`: the session behind a read-only dependency for GET routes, on an AUTOCOMMIT
  view of the same pool (no BEGIN, no COMMIT); it refuses ORM writes and retries a statement
  once on a fresh connection when the server dropped the one it ran on;
- `core_list_users`: a hot list endpoint's query as Core rows (`mappings()`) instead of ORM
  objects.
"""

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import RowMapping, event, or_, select
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, ORMExecuteState, Session, UOWTransaction

from app.models import User
from app.pagination import count_rows

# below every idle cut on the way to the server (proxies and NAT drop idle connections after
# minutes); a connection reused sooner than this is alive unless the server failed since,
# which the read session's retry (reads) and the 503 with Retry-After (writes) answer
PING_AFTER_IDLE_SECONDS = 10.0


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Ping a pooled connection at checkout only when it sat idle longer than idle_seconds."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        # record.info belongs to one DBAPI connection: a replaced connection starts empty
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        # a connection opened for this checkout has never been idle
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1"))
        except Exception as exc:  # whatever the failure, this connection cannot serve
            raise DisconnectionError("pooled connection failed its ping") from exc


class ReadOnlySessionError(Exception):
    """A write was attempted through the read-only session."""


class ReadSession(Session):
    """The sync session behind ReadSessionDep; its events are registered on this class."""


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(session: Session, _flush_context: UOWTransaction, _instances: Any) -> None:
    raise ReadOnlySessionError("the read session cannot write; use SessionDep")


@event.listens_for(ReadSession, "do_orm_execute")
def _read_with_one_retry(state: ORMExecuteState) -> Result[Any]:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("the read session cannot write; use SessionDep")
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        # a dropped connection invalidates the whole pool, so the retry gets a new one; with
        # no transaction (AUTOCOMMIT) there is nothing to lose by running the read again
        if not exc.connection_invalidated:
            raise
        state.session.rollback()
        return state.invoke_statement()


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET routes: the same pool, each statement its own transaction."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        sync_session_class=ReadSession,
        expire_on_commit=False,
    )


def read_session_dependency(
    factory: async_sessionmaker[AsyncSession],
) -> Any:
    async def get_read_session() -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    return get_read_session


# the columns UserPublic shows: a list endpoint never needs the password hash
PUBLIC_USER_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    User.id,
    User.email,
    User.name,
    User.is_active,
    User.created_at,
    User.updated_at,
)


async def core_list_users(
    session: AsyncSession, *, q: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[Sequence[RowMapping], int]:
    """repository.list_users as Core rows: no identity map, no ORM object per row."""
    stmt = select(*PUBLIC_USER_COLUMNS)
    if q:
        stmt = stmt.where(
            or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True))
        )
    page = await session.execute(stmt.order_by(User.id).limit(limit).offset(offset))
    return page.mappings().all(), await count_rows(session, stmt)
