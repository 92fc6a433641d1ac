"""SQLite on each new connection: foreign keys, WAL, a busy timeout, and how transactions begin."""

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def configure_sqlite(engine: AsyncEngine, busy_timeout: float) -> None:
    # aiosqlite logs every call at DEBUG with the values bound to it (emails, password hashes)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the sqlite3 driver's own BEGIN handling breaks SAVEPOINT; SQLAlchemy emits BEGIN instead
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys, and so ON DELETE CASCADE, unless each connection asks
        cursor.execute("PRAGMA foreign_keys=ON")
        # how long a writer waits for the write lock before "database is locked"
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        # WAL: readers read the last commit while a writer writes, and a commit does not wait
        # for readers; it stays set in the file
        cursor.execute("PRAGMA journal_mode=WAL")
        # with WAL, NORMAL syncs at checkpoints, not at each commit: a commit survives the app
        # crashing, and a power cut may undo the last few, never corrupting the file
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
        # instead of failing with "database is locked" when a reader upgrades to a writer;
        # read sessions ask for DEFERRED (READ_OPTIONS in engine.py), which takes no lock
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")
