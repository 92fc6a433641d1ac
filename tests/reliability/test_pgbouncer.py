"""PgBouncer in transaction pooling mode in front of PostgreSQL.

Each transaction may run on any of PgBouncer's server connections, and those outlive the
app's processes; prepared statements live on one server connection. Two PgBouncers: Debian 12's
1.18, which has no prepared statement support, and 1.24 built by .ci/build-pgbouncer, whose
max_prepared_statements (1.21+) tracks them so that the statement caches may stay on.
"""

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.reliability.pgbouncer import StartPgBouncer
from tests.reliability.support import MakeEngine, Serve

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ALREADY_EXISTS = (
    r"\(sqlalchemy\.dialects\.postgresql\.asyncpg\.ProgrammingError\) "
    r'prepared statement "__asyncpg_stmt_1__" already exists'
)
DOES_NOT_EXIST = (
    r"\(sqlalchemy\.dialects\.postgresql\.asyncpg\.Error\) "
    r'prepared statement "__asyncpg_[\w-]+__" does not exist'
)
# one app process: connect, one query, report the first line of any error; "unique" is
# SQLAlchemy's documented recipe for PgBouncer, a new statement name each time
ONE_PROCESS = """
import asyncio, sys, uuid
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from app.db.config import DatabaseSettings
from app.db.engine import create_engine

async def main():
    url, mode = sys.argv[1], sys.argv[2]
    if mode == "unique":
        names = {"prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__"}
        engine = create_async_engine(url, connect_args=names)
    else:
        # no server-side timeouts: PgBouncer would refuse them as startup parameters
        settings = DatabaseSettings(
            database_url=url,
            db_pgbouncer=mode == "pgbouncer",
            db_statement_timeout=0,
            db_idle_in_transaction_timeout=0,
        )
        engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            await conn.execute(select(1))
    except Exception as exc:
        print(str(exc).splitlines()[0])
    else:
        print("ok")
    finally:
        await engine.dispose()

asyncio.run(main())
"""


async def run_app_process(url: str, mode: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ONE_PROCESS,
        url,
        mode,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ASSETS)},
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


RESTARTS = 2


@pytest.mark.parametrize(
    ("mode", "prepared", "outcome", "piles_up"),
    [
        ("default", None, ALREADY_EXISTS, None),
        ("unique", None, "ok", True),
        ("pgbouncer", None, "ok", False),
        ("default", 0, ALREADY_EXISTS, None),
        ("default", 100, "ok", False),
    ],
    ids=["default", "unique_names", "pgbouncer", "default-1.24-untracked", "default-1.24-tracked"],
)
async def test_app_restart_behind_pgbouncer_reuses_statement_names(
    start_pgbouncer: StartPgBouncer,
    mode: str,
    prepared: int | None,
    outcome: str,
    piles_up: bool | None,
) -> None:
    """A new process numbers its statements from 1 again, on a server connection that still
    holds the previous process's: "already exists", unless statements are unnamed, named
    uniquely, or PgBouncer (1.21+, max_prepared_statements) renames them itself."""
    url = await start_pgbouncer(pool_size=1, prepared=prepared)
    outcomes, left = [], []
    for _ in range(RESTARTS):
        outcomes.append(await run_app_process(url, mode))
        left.append(await prepared_statements_left(url))
    assert outcomes[0] == "ok"
    assert all(re.fullmatch(outcome, later) for later in outcomes[1:]), outcomes
    if piles_up:
        # unique names never collide, but nothing deallocates them: each process leaves its
        # statements on the server connection, which outlives it
        assert left == [left[0] * n for n in range(1, RESTARTS + 1)] and left[0] > 0
    elif piles_up is False:
        # unnamed statements leave nothing; a tracking PgBouncer shares one server-side
        # statement per query text among its clients
        assert left == [left[0]] * RESTARTS


NO_SERVER_TIMEOUTS = {"db_statement_timeout": 0, "db_idle_in_transaction_timeout": 0}


def unique_names_engine(url: str) -> AsyncEngine:
    """SQLAlchemy's asyncpg documentation: unique names (which it pairs with NullPool)."""
    return create_async_engine(
        url, connect_args={"prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__"}
    )


