"""Database access for check_migrations.py: reach, inspect and empty a database."""

import asyncio
from typing import Any

from _lib.cli import UsageError
from _lib.urls import mask

EMPTY_DATABASE = (
    "the check needs an empty database of its own, separate from the tests' and the app's, as "
    "it drops every table it finds there when it ends: create one (e.g. createdb -h 127.0.0.1 "
    "migration_check) and pass its URL with --url, or leave --url out for a throwaway SQLite file"
)


def first_line(exc: BaseException, secret: str | None = None) -> str:
    text = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else ""
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line.replace(secret, "***") if secret else line


def run_on(url: str, work: Any) -> Any:
    """Call work(sync_connection) in a committed transaction, through the URL's own driver."""
    from sqlalchemy import create_engine, pool
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    if not make_url(url).get_dialect().is_async:
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.begin() as conn:
                return work(conn)
        finally:
            engine.dispose()

    async def run() -> Any:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def table_names(url: str) -> list[str]:
    from sqlalchemy import inspect

    names: list[str] = run_on(url, lambda conn: inspect(conn).get_table_names())
    return names


def stamped_revisions(url: str) -> list[str]:
    from sqlalchemy import text

    rows: list[str] = run_on(
        url,
        lambda conn: list(conn.execute(text("select version_num from alembic_version")).scalars()),
    )
    return rows


def empty_database(url: str) -> None:
    """Drop every table: the database was empty before the check, so they are all its own."""
    from sqlalchemy import MetaData

    def drop(conn: Any) -> None:
        metadata = MetaData()
        metadata.reflect(conn)
        metadata.drop_all(conn)

    run_on(url, drop)


def check_database(url: str) -> None:
    """Raise UsageError unless the database is reachable and empty. An empty alembic_version
    table alone, which `alembic downgrade base` leaves behind, counts as empty."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise UsageError(
            "--url is not a database URL: use dialect+driver://user:pass@host/db"
        ) from None
    secret = str(parsed.password) if parsed.password else None
    try:
        tables = table_names(url)
        stamped = stamped_revisions(url) if tables == ["alembic_version"] else []
    except Exception as exc:
        if isinstance(exc, ImportError) or "async driver" in str(exc):
            fix = "use an installed async driver: postgresql+asyncpg:// or sqlite+aiosqlite://"
        elif isinstance(exc, OSError):
            fix = "start the server, or fix the host and port in --url"
        else:
            fix = "fix the user, password or database name in --url"
        raise UsageError(f"cannot use {mask(url)}: {first_line(exc, secret)}; {fix}") from exc
    if tables == ["alembic_version"] and not stamped:
        return
    if stamped:
        raise UsageError(
            f"{mask(url)} has no tables but an alembic_version table stamped at "
            f"{', '.join(stamped)}: {EMPTY_DATABASE}"
        )
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise UsageError(f"{mask(url)} already has tables ({shown}): {EMPTY_DATABASE}")
