"""Two cases of failure paths. PostgreSQL: seconds until a request on a half-open connection gets
its 503. SQLite: reads served while a write transaction is held, and a mixed read/write load,
for the asset design (WAL, deferred reads) against the designs it replaced.

The half-open connection is a TCP proxy on 127.0.0.1 that stops forwarding (tests/reliability/
proxy.py); the engine uses short timeouts (FAST) so that a repetition takes seconds, and the
time to 503 scales with them: ping timeout + connect timeout, or the command timeout.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from httpx import ASGITransport, AsyncClient
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from app.api.deps import get_engine
from app.db import Base, get_read_session, get_session
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.db.reads import read_sessionmaker
from app.main import app
from app.models import User
from bench.db import Backend
from bench.runner import Case, Mode, Row, interleave
from tests.reliability.designs import rollback_journal_engine
from tests.reliability.proxy import FAST, FreezingProxy

CASE_HALF_OPEN = "half-open connection"
CASE_READERS = "SQLite readers and writers"
READERS = 20
# the asset default (DB_SQLITE_BUSY_TIMEOUT=5)
BUSY_TIMEOUT_MS = 5000
MIXED_REQUESTS = 200


@asynccontextmanager
async def served(
    writes: async_sessionmaker[AsyncSession],
    reads: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
) -> AsyncIterator[AsyncClient]:
    """The asset app on these session factories, through its real exception handlers."""

    def override(factory: async_sessionmaker[AsyncSession], begin: bool) -> Callable[[], Any]:
        async def session() -> AsyncIterator[AsyncSession]:
            async with factory() as s:
                # as app/db/session.py: writes in session.begin(), reads without
                if begin:
                    async with s.begin():
                        yield s
                else:
                    yield s

        return session

    app.dependency_overrides.update(
        {get_session: override(writes, True), get_read_session: override(reads, False)}
    )
    app.dependency_overrides[get_engine] = lambda: engine
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client
    finally:
        app.dependency_overrides.clear()


def _factories(engine: AsyncEngine) -> tuple[Any, Any]:
    return (
        async_sessionmaker(engine, expire_on_commit=False),
        read_sessionmaker(engine),
    )


async def _timed_503(
    backend: Backend,
    path: str,
    *,
    mid_request: bool = False,
    frozen: bool = True,
    **settings: Any,
) -> float:
    """Seconds from sending the request to its answer, a fresh proxy and engine each time."""
    url = make_url(backend.url)
    proxy = await FreezingProxy(url.host or "127.0.0.1", url.port or 5432).start(url)
    engine = create_engine(DatabaseSettings(database_url=proxy.url, **(FAST | settings)))
    writes, reads = _factories(engine)

    async def freezing() -> AsyncIterator[AsyncSession]:
        async with reads() as session, session.begin():
            await session.execute(text("SELECT 1"))
            proxy.freeze()
            yield session

    try:
        async with served(writes, reads, engine) as client:
            assert (await client.get(path)).status_code == 200
            if mid_request:
                app.dependency_overrides[get_read_session] = freezing
            elif frozen:
                proxy.freeze()
            start = time.perf_counter()
            async with asyncio.timeout(60):
                response = await client.get(path)
            took = time.perf_counter() - start
        assert response.status_code == (503 if frozen or mid_request else 200), response.text
        return took
    finally:
        await engine.dispose()
        await proxy.close()


async def half_open(backend: Backend, mode: Mode) -> list[Row]:
    variants: dict[str, Callable[[], Awaitable[float]]] = {
        "healthy connection, GET /users (200)": lambda: _timed_503(backend, "/users", frozen=False),
        "pooled connection half-open, GET /users": lambda: _timed_503(backend, "/users"),
        "same, connect timeout 1 s instead of 0.5 s": lambda: _timed_503(
            backend, "/users", db_connect_timeout=1.0
        ),
        "connection freezes mid-request, GET /users": lambda: _timed_503(
            backend, "/users", mid_request=True
        ),
        "pooled connection half-open, GET /health/ready": lambda: _timed_503(
            backend, "/health/ready"
        ),
    }
    async with _setup(backend):
        rows = await interleave(
            CASE_HALF_OPEN,
            backend.name,
            variants,
            mode.budget(5, 120),
            scale=1.0,
            unit="s",
            warmup=False,
        )
    for row in rows:
        row.extra["settings"] = "ping+connect 0.5 s, command 1 s, ready 0.8 s"
    return rows


@asynccontextmanager
async def _setup(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(database_url=backend.url))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        yield engine
    finally:
        await engine.dispose()


def sqlite_design(path: Path, *, wal: bool, busy_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine:
    """The asset engine, or without WAL (SQLite's rollback journal), as the first one was."""
    if not wal:
        return rollback_journal_engine(path, busy_timeout_ms=busy_ms)
    url = f"sqlite+aiosqlite:///{path}"
    return create_engine(DatabaseSettings(database_url=url, db_sqlite_busy_timeout=busy_ms / 1000))


# name -> (WAL, deferred reads, busy timeout in ms; None: the asset default)
DESIGNS: dict[str, tuple[bool, bool, int | None]] = {
    "WAL, deferred reads (asset)": (True, True, None),
    "WAL, every transaction IMMEDIATE": (True, False, None),
    "rollback journal, deferred reads": (False, True, None),
    "rollback journal, every transaction IMMEDIATE (before)": (False, False, None),
    "asset design, busy timeout 1 s": (True, True, 1000),
}


async def _reads_during_held_write(
    path: Path, wal: bool, deferred: bool, busy_ms: int, readers: int, mixed_requests: int
) -> dict[str, float]:
    engine = sqlite_design(path, wal=wal, busy_ms=busy_ms)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        writes, reads = _factories(engine)
        if not deferred:
            # the design before read sessions: every request begins IMMEDIATE
            reads = writes
        async with served(writes, reads, engine) as client:
            async with engine.begin() as writer:
                await writer.execute(
                    insert(User).values(email="held@example.com", name="H", hashed_password="x")
                )
                start = time.perf_counter()
                responses = await asyncio.gather(*(client.get("/users") for _ in range(readers)))
                took = time.perf_counter() - start
            mixed_start = time.perf_counter()
            gate = asyncio.Semaphore(readers)

            async def one(i: int) -> int:
                async with gate:
                    if i % 5 == 0:
                        body = {"email": f"m{i}@example.com", "name": "M", "password": "x" * 8}
                        return (await client.post("/users", json=body)).status_code
                    return (await client.get("/users")).status_code

            statuses = await asyncio.gather(*(one(i) for i in range(mixed_requests)))
            mixed = time.perf_counter() - mixed_start
    finally:
        await engine.dispose()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {
        "held": took,
        "held_ok": sum(r.status_code == 200 for r in responses) / readers,
        "mixed": mixed / mixed_requests,
        "mixed_errors": sum(s >= 500 for s in statuses),
    }


async def readers_during_write(backend: Backend, mode: Mode) -> list[Row]:
    base = Path(backend.raw).with_name("failure_paths.db")
    readers, mixed_requests = mode.pick(READERS, 4), mode.pick(MIXED_REQUESTS, 20)
    default_busy = mode.pick(BUSY_TIMEOUT_MS, 200)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in DESIGNS}

    def variant(name: str) -> Callable[[], Awaitable[float]]:
        async def run() -> float:
            wal, deferred, busy_ms = DESIGNS[name]
            measured = await _reads_during_held_write(
                base, wal, deferred, busy_ms or default_busy, readers, mixed_requests
            )
            results[name].append(measured)
            return measured["held"]

        return run

    rows = await interleave(
        CASE_READERS,
        backend.name,
        {f"{name}: {readers} reads during a held write": variant(name) for name in DESIGNS},
        mode.budget(5, 120),
        scale=1000.0,
        unit="ms",
        warmup=False,
    )
    for row, name in zip(rows, DESIGNS, strict=True):
        row.extra["reads answered 200"] = f"{min(r['held_ok'] for r in results[name]):.0%}"
        mixed = sorted(r["mixed"] * 1000 for r in results[name])
        row.extra[f"mixed load ms/request ({mixed_requests}, 1 write in 5)"] = mixed[
            len(mixed) // 2
        ]
        row.extra["mixed load 5xx"] = max(int(r["mixed_errors"]) for r in results[name])
    return rows


HALF_OPEN = Case(
    "half-open",
    CASE_HALF_OPEN,
    half_open,
    "One request per variant and repetition through a TCP proxy on 127.0.0.1 that stops "
    "forwarding; a fresh engine each time, 0.5 s to connect and ping, 1 s per command.",
    backends=("postgresql",),
)
SQLITE_READERS = Case(
    "sqlite-readers",
    CASE_READERS,
    readers_during_write,
    f"Per design and repetition: {READERS} concurrent GET /users while a write transaction is "
    f"held, then {MIXED_REQUESTS} requests, one write in five, {READERS} at a time.",
    backends=("sqlite",),
    seconds=300.0,
)
