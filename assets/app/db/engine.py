"""The async engine, with options chosen per backend."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db.config import DatabaseSettings

# behind PgBouncer's transaction pooling each transaction may run on another server
# connection: asyncpg's statement cache and SQLAlchemy's both name their prepared statements,
# which then collide ("already exists") or go missing; with both at 0, statements are unnamed
PGBOUNCER_CONNECT_ARGS = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Build the engine for settings.url: pooled for a server, SQLite-safe for a file."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        # pool sizing means nothing for a local file and raises for :memory: (a single connection)
        engine = create_async_engine(url, echo=settings.echo)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        pool_recycle=settings.pool_recycle,
        pool_pre_ping=settings.pool_pre_ping,
        connect_args=PGBOUNCER_CONNECT_ARGS if settings.pgbouncer else {},
    )


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
