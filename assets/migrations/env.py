"""Alembic environment: async engine, the app's DATABASE_URL, batch mode on SQLite."""

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator

# importing the models registers every table on Base.metadata, which autogenerate compares
import app.models  # noqa: F401
from app.db import Base
from app.db.config import DatabaseSettings

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# disable_existing_loggers=False keeps the app's (and uvicorn's) loggers working when
# the app runs the migrations itself
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# the app's own settings, used as given: the driver (+asyncpg, +aiosqlite) is the one installed,
# and the URL never passes through alembic.ini, whose % interpolation would break such a
# password; MIGRATIONS_DATABASE_URL, when set, is the direct connection behind a pooler
settings = DatabaseSettings.load()
url = make_url(settings.migrations_database_url or settings.database_url)


def render_item(type_: str, obj: Any, _autogen: AutogenContext) -> str | Literal[False]:
    # a TypeDecorator (UTCDateTime) only changes values in Python: the revision file gets its
    # SQL type, not app.db.base.UTCDateTime() without its import (NameError: name 'app' is
    # not defined), and later changes to the app's code cannot break old revisions
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__ == "sqlalchemy.sql.sqltypes":
            return f"sa.{impl!r}"
    return False


def configure_options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_item": render_item,
        # SQLite cannot ALTER or drop most things in place: batch mode recreates the table
        "render_as_batch": dialect_name == "sqlite",
        # autogenerate and `alembic check` also report changed server defaults
        "compare_server_default": True,
    }


def run_migrations_offline() -> None:
    """Run migrations in 'offline' mode: print the SQL (`alembic upgrade head --sql`)."""
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **configure_options(url.get_backend_name()),
    )

    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **configure_options(connection.dialect.name))

    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    """Create an async engine and run the migrations on one of its connections."""
    connectable = create_async_engine(url, poolclass=pool.NullPool)

    async with connectable.connect() as connection:
        if connection.dialect.name == "postgresql" and settings.db_migration_lock_timeout:
            # an ALTER waiting for a lock makes every later query on that table wait behind it:
            # give up after DB_MIGRATION_LOCK_TIMEOUT (55P03) and run the migration again later
            timeout = round(settings.db_migration_lock_timeout * 1000)
            await connection.exec_driver_sql(f"SET lock_timeout = {timeout}")
            await connection.commit()
        await connection.run_sync(do_run_migrations)

    await connectable.dispose()


def refuse_sqlite_foreign_keys(connection: Connection) -> None:
    """Stop before batch mode loses rows on a SQLite connection with foreign keys on."""
    if connection.dialect.name != "sqlite":
        return
    # asked through the driver: a statement through SQLAlchemy would begin a transaction
    cursor = connection.connection.cursor()
    cursor.execute("PRAGMA foreign_keys")
    row = cursor.fetchone()
    cursor.close()
    if row and row[0]:
        # batch mode copies a table and drops the old one; with foreign keys on, that DROP
        # deletes every row that references it (ON DELETE CASCADE), and the PRAGMA cannot
        # be turned off inside the transaction the connection is in
        raise RuntimeError(
            "SQLite connection has foreign keys on (PRAGMA foreign_keys=ON): batch migrations "
            "would delete referencing rows; hand in a connection from an engine without that "
            "PRAGMA, e.g. create_async_engine(url, poolclass=NullPool)"
        )


def run_migrations_online() -> None:
    """Run migrations in 'online' mode.

    Code already inside an event loop (tests, app start-up) cannot call asyncio.run(): it
    hands in a connection instead, `cfg.attributes["connection"] = sync_connection` from
    `await async_connection.run_sync(...)`, and the migrations run on that connection;
    or it runs the command in a thread: `await asyncio.to_thread(command.upgrade, cfg, "head")`.
    """
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        refuse_sqlite_foreign_keys(connection)
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
