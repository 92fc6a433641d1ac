"""Rows for the cases, written with the fastest path each driver has (setup, never timed)."""

from datetime import UTC, datetime, timedelta

import aiosqlite
import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench.db import Backend

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
USER_COLUMNS = ("id", "email", "name", "hashed_password", "is_active", "created_at", "updated_at")
POST_COLUMNS = ("id", "title", "content", "author_id", "created_at", "updated_at")


def _sqlite_stamp(value: datetime) -> str:
    # the text form SQLAlchemy's SQLite DateTime writes, so comparisons order correctly
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def user_rows(count: int, start: int = 1) -> list[tuple[object, ...]]:
    return [
        (i, f"user{i}@example.com", f"User {i}", "not-a-real-hash", True, EPOCH, EPOCH)
        for i in range(start, start + count)
    ]


def post_rows(count: int, authors: int, start: int = 1) -> list[tuple[object, ...]]:
    # one post per second, newest last; author ids cycle so each user gets count/authors posts
    rows: list[tuple[object, ...]] = []
    for i in range(start, start + count):
        stamp = EPOCH + timedelta(seconds=i)
        rows.append((i, f"Post {i}", "body", (i - 1) % authors + 1, stamp, stamp))
    return rows


async def copy_rows(backend: Backend, table: str, rows: list[tuple[object, ...]]) -> None:
    columns = USER_COLUMNS if table == "users" else POST_COLUMNS
    if backend.name == "postgresql":
        conn = await asyncpg.connect(backend.raw)
        try:
            await conn.copy_records_to_table(table, records=rows, columns=columns)
            # explicit ids leave the sequence behind; move it past them for later inserts
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
            await conn.execute(f"ANALYZE {table}")
        finally:
            await conn.close()
        return
    converted = [
        tuple(_sqlite_stamp(v) if isinstance(v, datetime) else v for v in row) for row in rows
    ]
    marks = ", ".join("?" for _ in columns)
    async with aiosqlite.connect(backend.raw) as conn:
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", converted
        )
        await conn.commit()
        await conn.execute(f"ANALYZE {table}")
