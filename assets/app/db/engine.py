"""The async engine, with options chosen per backend."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.config import DatabaseSettings
from app.db.postgresql import configure_postgresql, connect
from app.db.sqlite import configure_sqlite
from app.db.urls import asyncpg_url

# behind PgBouncer's transaction pooling each transaction may run on another server
# connection: asyncpg's statement cache and SQLAlchemy's both name their prepared statements,
# which then collide ("already exists") or go missing; with both at 0, statements are unnamed
# (asyncpg 0.31 and later: before, asyncpg named every statement SQLAlchemy prepared)
PGBOUNCER_CONNECT_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}

# how a session that only reads runs, decided here for every read session: on SQLite a
# deferred BEGIN, which takes no lock, so readers never queue behind a writer; on PostgreSQL
# no BEGIN and no COMMIT (AUTOCOMMIT), two round trips fewer, each statement its own snapshot
READ_OPTIONS: dict[str, dict[str, Any]] = {
    "sqlite": {"sqlite_begin": "DEFERRED"},
    "postgresql": {"isolation_level": "AUTOCOMMIT"},
}


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine for settings.database_url: pooled for a server, SQLite-safe for a file."""
    # a provider's postgres:// URL with sslmode= works as given: see app/db/urls.py
    url, connect_args = asyncpg_url(settings.database_url)
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
        connect_args=connect_args | postgresql_connect_args(settings),
        # read sessions run a read once more when its connection was dropped (app/db/reads.py):
        # the other half of pinging only idle connections, so off with the ping
        execution_options={"retry_dropped_reads": settings.db_pool_pre_ping},
    )
    ping_timeout = settings.db_connect_timeout if settings.db_pool_pre_ping else None
    configure_postgresql(
        engine, ping_timeout=ping_timeout, ping_after_idle=settings.db_pool_ping_after_idle
    )
    return engine


def for_reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine as sessions that only read use it: the same pool, READ_OPTIONS applied."""
    return engine.execution_options(**READ_OPTIONS.get(engine.dialect.name, {}))


def postgresql_connect_args(settings: DatabaseSettings) -> dict[str, Any]:
    """asyncpg.connect() arguments: the client's timeouts, and the server's unless PgBouncer."""
    args: dict[str, Any] = {
        # how SQLAlchemy's own async_creator passes a connect function; URL, connect_args and
        # do_connect listeners still supply the arguments
        "async_creator_fn": connect,
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
