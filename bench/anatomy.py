"""Case 7: where a request's CPU goes, layer by layer, in-process (PostgreSQL, CPU time).

Each variant adds one layer of what the asset app does per GET /users/{id}; the figure is
this process's CPU time per operation, so waiting on the network does not count.
"""

import time
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app import repository
from app.models import User
from app.schemas import UserPublic
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Mode, Row, interleave, timed
from bench.seed import copy_rows, user_rows

CASE = "request anatomy"
SQL = "SELECT id, email, name, is_active, created_at, updated_at FROM users WHERE id = $1"


async def run(backend: Backend, mode: Mode) -> list[Row]:
    if backend.name != "postgresql":
        return []
    ops = mode.pick(200, 20)
    engine = asset_engine(backend)
    no_ping = asset_engine(backend, db_pool_pre_ping=False)
    # SQLAlchemy's own pool_pre_ping, which the asset engine replaces with a one-round-trip ping
    builtin_ping = create_async_engine(backend.url, pool_pre_ping=True)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(ops))
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    pool = await asyncpg.create_pool(backend.raw, min_size=1, max_size=2)
    users = User.__table__

    async def raw(i: int) -> None:
        UserPublic.model_validate(dict(await pool.fetchrow(SQL, i)))

    async def checkout(i: int) -> None:
        async with engine.connect() as conn:
            await conn.get_raw_connection()

    async def checkout_builtin_ping(i: int) -> None:
        async with builtin_ping.connect() as conn:
            await conn.get_raw_connection()

    async def checkout_no_ping(i: int) -> None:
        async with no_ping.connect() as conn:
            await conn.get_raw_connection()

    async def core(i: int) -> None:
        async with engine.begin() as conn:
            row = (await conn.execute(select(users).where(users.c.id == i))).one()
        UserPublic.model_validate(row._mapping)

    def orm(factory: async_sessionmaker, begin: bool = True) -> Callable[[int], Awaitable[None]]:  # type: ignore[type-arg]
        async def read(i: int) -> None:
            if begin:
                async with factory() as session, session.begin():
                    user = await repository.get_user(session, i)
            else:
                async with factory() as session:
                    user = await repository.get_user(session, i)
            UserPublic.model_validate(user)

        return read

    def cpu(fn: Callable[[int], Awaitable[None]]) -> Callable[[], Awaitable[float]]:
        async def loop() -> None:
            for i in range(1, ops + 1):
                await fn(i)

        return lambda: timed(loop, ops, clock=time.process_time)

    variants = {
        "raw asyncpg pool.fetchrow + UserPublic": cpu(raw),
        "engine checkout, SQLAlchemy's pool_pre_ping (3 round trips)": cpu(checkout_builtin_ping),
        "engine checkout, the asset's ping (1 round trip)": cpu(checkout),
        "engine checkout, pool_pre_ping off": cpu(checkout_no_ping),
        "Core select in engine.begin()": cpu(core),
        "asset request: session.begin() + session.get": cpu(
            orm(async_sessionmaker(engine, expire_on_commit=False))
        ),
        "asset request, pool_pre_ping off": cpu(
            orm(async_sessionmaker(no_ping, expire_on_commit=False))
        ),
        "session.get on an AUTOCOMMIT engine (no BEGIN/COMMIT)": cpu(
            orm(async_sessionmaker(autocommit, expire_on_commit=False), begin=False)
        ),
    }
    try:
        result = await interleave(
            CASE, backend.name, variants, mode.budget(7, 45), scale=1e6, unit="µs CPU"
        )
    finally:
        await pool.close()
        await empty_tables(engine)
        await engine.dispose()
        await no_ping.dispose()
        await builtin_ping.dispose()
    return result
