"""The async engine, with options chosen per backend."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.config import DatabaseSettings
from app.db.urls import asyncpg_url

# behind PgBouncer's transaction pooling each transaction may run on another server
# connection: asyncpg's statement cache and SQLAlchemy's both name their prepared statements,
# which then collide ("already exists") or go missing; with both at 0, statements are unnamed
PGBOUNCER_CONNECT_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine for settings.database_url: pooled for a server, SQLite-safe for a file."""
    # a provider's postgres:// URL with sslmode= works as given: see app/db/urls.py
    url, connect_args = asyncpg_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        # pool sizing means nothing for a local file and raises for :memory: (a single connection)
        engine = create_async_engine(url, echo=settings.db_echo)
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        connect_args=connect_args | (PGBOUNCER_CONNECT_ARGS if settings.db_pgbouncer else {}),
    )
    if settings.db_pool_pre_ping:
        _ping_on_checkout(engine)
    return engine


def _ping_on_checkout(engine: AsyncEngine) -> None:
    # what pool_pre_ping=True does, in one round trip: SQLAlchemy's asyncpg ping takes three
    # (BEGIN, the ping, ROLLBACK), and a simple-protocol SELECT 1 needs no prepared statement,
    # so it is safe behind PgBouncer too
    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1"))
        except Exception as exc:  # whatever the failure, this connection cannot serve
            # the pool discards the connection and checks out a fresh one (up to 3 tries)
            raise DisconnectionError("pooled connection failed its ping") from exc


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the sqlite3 driver's own BEGIN handling breaks SAVEPOINT; SQLAlchemy emits BEGIN instead
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys, and so ON DELETE CASCADE, unless each connection asks
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
        # instead of failing with "database is locked" when a reader upgrades to a writer
        connection.exec_driver_sql("BEGIN IMMEDIATE")