@pytest.mark.parametrize(
    ("settings", "prepared", "error"),
    [
        ({}, None, DOES_NOT_EXIST),
        ("unique names", None, DOES_NOT_EXIST),
        ({"db_pgbouncer": True}, None, None),
        ({}, 0, DOES_NOT_EXIST),
        ({}, 100, None),
    ],
    ids=["default", "unique_names", "pgbouncer", "default-1.24-untracked", "default-1.24-tracked"],
)
async def test_cached_statement_behind_pgbouncer_runs_on_other_server_connection(
    start_pgbouncer: StartPgBouncer,
    make_engine: MakeEngine,
    settings: dict[str, Any] | str,
    prepared: int | None,
    error: str | None,
) -> None:
    url = await start_pgbouncer(pool_size=2, prepared=prepared)
    if isinstance(settings, str):
        engine = unique_names_engine(url)
    else:
        # no server-side timeouts: PgBouncer would refuse them as startup parameters
        engine = make_engine(database_url=url, **NO_SERVER_TIMEOUTS, **settings)
    first = await engine.connect()
    await first.execute(select(1))
    await first.commit()
    # another client's open transaction takes that server connection: the next transaction
    # of the first client runs on a second one, where its cached statement was never prepared
    other = await engine.connect()
    await other.execute(text("SELECT 2"))
    try:
        if error is None:
            assert (await first.execute(select(1))).scalar_one() == 1
        else:
            with pytest.raises(DBAPIError) as raised:
                await first.execute(select(1))
            message = str(raised.value).splitlines()[0]
            assert re.fullmatch(error, message), message
            driver = raised.value.driver_exception
            assert isinstance(driver, asyncpg.InvalidSQLStatementNameError)
    finally:
        await other.close()
        await first.close()
        await engine.dispose()


REQUESTS = 300
CONCURRENCY = 10


async def prepared_statements_left(url: str) -> int:
    """Prepared statements on the server connection PgBouncer hands out next."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, statement_cache_size=0, timeout=5)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements")
        return count
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("pgbouncer", "prepared"),
    [(True, None), (False, 100)],
    ids=["pgbouncer", "default-1.24-tracked"],
)
async def test_pgbouncer_settings_serve_300_requests(
    start_pgbouncer: StartPgBouncer,
    make_engine: MakeEngine,
    serve: Serve,
    pgbouncer: bool,
    prepared: int | None,
) -> None:
    url = await start_pgbouncer(pool_size=2, prepared=prepared)
    # no server-side timeouts: PgBouncer would refuse them as startup parameters
    engine = make_engine(
        database_url=url,
        db_pgbouncer=pgbouncer,
        db_pool_size=5,
        db_max_overflow=5,
        **NO_SERVER_TIMEOUTS,
    )
    gate = asyncio.Semaphore(CONCURRENCY)
    async with serve(engine) as client:
        body = {"email": "bouncer@example.com", "name": "Bouncer", "password": "long-enough"}
        user_id = (await client.post("/users", json=body)).json()["id"]
        requests = [
            ("POST", f"/users/{user_id}/posts", {"title": "via PgBouncer"}),
            ("GET", "/users", None),
            ("GET", f"/users/{user_id}", None),
            ("GET", "/posts", None),
            ("PATCH", f"/users/{user_id}", {"name": "Renamed"}),
            ("GET", f"/users/{user_id}/posts", None),
        ]

        async def send(i: int) -> int:
            method, path, json = requests[i % len(requests)]
            async with gate:
                return (await client.request(method, path, json=json)).status_code

        async with asyncio.timeout(120):
            statuses = await asyncio.gather(*(send(i) for i in range(REQUESTS)))
        posts = (await client.get(f"/users/{user_id}/posts")).json()["count"]
    assert sorted(set(statuses)) == [200, 201]
    assert posts == statuses[:: len(requests)].count(201) == REQUESTS // len(requests)
    await engine.dispose()
    # unnamed statements leave nothing behind on PgBouncer's server connections; a tracking
    # PgBouncer keeps at most max_prepared_statements on each
    assert await prepared_statements_left(url) <= (prepared or 0)
