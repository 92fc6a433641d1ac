"""Where a GET /users/{id}'s CPU goes, layer by layer, in-process (PostgreSQL, CPU time).

Each variant adds or removes one part of what the asset app does per request; the figure is
this process's CPU time per operation, so waiting on the network does not count. After the
timed repetitions, the previous and the current asset request run once more under cProfile,
and each row of those two gets the share of its CPU time spent in each library.
"""

import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app import repository
from app.db.reads import read_sessionmaker
from app.models import User
from app.schemas import UserPublic
from bench.db import Backend, asset_engine, empty_tables, reset_schema
from bench.runner import Case, Mode, Row, interleave, timed
from bench.seed import copy_rows, user_rows
from bench.servers.core_lists import PUBLIC_USER_COLUMNS

TITLE = "request anatomy"
SQL = "SELECT id, email, name, is_active, created_at, updated_at FROM users WHERE id = $1"
PREVIOUS_REQUEST = "previous asset request: ping every checkout, session.begin() + session.get"
ASSET_REQUEST = "asset request: read session (ping after idle, no BEGIN/COMMIT)"
CHECKOUT_PING = "engine checkout, a ping every checkout (1 round trip)"
CHECKOUT_IDLE = "engine checkout, ping after idle (none under load)"
CHECKOUT_OFF = "engine checkout, pool_pre_ping off"
ASSET_NO_PING = "session.begin() + session.get, pool_pre_ping off"
AUTOCOMMIT_GET = "session.get on an AUTOCOMMIT engine (no BEGIN/COMMIT), pool_pre_ping off"
Op = Callable[[int], Awaitable[None]]

# where a profiled function's own time is counted: the first matching path fragment
LIBRARIES = (
    ("sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("sqlalchemy/engine/", "SQLAlchemy Core (engine, result)"),
    ("sqlalchemy/sql/", "SQLAlchemy Core (statements, cache keys)"),
    ("sqlalchemy/pool/", "SQLAlchemy pool"),
    ("sqlalchemy/dialects/", "SQLAlchemy asyncpg dialect"),
    ("sqlalchemy/", "SQLAlchemy other (events, greenlet bridge, util)"),
    ("asyncpg/", "asyncpg"),
    ("pydantic", "pydantic"),
    ("asyncio/", "asyncio event loop"),
)


def _library(filename: str, function: str) -> str:
    if filename == "~":
        # built-ins: the kernel calls and the greenlet switches are the ones worth naming
        if "greenlet" in function:
            return "greenlet switches"
        if any(word in function for word in ("socket", "send", "recv", "epoll", "select")):
            return "socket and epoll system calls"
        return "other built-ins"
    return next((name for part, name in LIBRARIES if part in filename), "other Python")


async def profile_shares(op: Op, ops: int) -> dict[str, float]:
    """Run op ops times under cProfile; the share of own time per library, largest first."""
    # CPU time, not wall time: waiting in epoll for the server's answer is not work
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(1, ops + 1):
        await op(i)
    profiler.disable()
    totals: dict[str, float] = {}
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.items():
        library = _library(filename, function)
        totals[library] = totals.get(library, 0.0) + own
    whole = sum(totals.values()) or 1.0
    return dict(sorted(((k, v / whole) for k, v in totals.items()), key=lambda kv: -kv[1]))


async def run(backend: Backend, mode: Mode) -> list[Row]:
    ops = mode.pick(200, 20)
    # the asset engine: a ping only after a connection sat idle, none under load
    engine = asset_engine(backend)
    # the engine before issue 16: the same one-round-trip ping at every checkout
    every_ping = asset_engine(backend, db_pool_ping_after_idle=0)
    no_ping = asset_engine(backend, db_pool_pre_ping=False)
    # SQLAlchemy's own pool_pre_ping, which the asset engine replaces with a one-round-trip ping
    builtin_ping = create_async_engine(backend.url, pool_pre_ping=True)
    await reset_schema(engine)
    await copy_rows(backend, "users", user_rows(ops))
    autocommit = no_ping.execution_options(isolation_level="AUTOCOMMIT")
    reads = read_sessionmaker(engine)
    pool = await asyncpg.create_pool(backend.raw, min_size=1, max_size=2)
    users = User.__table__

    async def raw(i: int) -> None:
        UserPublic.model_validate(dict(await pool.fetchrow(SQL, i)))

    def checkout(on: object) -> Op:
        async def read(i: int) -> None:
            async with on.connect() as conn:  # type: ignore[attr-defined]
                await conn.get_raw_connection()

        return read

    async def core(i: int) -> None:
        async with engine.begin() as conn:
            row = (await conn.execute(select(users).where(users.c.id == i))).one()
        UserPublic.model_validate(row._mapping)

    def orm(factory: async_sessionmaker[AsyncSession], begin: bool = True) -> Op:
        async def read(i: int) -> None:
            if begin:
                async with factory() as session, session.begin():
                    user = await repository.get_user(session, i)
            else:
                async with factory() as session:
                    user = await repository.get_user(session, i)
            UserPublic.model_validate(user)

        return read

    async def reads_core(i: int) -> None:
        async with reads() as session:
            stmt = select(*PUBLIC_USER_COLUMNS).where(User.id == i)
            row = (await session.execute(stmt)).mappings().one()
        UserPublic.model_validate(row)

    def cpu(fn: Op) -> Callable[[], Awaitable[float]]:
        async def loop() -> None:
            for i in range(1, ops + 1):
                await fn(i)

        return lambda: timed(loop, ops, clock=time.process_time)

    ops_by_name: dict[str, Op] = {
        "raw asyncpg pool.fetchrow + UserPublic": raw,
        "engine checkout, SQLAlchemy's pool_pre_ping (3 round trips)": checkout(builtin_ping),
        CHECKOUT_PING: checkout(every_ping),
        CHECKOUT_IDLE: checkout(engine),
        CHECKOUT_OFF: checkout(no_ping),
        "Core select in engine.begin()": core,
        PREVIOUS_REQUEST: orm(async_sessionmaker(every_ping, expire_on_commit=False)),
        ASSET_NO_PING: orm(async_sessionmaker(no_ping, expire_on_commit=False)),
        AUTOCOMMIT_GET: orm(async_sessionmaker(autocommit, expire_on_commit=False), begin=False),
        ASSET_REQUEST: orm(reads, begin=False),
        "asset read session, Core select + mappings()": reads_core,
    }
    try:
        result = await interleave(
            TITLE,
            backend.name,
            {name: cpu(op) for name, op in ops_by_name.items()},
            mode.budget(7, 45),
            scale=1e6,
            unit="µs CPU",
        )
        for row in result:
            if row.variant in (PREVIOUS_REQUEST, ASSET_REQUEST):
                row.extra["profile"] = await profile_shares(ops_by_name[row.variant], ops)
    finally:
        await pool.close()
        await empty_tables(engine)
        for each in (engine, every_ping, no_ping, builtin_ping):
            await each.dispose()
    return result


CASE = Case(
    "anatomy",
    TITLE,
    run,
    "PostgreSQL only: the CPU time of this process per GET /users/{id} (200 per "
    "repetition), one part of the asset app's request added or removed at a time.",
    backends=("postgresql",),
)
