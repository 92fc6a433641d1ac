"""The asset app, its previous read path and its pool variants under uvicorn vs a raw asyncpg
app (PostgreSQL).

Servers run as subprocesses (127.0.0.1, a free port each); load comes from separate
bench.loadgen processes; server CPU time comes from /proc before and after each load run, and
the connections each server opened from pg_stat_database.sessions. Three groups of variants,
each interleaved: GET /users/{id}, GET /users (a list), POST /users. The servers' pools add
up to at most 70 connections, below PostgreSQL's default max_connections of 100.
"""

import asyncio
import statistics
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints

from bench.db import Backend, asset_engine, reset_schema
from bench.runner import Case, Mode, Row
from bench.seed import copy_rows, user_rows
from bench.servers.process import Load, Server, drive

TITLE = "HTTP"
ASSET = "app.main:app"
# the pool the asset app had before issue 16: overflow connections, closed when returned to a
# full pool, opened again under the next burst
OVERFLOW_POOL = {"DB_POOL_SIZE": "5", "DB_MAX_OVERFLOW": "10"}
# the read path before issue 16: a ping at every checkout, reads in BEGIN ... COMMIT
PREVIOUS_SETTINGS = {"DB_POOL_PING_AFTER_IDLE": "0"} | OVERFLOW_POOL
# two workers share the same ten connections
HALF_POOL = {"DB_POOL_SIZE": "5", "DB_MAX_OVERFLOW": "0"}

Measure = Callable[[], Awaitable[dict[str, float]]]

GET = "GET /users/{id}"
RAW = "raw asyncpg app"
PREVIOUS = "previous asset read path (ping every checkout, BEGIN/COMMIT), pool 5+10"
ASSET_APP = "asset app, pool 10+0"
ASSET_OVERFLOW = "asset app, pool 5+10"
ASSET_TWO = "asset app, 2 workers x pool 5+0"
LIST = "GET /users?limit=50"
LIST_ORM = "asset app (ORM objects)"
LIST_CORE = "asset app, Core select + mappings()"


def _rows(backend: str, label: str, results: dict[str, list[dict[str, float]]]) -> list[Row]:
    names = list(results)
    base = results[names[0]]
    rows = []
    for name in names:
        runs = results[name]
        row = Row(
            TITLE,
            backend,
            f"{label}: {name}",
            f"{label}: {names[0]}",
            samples=[r["rps"] for r in runs],
            ratios=[r["rps"] / b["rps"] for r, b in zip(runs, base, strict=True)],
            unit="req/s",
        )
        cpu_ratio = [r["cpu_ms"] / b["cpu_ms"] for r, b in zip(runs, base, strict=True)]
        row.extra = {
            "CPU ms/req": statistics.median(r["cpu_ms"] for r in runs),
            "CPU ratio": statistics.median(cpu_ratio),
            "CPU ratio range": (min(cpu_ratio), max(cpu_ratio)),
            "p50 ms": statistics.median(r["p50"] for r in runs),
            "p99 ms": statistics.median(r["p99"] for r in runs),
            "cores busy": statistics.median(r["cores"] for r in runs),
            "new connections per 1,000 req": statistics.median(r["connects"] for r in runs),
        }
        rows.append(row)
    return rows


async def _interleave(
    variants: dict[str, Measure], reps: int, seconds: float
) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    names = list(variants)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for rep in range(reps):
        if rep > 0 and loop.time() - started > seconds:
            break
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(await variants[name]())
    return results


async def _measure(
    backend: Backend,
    variants: dict[str, dict[str, tuple[Server, Load]]],
    reps: dict[str, int],
    seconds: dict[str, float],
) -> list[Row]:
    """Start every server once, then measure each group's variants interleaved."""
    servers = list({id(s): s for group in variants.values() for s, _ in group.values()}.values())
    admin = await asyncpg.connect(backend.raw)
    database = backend.raw.rsplit("/", 1)[1]
    runs = iter(range(10**6))

    async def sessions() -> int:
        found = await admin.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", database
        )
        return int(found or 0)

    def measure(server: Server, load: Load) -> Measure:
        async def once() -> dict[str, float]:
            before = await sessions()
            # the tag makes each POST's email unique across runs
            result = await drive(server, load, f"r{next(runs)}")
            result["connects"] = (await sessions() - before) * 1000 / result["done"]
            return result

        return once

    rows: list[Row] = []
    try:
        for server in servers:
            server.start()
        await asyncio.gather(*(s.wait_ready() for s in servers))
        for label, group in variants.items():
            results = await _interleave(
                {name: measure(s, load) for name, (s, load) in group.items()},
                reps[label],
                seconds[label],
            )
            rows += _rows(backend.name, label, results)
    finally:
        for server in servers:
            server.stop()
        await admin.close()
    return rows


async def run(backend: Backend, mode: Mode) -> list[Row]:
    engine = asset_engine(backend)
    await reset_schema(engine)
    await engine.dispose()
    await copy_rows(backend, "users", user_rows(1000))
    url = {"DATABASE_URL": backend.url}
    get = Load("/users/{id}", "GET", mode.pick(2500, 20), 3.0, 16, 2)
    ping = Load("/ping", "GET", mode.pick(2500, 20), 3.0, 16, 2)
    page = Load("/users?limit=50", "GET", mode.pick(1500, 10), 3.0, 16, 2)
    post = Load("/users", "POST", mode.pick(80, 4), 5.0, 8, 1)

    raw = Server(RAW, "bench.servers.raw:app", url, "/ping")
    previous = Server(PREVIOUS, "bench.servers.previous:app", url | PREVIOUS_SETTINGS, "/users/1")
    asset = Server(ASSET_APP, ASSET, url, "/users/1")
    overflow = Server(ASSET_OVERFLOW, ASSET, url | OVERFLOW_POOL, "/users/1")
    two = Server(ASSET_TWO, ASSET, url | HALF_POOL, "/users/1", workers=2)
    core = Server(LIST_CORE, "bench.servers.core_lists:app", url, "/users/1")
    gets = {
        RAW: (raw, get),
        PREVIOUS: (previous, get),
        ASSET_APP: (asset, get),
        ASSET_OVERFLOW: (overflow, get),
        ASSET_TWO: (two, get),
        "no-database /ping (ceiling)": (raw, ping),
    }
    lists = {LIST_ORM: (asset, page), LIST_CORE: (core, page)}
    if mode.smoke:
        # every server module once; the pool and worker variants only differ in settings
        for name in (ASSET_OVERFLOW, ASSET_TWO):
            del gets[name]
    return await _measure(
        backend,
        {GET: gets, LIST: lists, "POST /users": {RAW: (raw, post), ASSET_APP: (asset, post)}},
        {GET: mode.pick(5, 1), LIST: mode.pick(4, 1), "POST /users": mode.pick(3, 1)},
        {GET: 200.0, LIST: 90.0, "POST /users": 60.0},
    )


CASE = Case(
    "http",
    TITLE,
    run,
    "PostgreSQL only: GET /users/{id} (2,500 requests per repetition over 32 keep-alive "
    "connections), GET /users?limit=50 (1,500) and POST /users (80), each load bounded by a "
    "deadline, against servers under uvicorn.",
    backends=("postgresql",),
    seconds=420.0,
)
