"""What a database error means, read from the drivers' structured fields: asyncpg's SQLSTATE
and constraint name, sqlite3's error code."""

import re
import sqlite3
from enum import Enum

from sqlalchemy import Index, MetaData, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.db.base import Base


class Cause(Enum):
    BUSY = "busy"  # a conflict or a lock wait that gave up: a retry can succeed
    TIMEOUT = "timeout"  # a statement ran out of time, or the server did not answer
    UNAVAILABLE = "unavailable"  # no connection could be made, or it was lost
    SCHEMA = "schema"  # a table or column the code uses is missing: run the migrations


# serialization_failure, deadlock_detected: the transaction was aborted to resolve a conflict
# and may succeed if run again (app/db/retry.py)
RETRY_TRANSACTION = frozenset({"40001", "40P01"})
_SQLSTATES = {
    "40001": Cause.BUSY,
    "40P01": Cause.BUSY,
    "55P03": Cause.BUSY,  # lock_not_available: lock_timeout or NOWAIT
    "57014": Cause.TIMEOUT,  # query_canceled: statement_timeout
    "57P01": Cause.UNAVAILABLE,  # admin_shutdown (a restart, pg_terminate_backend)
    "57P02": Cause.UNAVAILABLE,  # crash_shutdown
    "57P03": Cause.UNAVAILABLE,  # cannot_connect_now (starting up, in recovery)
    "3D000": Cause.UNAVAILABLE,  # the database named in the URL does not exist
    "42P01": Cause.SCHEMA,  # undefined_table
    "42703": Cause.SCHEMA,  # undefined_column
}
# connection_exception, insufficient_resources (too many connections, disk full),
# invalid_authorization_specification (a wrong user or password)
_SQLSTATE_CLASSES = {"08": Cause.UNAVAILABLE, "53": Cause.UNAVAILABLE, "28": Cause.UNAVAILABLE}
# sqlite3's primary result codes (the extended codes carry them in their low byte)
_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY: Cause.BUSY,  # "database is locked": the busy timeout ran out
    sqlite3.SQLITE_LOCKED: Cause.BUSY,
    sqlite3.SQLITE_CANTOPEN: Cause.UNAVAILABLE,  # a missing directory, an unmounted volume
    sqlite3.SQLITE_IOERR: Cause.UNAVAILABLE,
    sqlite3.SQLITE_FULL: Cause.UNAVAILABLE,
    sqlite3.SQLITE_READONLY: Cause.UNAVAILABLE,
}
# SQLite reports a missing table or column as its generic SQLITE_ERROR: only the text tells
_SQLITE_MISSING = re.compile(r"no such (table|column): |table \S+ has no column named ")


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE for the error (asyncpg's, kept by SQLAlchemy's adapter)."""
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def cause(exc: DBAPIError) -> Cause | None:
    """Why the database failed, or None for an error a retry cannot fix (a bug: a 500)."""
    orig = exc.orig
    if isinstance(orig, TimeoutError):
        return Cause.TIMEOUT
    if isinstance(orig, sqlite3.Error):
        if _SQLITE_MISSING.match(str(orig)):
            return Cause.SCHEMA
        found = _SQLITE_CODES.get(getattr(orig, "sqlite_errorcode", 0) & 0xFF)
    else:
        state = sqlstate(exc) or ""
        found = _SQLSTATES.get(state) or _SQLSTATE_CLASSES.get(state[:2])
    if found is None and exc.connection_invalidated:
        return Cause.UNAVAILABLE
    return found


def describe(exc: DBAPIError) -> str:
    """The driver's error class, code and first line: no bound values, and not PostgreSQL's
    DETAIL line, which repeats the row's values ("Failing row contains (..., email, hash)")."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorname", None) or sqlstate(exc)
    name = type(orig).__name__ + (f" [{code}]" if code else "")
    first_line = next(iter(str(orig).splitlines()), "")
    return f"{name}: {first_line}" if first_line else name


def unique_violation(exc: IntegrityError, metadata: MetaData = Base.metadata) -> str | None:
    """The name of the unique constraint exc violated; None for any other integrity error."""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        if getattr(orig, "sqlite_errorname", "") not in (
            "SQLITE_CONSTRAINT_UNIQUE",
            "SQLITE_CONSTRAINT_PRIMARYKEY",
        ):
            return None
        # SQLite names the columns, not the constraint: "UNIQUE constraint failed: users.email"
        qualified = str(orig).partition(": ")[2].split(", ")
        table = metadata.tables.get(qualified[0].rpartition(".")[0])
        columns = {name.rpartition(".")[2] for name in qualified}
        return None if table is None else _unique_on(table, columns)
    if sqlstate(exc) != "23505":
        return None
    # asyncpg's UniqueViolationError, which SQLAlchemy's adapter raised this error from
    name = getattr(getattr(orig, "__cause__", None), "constraint_name", None)
    return name if isinstance(name, str) else None


def violates_foreign_key(exc: IntegrityError, constraint: str) -> bool:
    """Whether exc is a violation of this foreign key. SQLite's error does not say which key
    ("FOREIGN KEY constraint failed"): there any foreign key of the statement's table counts,
    which names the one key of a table that has only one."""
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "")
        # ON DELETE RESTRICT fails as SQLITE_CONSTRAINT_TRIGGER, which a trigger's own
        # RAISE(ABORT, ...) shares; only the message tells the foreign key's apart
        return name == "SQLITE_CONSTRAINT_FOREIGNKEY" or (
            name == "SQLITE_CONSTRAINT_TRIGGER" and str(orig) == "FOREIGN KEY constraint failed"
        )
    if sqlstate(exc) != "23503":
        return False
    # asyncpg's ForeignKeyViolationError, which SQLAlchemy's adapter raised this error from
    return getattr(getattr(orig, "__cause__", None), "constraint_name", None) == constraint


def _unique_on(table: Table, columns: set[str]) -> str | None:
    """The unique constraint or index of table on exactly these columns."""
    keys: list[UniqueConstraint | PrimaryKeyConstraint | Index] = [
        c for c in table.constraints if isinstance(c, UniqueConstraint | PrimaryKeyConstraint)
    ]
    keys += [index for index in table.indexes if index.unique]
    for key in keys:
        if {column.name for column in key.columns} == columns:
            return str(key.name)
    return None
