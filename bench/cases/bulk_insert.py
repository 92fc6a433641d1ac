"""Case 2: insert 10,000 posts: repository loop, add_all, insert(Model) with dicts, the driver."""

import aiosqlite
import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import repository
from app.db import utc_now
from app.models import Post
from app.schemas import PostCreate
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed
from bench.seed import copy_rows, user_rows

TITLE = "bulk insert"
COLUMNS = ("title", "content", "author_id", "created_at", "updated_at")


async def run(backend: Backend, mode: Mode) -> list[Row]:
    rows = mode.pick(10_000, 50)
    # a flush per row is slow by nature; a twentieth of the rows gives the same cost per row
    loop_rows = mode.pick(500, 10)
    engine = asset_engine(backend)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(1))
    factory = async_sessionmaker(engine, expire_on_commit=False)

    def dicts(n: int) -> list[dict[str, object]]:
        now = utc_now()
        return [
            {
                "title": f"Post {i}",
                "content": "body",
                "author_id": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ]

    async def repository_loop() -> None:
        async with factory() as session, session.begin():
            for i in range(loop_rows):
                await repository.create_post(session, 1, PostCreate(title=f"Post {i}"))

    async def add_all() -> None:
        async with factory() as session, session.begin():
            session.add_all([Post(**d) for d in dicts(rows)])
            await session.flush()

    async def insert_dicts() -> None:
        async with factory() as session, session.begin():
            await session.execute(insert(Post), dicts(rows))

    async def executemany() -> None:
        values = [tuple(d[c] for c in COLUMNS) for d in dicts(rows)]
        if backend.name == "postgresql":
            conn = await asyncpg.connect(backend.raw)
            try:
                await conn.executemany(
                    "INSERT INTO posts (title, content, author_id, created_at, updated_at) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    values,
                )
            finally:
                await conn.close()
            return
        stamp = utc_now().strftime("%Y-%m-%d %H:%M:%S.%f")
        lite = [(t, c, a, stamp, stamp) for t, c, a, _, _ in values]
        async with aiosqlite.connect(backend.raw) as conn:
            await conn.executemany(
                "INSERT INTO posts (title, content, author_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                lite,
            )
            await conn.commit()

    async def copy() -> None:
        values = [tuple(d[c] for c in COLUMNS) for d in dicts(rows)]
        conn = await asyncpg.connect(backend.raw)
        try:
            await conn.copy_records_to_table("posts", records=values, columns=COLUMNS)
        finally:
            await conn.close()

    async def rep(fn: object, n: int) -> float:
        try:
            return await timed(fn, n)  # type: ignore[arg-type]
        finally:
            await empty_tables(engine, "posts")

    variants = {}
    if backend.name == "postgresql":
        variants["asyncpg copy_records_to_table"] = lambda: rep(copy, rows)
    variants["raw driver executemany"] = lambda: rep(executemany, rows)
    variants["session.execute(insert(Post), dicts)"] = lambda: rep(insert_dicts, rows)
    variants["add_all + flush"] = lambda: rep(add_all, rows)
    variants["repository.create_post in a loop"] = lambda: rep(repository_loop, loop_rows)
    try:
        result = await interleave(
            TITLE, backend.name, variants, mode.budget(3, 30), warmup=mode.smoke
        )
    finally:
        await engine.dispose()
    for row in result:
        row.unit = "µs/row"
        row.samples = [s * 1000 for s in row.samples]
    return result


CASE = Case(
    "bulk-insert",
    TITLE,
    run,
    "10,000 posts inserted per repetition; the repository loop writes 500 and is reported per row.",
)
