"""The session behind ReadSessionDep: it refuses writes, and runs a read once more when the
connection it ran on was dropped."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Result
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransactionOrigin, UOWTransaction

from app.db.engine import for_reads


class ReadOnlySessionError(Exception):
    """A handler tried to write through ReadSessionDep; it should take SessionDep."""


class ReadSession(Session):
    """The sync session inside each read AsyncSession; the events below apply to it alone."""


def read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Read sessions on engine's pool, as for_reads() runs them (PostgreSQL: no BEGIN)."""
    # expire_on_commit=False keeps loaded attributes readable after the session ends
    return async_sessionmaker(
        for_reads(engine), sync_session_class=ReadSession, expire_on_commit=False
    )


@event.listens_for(ReadSession, "before_flush")
def _refuse_flush(_session: Session, _context: UOWTransaction, _instances: Any) -> None:
    # without a transaction on PostgreSQL, each statement of a flush would commit on its own
    raise ReadOnlySessionError("the read session cannot write: take SessionDep")


@event.listens_for(ReadSession, "do_orm_execute")
def _read_once_more_if_dropped(state: ORMExecuteState) -> Result[Any]:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("the read session cannot write: take SessionDep")
    try:
        return state.invoke_statement()
    except DBAPIError as exc:
        # connection_invalidated: the server or the network dropped the connection (a
        # restart, a failover, a half-open socket past DB_COMMAND_TIMEOUT). SQLAlchemy then
        # marks every older pooled connection for replacement, so the next try connects
        # anew; a read changes nothing, so running it twice is safe. Once: a database that
        # is down fails the second try too, and the request answers 503
        bind = state.session.bind
        retry = bind is not None and bind.get_execution_options().get("retry_dropped_reads")
        # only in a transaction the session began by itself, as ReadSessionDep's do: one a
        # caller opened with session.begin() is theirs, and a second try would split it
        transaction = state.session.get_transaction()
        own = transaction is not None and transaction.origin is SessionTransactionOrigin.AUTOBEGIN
        if not (exc.connection_invalidated and retry and own):
            raise
    # the session's connection is gone: give it back before the second try takes a new one
    state.session.rollback()
    return state.invoke_statement()
