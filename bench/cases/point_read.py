"""Case 1: read one user by primary key: the asset session and repository vs Core vs the driver."""

import aiosqlite
import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import repository
from app.models import User
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed
from bench.seed import copy_rows, user_rows

TITLE = "point read"
SQL_PG = "SELECT id, email, name, is_active, created_at, updated_at FROM users WHERE id = $1"
SQL_LITE = SQL_PG.replace("$1", "?")


async def run(backend: Backend, mode: Mode) -> list[Row]:
    reads = mode.pick(500, 20)
    engine = asset_engine(backend)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(reads))
    ids = list(range(1, reads + 1))
    factory = async_sessionmaker(engine, expire_on_commit=False)
    raw_pg: asyncpg.Connection | None = None
    raw_lite: aiosqlite.Connection | None = None
    if backend.name == "postgresql":
        raw_pg = await asyncpg.connect(backend.raw)
    else:
        raw_lite = await aiosqlite.connect(backend.raw)

    async def driver() -> None:
        if raw_pg is not None:
            for i in ids:
                await raw_pg.fetchrow(SQL_PG, i)
        elif raw_lite is not None:
            for i in ids:
                async with raw_lite.execute(SQL_LITE, (i,)) as cursor:
                    await cursor.fetchone()

    async def core() -> None:
        table = User.__table__
        stmt = select(table)
        async with engine.connect() as conn:
            for i in ids:
                (await conn.execute(stmt.where(table.c.id == i))).first()

    async def orm_one_session() -> None:
        async with factory() as session:
            for i in ids:
                await repository.get_user(session, i)

    async def orm_session_per_read() -> None:
        # what each request does: its own session, transaction, pre-ping and commit
        for i in ids:
            async with factory() as session, session.begin():
                await repository.get_user(session, i)

    async def rep(fn: object) -> float:
        return await timed(fn, len(ids))  # type: ignore[arg-type]

    variants = {
        "raw driver (fetchrow / cursor)": lambda: rep(driver),
        "SQLAlchemy Core, one connection": lambda: rep(core),
        "ORM session.get, one session": lambda: rep(orm_one_session),
        "ORM session per read (request pattern)": lambda: rep(orm_session_per_read),
    }
    try:
        await driver()
        await core()
        await orm_one_session()
        return await interleave(TITLE, backend.name, variants, mode.budget(7, 30))
    finally:
        if raw_pg is not None:
            await raw_pg.close()
        if raw_lite is not None:
            await raw_lite.close()
        await empty_tables(engine)
        await engine.dispose()


CASE = Case(
    "point-read",
    TITLE,
    run,
    "500 reads of one user by primary key per repetition.",
)
