"""Idle suspend: the server closes every connection while the app is idle, then comes back.

Scale-to-zero services (Neon suspends a compute after about five minutes idle) end every
connection the app's pool holds; the next requests must not fail. Here a throwaway cluster is
stopped and started again on the same port while the app's pool is full of idle connections.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import Base
from tests.reliability.support import MakeEngine, Serve
from tests.servers import Cluster, available, cluster

# the deploy reference's settings for a server that suspends: the ping on checkout, and
# connections recycled well before a proxy's idle limit
SUSPEND_SETTINGS = {"db_pool_pre_ping": True, "db_pool_recycle": 300}


@pytest.fixture(scope="module")
def suspending_server() -> Iterator[Cluster]:
    yield from available(cluster())


@pytest.fixture(scope="module")
async def suspending_url(suspending_server: Cluster) -> AsyncIterator[str]:
    url = suspending_server.url()
    schema = create_async_engine(url)
    async with schema.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await schema.dispose()
    yield url


@pytest.mark.parametrize(
    ("ping", "after"), [(True, [200] * 6), (False, [503] + [200] * 5)], ids=["ping", "no_ping"]
)
async def test_serve_requests_after_server_suspends_while_idle(
    engine: AsyncEngine,
    suspending_server: Cluster,
    suspending_url: str,
    make_engine: MakeEngine,
    serve: Serve,
    ping: bool,
    after: list[int],
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: a database file has no server to suspend")
    settings = SUSPEND_SETTINGS | {"db_pool_pre_ping": ping}
    app_engine = make_engine(database_url=suspending_url, db_pool_size=3, **settings)
    async with serve(app_engine) as client:
        # three connections in the pool, checked in and idle
        held = [await app_engine.connect() for _ in range(3)]
        for conn in held:
            await conn.close()
        assert (await client.get("/users")).status_code == 200
        suspending_server.stop("fast")
        suspending_server.start()
        statuses = [(await client.get("/users")).status_code for _ in range(len(after))]
    # without the ping, the first request meets a dead connection: SQLAlchemy then drops the
    # whole pool, and the next ones connect anew
    assert statuses == after
