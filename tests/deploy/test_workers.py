"""Several workers: `uvicorn --workers 2` multiplies the pool, and the budget from settings holds.

A throwaway cluster with max_connections=20 (17 for the app's role, 3 reserved for superusers)
serves the asset app under uvicorn with two worker processes and a bounded load that keeps
more requests in flight than the pools hold.
"""

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Base
from tests.databases import dsn
from tests.servers import Cluster, available, cluster, free_port

ASSETS = Path(__file__).resolve().parents[2] / "assets"
WORKERS = 2
REQUESTS = 240
IN_FLIGHT = 40
TOO_MANY = ("too many clients", "remaining connection slots are reserved")


SQLITE_REASON = "max_connections is a server's limit"
pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture(scope="module")
def small_server() -> Iterator[Cluster]:
    settings = {"max_connections": "20", "superuser_reserved_connections": "3"}
    yield from available(cluster(settings))


@pytest.fixture(scope="module")
async def app_url(small_server: Cluster) -> AsyncIterator[str]:
    """The app's database on the small server, owned by a role that is no superuser."""
    admin = await asyncpg.connect(dsn(small_server.url()), timeout=10)
    try:
        await admin.execute("CREATE ROLE app LOGIN")
        await admin.execute("CREATE DATABASE app OWNER app")
    finally:
        await admin.close()
    url = small_server.url("app").replace("postgres@", "app@")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    yield url


async def app_connections(admin: asyncpg.Connection) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND datname = 'app'"
    )
    return count


async def serve_under_load(
    url: str, pool_size: int, max_overflow: int, *, hold: bool = False
) -> tuple[list[int], int, int, str]:
    """Run the app under uvicorn --workers, send the load, return (statuses, the most app
    connections pg_stat_activity showed during it, the count once idle, uvicorn's log).

    With `hold`, a lock on the users table keeps every request that got a connection waiting
    until the first response arrives, so all IN_FLIGHT requests want a connection at once
    (however fast the machine serves them) and that first response is a refused one."""
    port = free_port()
    env = os.environ | {
        "PYTHONPATH": str(ASSETS),
        "DATABASE_URL": url,
        "DB_POOL_SIZE": str(pool_size),
        "DB_MAX_OVERFLOW": str(max_overflow),
        "DB_POOL_TIMEOUT": "30",
    }
    command = ["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    server = await asyncio.create_subprocess_exec(
        sys.executable, *command, "--workers", str(WORKERS), "--no-access-log",
        cwd=ASSETS, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    admin = await asyncpg.connect(dsn(url.replace("app@", "postgres@")), timeout=10)
    try:
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
            async with asyncio.timeout(60):
                while True:
                    try:
                        if (await client.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
            gate = asyncio.Semaphore(IN_FLIGHT)
            answered = asyncio.Event()

            async def send(i: int) -> int:
                """The status code, or 0 when the server dropped the connection."""
                async with gate:
                    try:
                        response = await client.get("/users", params={"limit": 1 + i % 5})
                    except httpx.TransportError:
                        return 0
                    finally:
                        answered.set()
                    return response.status_code

            lock = admin.transaction()
            if hold:
                await lock.start()
                await admin.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            load = asyncio.gather(*(send(i) for i in range(REQUESTS)))
            peak = 0
            async with asyncio.timeout(120):
                # the most app connections the server held at any moment of the load
                while not load.done():
                    peak = max(peak, await app_connections(admin))
                    if hold and answered.is_set():
                        hold = False
                        await lock.rollback()
                    await asyncio.sleep(0)
                statuses = await load
        idle = await app_connections(admin)
    finally:
        await admin.close()
        server.terminate()
        async with asyncio.timeout(30):
            _, log = await server.communicate()
    return statuses, peak, idle, log.decode(errors="replace")


async def test_workers_hold_pool_budget_under_max_connections(app_url: str) -> None:
    pool_size, max_overflow = 2, 3
    statuses, peak, idle, log = await serve_under_load(app_url, pool_size, max_overflow)
    assert statuses == [200] * REQUESTS
    assert not any(error in log for error in TOO_MANY)
    # the arithmetic check_db does: workers x (pool_size + max_overflow) = 10 <= 17
    budget = WORKERS * (pool_size + max_overflow)
    assert pool_size < peak <= budget
    # overflow connections close when returned, so each worker keeps at most pool_size open:
    # fewer when it never needed that many at once (the kernel may hand it few requests)
    assert 1 <= idle <= WORKERS * pool_size


async def test_workers_over_budget_run_out_of_connections(app_url: str) -> None:
    # 2 x (10 + 10) = 40 > 17: the server refuses connections past its limit
    statuses, peak, _, log = await serve_under_load(app_url, 10, 10, hold=True)
    assert peak <= 17
    assert any(status != 200 for status in statuses)
    assert any(error in log for error in TOO_MANY)
