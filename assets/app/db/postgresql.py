"""asyncpg connections: failures to connect and timeouts reported as database errors, timed-out
connections closed at once, and a one-round-trip ping on checkout after the connection sat idle."""

import asyncio
from time import monotonic
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine


async def connect(*args: Any, **kwargs: Any) -> Any:
    """asyncpg.connect(), with every failure to reach the server reported as SQLSTATE 08001."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:
        # refused, DNS (socket.gaierror), the connect timeout (TimeoutError): asyncpg raises the
        # socket's own error, which SQLAlchemy would pass on unwrapped, so that only a handler
        # for every OSError in the app could catch it; as asyncpg's 08001 error it becomes a
        # sqlalchemy.exc.DBAPIError like any other database failure
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise asyncpg.ClientCannotConnectError(f"cannot connect: {reason}") from exc


def configure_postgresql(
    engine: AsyncEngine, ping_timeout: float | None, ping_after_idle: float = 0.0
) -> None:
    """Install the listeners below; ping_timeout=None: no ping on checkout; ping_after_idle:
    seconds a connection sits in the pool before its next checkout pings it (0: every time)."""
    _close_connection_on_timeout(engine)
    if ping_timeout is not None:
        _ping_on_checkout(engine, timeout=ping_timeout, after_idle=ping_after_idle)


def _close_connection_on_timeout(engine: AsyncEngine) -> None:
    # when command_timeout passes, asyncpg raises a bare TimeoutError and asks the server to
    # cancel; what the connection will answer next is unknown (a half-open one never answers),
    # so it is closed at once, not politely (which waits for that answer, up to 2 s), and the
    # pool replaces it; the caller gets a database error instead of the bare TimeoutError.
    # A task cancelled mid-statement (asyncio.timeout) loses its connection the same way.
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> BaseException | None:
        error = context.original_exception
        if not isinstance(error, TimeoutError | asyncio.CancelledError):
            return None
        if context.connection is not None:
            _terminate(context.connection.connection)
        context.is_disconnect = True
        if isinstance(error, asyncio.CancelledError):
            return None
        return OperationalError(
            context.statement, None, error, hide_parameters=True, connection_invalidated=True
        )


def _ping_on_checkout(engine: AsyncEngine, timeout: float, after_idle: float) -> None:
    # what pool_pre_ping=True does, in one round trip: SQLAlchemy's asyncpg ping takes three
    # (BEGIN, the ping, ROLLBACK), and a simple-protocol SELECT 1 needs no prepared statement,
    # so it is safe behind PgBouncer too. pool_pre_ping pings at every checkout; a connection
    # handed back a moment ago is alive unless the server failed since, so this one pings
    # only a connection that sat idle after_idle seconds, and under load no request waits for
    # a ping (a read that meets a dead connection is run once more: see app/db/reads.py)
    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        # record.info belongs to one DBAPI connection: SQLAlchemy clears it when it connects
        # anew, so a new connection has no stamp and is not pinged
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # a connection that has just connected needs no ping; and a ping that failed on it
        # would make the pool give up after its second try (InvalidRequestError, a 500)
        idle_since = record.info.get("idle_since")
        if idle_since is None or monotonic() - idle_since < after_idle:
            return
        try:
            dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1", timeout=timeout))
        except BaseException as exc:  # whatever the failure, this connection cannot serve
            # closed at once: a polite close would wait for the answer a half-open connection
            # never sends; the pool then replaces it with a new connection
            _terminate(dbapi_connection)
            if isinstance(exc, Exception):
                raise DisconnectionError("pooled connection failed its ping") from exc
            raise


def _terminate(dbapi_connection: Any) -> None:
    # asyncpg's Connection.terminate(): close the socket without waiting for the server
    dbapi_connection.driver_connection.terminate()
