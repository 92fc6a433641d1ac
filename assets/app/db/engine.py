"""The async engine, with options chosen per backend."""

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.config import DatabaseSettings
from app.db.sqlite import configure_sqlite

# behind PgBouncer's transaction pooling each transaction may run on another server
# connection: asyncpg's statement cache and SQLAlchemy's both name their prepared statements,
# which then collide ("already exists") or go missing; with both at 0, statements are unnamed
PGBOUNCER_CONNECT_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}

# how a transaction that only reads begins, decided here for every read session: on SQLite a
# deferred BEGIN, which takes no lock, so readers never queue behind a writer
READ_OPTIONS = {"sqlite_begin": "DEFERRED"}


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine for settings.database_url: pooled for a server, SQLite-safe for a file."""
    url = make_url(settings.database_url)
    # hide_parameters: error messages and DB_ECHO show each statement, never the values bound
    # to it (emails, password hashes)
    if url.get_backend_name() == "sqlite":
        # pool sizing means nothing for a local file and raises for :memory: (a single connection)
        engine = create_async_engine(url, echo=settings.db_echo, hide_parameters=True)
        configure_sqlite(engine, busy_timeout=settings.db_sqlite_busy_timeout)
        return engine
    engine = create_async_engine(
        url,
        echo=settings.db_echo,
        hide_parameters=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        connect_args=postgresql_connect_args(settings),
    )
    _close_connection_on_timeout(engine)
    if settings.db_pool_pre_ping:
        _ping_on_checkout(engine, timeout=settings.db_connect_timeout)
    return engine


def for_reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine as transactions that only read use it: the same pool, READ_OPTIONS applied."""
    return engine.execution_options(**READ_OPTIONS)


def postgresql_connect_args(settings: DatabaseSettings) -> dict[str, Any]:
    """asyncpg.connect() arguments: the client's timeouts, and the server's unless PgBouncer."""
    args: dict[str, Any] = {
        # how SQLAlchemy's own async_creator passes a connect function; URL, connect_args and
        # do_connect listeners still supply the arguments
        "async_creator_fn": _connect,
        "timeout": settings.db_connect_timeout,
        # asyncpg's default for every query, commit and rollback; None waits forever
        "command_timeout": settings.db_command_timeout or None,
    }
    if settings.db_pgbouncer:
        # PgBouncer refuses startup parameters it does not know, and in transaction mode a
        # session setting would not follow the client: set them on the role instead,
        # ALTER ROLE app SET statement_timeout = '15s' (references/pooling.md)
        return args | PGBOUNCER_CONNECT_ARGS
    timeouts = {
        "statement_timeout": settings.db_statement_timeout,
        "idle_in_transaction_session_timeout": settings.db_idle_in_transaction_timeout,
    }
    # in milliseconds; a setting of 0 is not sent, and the server's own value applies
    server_settings = {name: str(round(s * 1000)) for name, s in timeouts.items() if s}
    return args | {"server_settings": server_settings}


async def _connect(*args: Any, **kwargs: Any) -> Any:
    """asyncpg.connect(), with every failure to reach the server reported as SQLSTATE 08001."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:
        # refused, DNS (socket.gaierror), the connect timeout (TimeoutError): asyncpg raises the
        # socket's own error, which SQLAlchemy would pass on unwrapped, so that only a handler
        # for every OSError in the app could catch it; as asyncpg's 08001 error it becomes a
        # sqlalchemy.exc.DBAPIError like any other database failure
        raise asyncpg.ClientCannotConnectError(f"cannot connect: {exc!r}") from exc


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


def _ping_on_checkout(engine: AsyncEngine, timeout: float) -> None:
    # what pool_pre_ping=True does, in one round trip: SQLAlchemy's asyncpg ping takes three
    # (BEGIN, the ping, ROLLBACK), and a simple-protocol SELECT 1 needs no prepared statement,
    # so it is safe behind PgBouncer too
    @event.listens_for(engine.sync_engine, "connect")
    def _new(_dbapi_connection: Any, record: Any) -> None:
        record.info["fresh"] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # a connection that has just connected needs no ping; and a ping that failed on it
        # would make the pool give up after its second try (InvalidRequestError, a 500)
        if record.info.pop("fresh", False):
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
