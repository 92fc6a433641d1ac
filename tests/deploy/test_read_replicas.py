"""assets/patterns/read_replicas.py against a real streaming replica (pg_basebackup -R).

A primary cluster with replication on, a replica of it on a port of its own; the asset app's
session dependency is replaced by the routed one, as the pattern's docstring says to do.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from httpx import ASGITransport, AsyncClient
from patterns import read_replicas
from patterns.read_replicas import ReplicaSettings, create_replica_engine, routed_session
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.requests import Request

from app.db import Base, get_read_session, get_session
from app.main import app
from app.models import User
from tests.databases import dsn
from tests.servers import (
    REPLICATION_HBA,
    REPLICATION_SETTINGS,
    Cluster,
    available,
    cluster,
    replica,
)

SQLITE_REASON = "a database file has no replicas"
pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture(scope="module")
def primary_server() -> Iterator[Cluster]:
    yield from available(cluster(REPLICATION_SETTINGS, hba=REPLICATION_HBA))


@pytest.fixture(scope="module")
async def schema(primary_server: Cluster) -> str:
    engine = create_async_engine(primary_server.url())
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    return primary_server.url()


@pytest.fixture(scope="module")
def replica_server(primary_server: Cluster, schema: str) -> Iterator[Cluster]:
    yield from available(replica(primary_server))


@pytest.fixture
async def engines(
    primary_server: Cluster, replica_server: Cluster
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    settings = ReplicaSettings(
        database_url=primary_server.url(), replica_database_url=replica_server.url()
    )
    primary = create_async_engine(primary_server.url())
    replica_engine = create_replica_engine(settings, primary)
    yield primary, replica_engine
    if not replica_server.running():
        replica_server.start()
    await replica_engine.dispose()
    await primary.dispose()
    async with asyncio.timeout(30):
        await caught_up(primary_server, replica_server)
    admin = await asyncpg.connect(dsn(primary_server.url()))
    await admin.execute("TRUNCATE users CASCADE")
    await admin.close()


@pytest.fixture
async def client(engines: tuple[AsyncEngine, AsyncEngine]) -> AsyncIterator[AsyncClient]:
    # the routes that read (ReadSessionDep) and the routes that write (SessionDep) alike
    routed = routed_session(*engines)
    app.dependency_overrides[get_session] = app.dependency_overrides[get_read_session] = routed
    try:
        transport = ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.dependency_overrides.pop(get_read_session, None)


async def caught_up(primary: Cluster, standby: Cluster) -> None:
    """Wait until the replica has replayed everything the primary has written."""
    source = await asyncpg.connect(dsn(primary.url()))
    target = await asyncpg.connect(dsn(standby.url()))
    try:
        lsn = await source.fetchval("SELECT pg_current_wal_lsn()")
        while await target.fetchval("SELECT pg_last_wal_replay_lsn() < $1", lsn):
            await asyncio.sleep(0.05)
    finally:
        await source.close()
        await target.close()


async def replay(standby: Cluster, action: str) -> None:
    conn = await asyncpg.connect(dsn(standby.url()))
    try:
        await conn.execute(f"SELECT pg_wal_replay_{action}()")
    finally:
        await conn.close()


def request(method: str) -> Request:
    return Request({"type": "http", "method": method, "headers": [], "query_string": b""})


IN_RECOVERY = select(func.pg_is_in_recovery())


async def test_read_from_replica_until_request_writes(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    dependency = routed_session(*engines)
    sessions = dependency(request("GET"))
    session = await anext(sessions)
    assert await session.scalar(IN_RECOVERY) is True
    session.add(User(email="own@example.com", name="Own", hashed_password="x"))
    await session.flush()
    # read-your-writes: after the flush the session reads from the primary, row included
    assert await session.scalar(IN_RECOVERY) is False
    assert await session.scalar(select(User.name).where(User.email == "own@example.com")) == "Own"
    await sessions.aclose()  # type: ignore[attr-defined]  # an async generator


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_write_requests_read_from_primary(
    engines: tuple[AsyncEngine, AsyncEngine], method: str
) -> None:
    sessions = routed_session(*engines)(request(method))
    session = await anext(sessions)
    assert await session.scalar(IN_RECOVERY) is False
    await sessions.aclose()  # type: ignore[attr-defined]  # an async generator


async def test_read_after_write_in_other_request_may_lag(
    client: AsyncClient,
    engines: tuple[AsyncEngine, AsyncEngine],
    primary_server: Cluster,
    replica_server: Cluster,
) -> None:
    # replay paused: the replica stays behind, as it does under load or across regions
    await replay(replica_server, "pause")
    try:
        body = {"email": "lag@example.com", "name": "Lag", "password": "long-enough"}
        created = await client.post("/users", json=body)
        assert created.status_code == 201
        path = f"/users/{created.json()['id']}"
        assert (await client.get(path)).status_code == 404
        # the primary has it: a read that must see the write uses SessionDep
        async with engines[0].connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM users")) == 1
    finally:
        await replay(replica_server, "resume")
    async with asyncio.timeout(30):
        await caught_up(primary_server, replica_server)
    assert (await client.get(path)).json()["name"] == "Lag"


async def test_read_from_primary_while_replica_is_down(
    client: AsyncClient,
    engines: tuple[AsyncEngine, AsyncEngine],
    replica_server: Cluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = {"email": "down@example.com", "name": "Down", "password": "long-enough"}
    user_id = (await client.post("/users", json=body)).json()["id"]
    replica_server.stop("fast")
    statuses: list[Any] = [(await client.get(f"/users/{user_id}")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    sessions = routed_session(*engines)(request("GET"))
    session = await anext(sessions)
    assert await session.scalar(IN_RECOVERY) is False
    await sessions.aclose()  # type: ignore[attr-defined]  # an async generator
    replica_server.start()
    # connections made to the primary in the replica's place try the replica again once
    # RETRY_REPLICA_AFTER has passed: here at once
    monkeypatch.setattr(read_replicas, "RETRY_REPLICA_AFTER", 0.0)
    sessions = routed_session(*engines)(request("GET"))
    session = await anext(sessions)
    assert await session.scalar(IN_RECOVERY) is True
    await sessions.aclose()  # type: ignore[attr-defined]  # an async generator
