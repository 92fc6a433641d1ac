"""Timeouts behind PgBouncer in transaction mode. Startup parameters are refused and a
session SET lands on whichever server connection the transaction got, so the server's timeouts
go on the role (ALTER ROLE ... SET); and a checkout ping that keeps failing while PgBouncer
keeps accepting connections must not end in the pool's InvalidRequestError (a 500)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InvalidRequestError

from app.db.errors import sqlstate
from app.errors import DATABASE_TIMEOUT, DATABASE_UNAVAILABLE
from tests.reliability.pgbouncer import StartPgBouncer
from tests.reliability.support import MakeEngine, Serve, server_dsn
from tests.troubleshooting_doc import assert_quoted, shown

HANG = 30
NEW_USER = {"email": "bounced@example.com", "name": "Bounced", "password": "long-enough"}


def as_user(url: str, user: str) -> str:
    return make_url(url).set(username=user).render_as_string(hide_password=False)


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def app_role(pg_admin: asyncpg.Connection) -> AsyncIterator[str]:
    """A login role with statement_timeout = 200ms set on it, allowed to use the app's tables."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    await pg_admin.execute(f'CREATE ROLE "{role}" LOGIN')
    await pg_admin.execute(f"ALTER ROLE \"{role}\" SET statement_timeout = '200ms'")
    await pg_admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
    await pg_admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    yield role
    await pg_admin.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1", role
    )
    await pg_admin.execute(f'DROP OWNED BY "{role}"')
    await pg_admin.execute(f'DROP ROLE "{role}"')


async def test_server_timeouts_as_startup_parameters_are_refused_by_pgbouncer(
    start_pgbouncer: StartPgBouncer, make_engine: MakeEngine, serve: Serve
) -> None:
    url = await start_pgbouncer()
    # wrong: DB_PGBOUNCER unset, so the engine sends statement_timeout when it connects
    engine = make_engine(database_url=url)
    with pytest.raises(DBAPIError) as raised:
        async with engine.connect():
            pass
    async with serve(engine) as client:
        response = await client.get("/users")
    assert_quoted("unsupported-startup-parameter-statement_timeout", shown(raised.value))
    assert sqlstate(raised.value) == "08P01"
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}


async def test_statement_timeout_set_on_role_holds_behind_pgbouncer(
    start_pgbouncer: StartPgBouncer,
    app_role: str,
    make_engine: MakeEngine,
    serve: Serve,
    pg_admin: asyncpg.Connection,
) -> None:
    url = as_user(await start_pgbouncer(pool_size=2, users=(app_role,)), app_role)
    engine = make_engine(database_url=url, db_pgbouncer=True)
    async with engine.connect() as conn:
        shown = (await conn.execute(text("SHOW statement_timeout"))).scalar_one()
    async with serve(engine) as client:
        user = (await client.post("/users", json=NEW_USER)).json()
        # another transaction holds the row: the UPDATE waits, and the role's timeout ends it
        holder = await asyncpg.connect(server_dsn(engine))
        try:
            async with holder.transaction():
                await holder.execute("UPDATE users SET name = 'Held' WHERE id = $1", user["id"])
                async with asyncio.timeout(HANG):
                    response = await client.patch(f"/users/{user['id']}", json={"name": "Late"})
        finally:
            await holder.close()
    assert shown == "200ms"
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_TIMEOUT}


async def test_session_set_behind_pgbouncer_reaches_other_clients(
    start_pgbouncer: StartPgBouncer,
) -> None:
    # wrong: SET once per connection, as one would on a direct connection
    url = plain_dsn(await start_pgbouncer(pool_size=1))
    first = await asyncpg.connect(url, statement_cache_size=0)
    second = await asyncpg.connect(url, statement_cache_size=0)
    try:
        await first.execute("SET statement_timeout = '200ms'")
        # the only server connection now carries the setting, into another client's session
        seen_by_other = await second.fetchval("SHOW statement_timeout")
    finally:
        await first.close()
        await second.close()
    assert seen_by_other == "200ms"


def ping_every_checkout(engine: Any) -> None:
    """The checkout ping this engine had before: every checkout, fresh connections included."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            dbapi_connection.run_async(lambda conn: conn.execute("SELECT 1"))
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc


@asynccontextmanager
async def only_server_connection_held(url: str) -> AsyncIterator[None]:
    """Another client keeps PgBouncer's one server connection in a transaction: PgBouncer still
    accepts connections at once, and a query waits query_wait_timeout for a server, then fails
    and loses its connection."""
    holder = await asyncpg.connect(plain_dsn(url), statement_cache_size=0)
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1")
            yield
    finally:
        await holder.close()


async def test_checkout_ping_failing_twice_raises_invalid_request_error(
    start_pgbouncer: StartPgBouncer, make_engine: MakeEngine, serve: Serve
) -> None:
    url = await start_pgbouncer(pool_size=1, query_wait_timeout=1)
    # wrong: a ping on every checkout; the pool tries twice, reconnecting in between
    engine = make_engine(database_url=url, db_pgbouncer=True, db_pool_pre_ping=False)
    ping_every_checkout(engine)
    async with serve(engine) as client:
        assert (await client.get("/users")).status_code == 200
        async with only_server_connection_held(url):
            with pytest.raises(InvalidRequestError) as raised:
                async with asyncio.timeout(HANG), engine.connect():
                    pass
            async with asyncio.timeout(HANG):
                response = await client.get("/users")
    assert_quoted("this-connection-is-closed", shown(raised.value))
    assert response.status_code == 500


async def test_checkout_ping_on_busy_pgbouncer_answers_503(
    start_pgbouncer: StartPgBouncer, make_engine: MakeEngine, serve: Serve
) -> None:
    url = await start_pgbouncer(pool_size=1, query_wait_timeout=1)
    engine = make_engine(database_url=url, db_pgbouncer=True, db_connect_timeout=0.5)
    async with serve(engine) as client:
        # the pool keeps this request's connection, which the next checkout pings
        assert (await client.get("/users")).status_code == 200
        async with only_server_connection_held(url), asyncio.timeout(HANG):
            pooled = await client.get("/users")
            fresh = await client.get("/users")
    # the ping fails and its replacement is not pinged: the query itself meets
    # query_wait_timeout, a lost connection
    assert pooled.status_code == fresh.status_code == 503
    assert pooled.json() == fresh.json() == {"detail": DATABASE_UNAVAILABLE}


@pytest.mark.parametrize("ping", [True, False], ids=["ping", "no_ping"])
async def test_app_connection_closed_by_client_idle_timeout(
    start_pgbouncer: StartPgBouncer, make_engine: MakeEngine, serve: Serve, ping: bool
) -> None:
    # the app's connections are PgBouncer's clients: client_idle_timeout closes them, not
    # server_idle_timeout (PgBouncer's own connections to PostgreSQL)
    url = await start_pgbouncer(pool_size=1, prepared=0, client_idle_timeout=1)
    engine = make_engine(
        database_url=url, db_pgbouncer=True, db_pool_pre_ping=ping, db_max_overflow=0
    )
    async with serve(engine) as client:
        assert (await client.get("/users")).status_code == 200
        async with engine.connect() as conn:
            pooled = (await conn.get_raw_connection()).driver_connection
        assert pooled is not None
        closed = asyncio.Event()
        pooled.add_termination_listener(lambda _connection: closed.set())
        # PgBouncer closes the idle connection; asyncpg reads the end-of-file
        async with asyncio.timeout(HANG):
            await closed.wait()
        async with asyncio.timeout(HANG):
            first = await client.get("/users")
            second = await client.get("/users")
    # the checkout ping finds the closed connection and the pool replaces it; without the
    # ping the request meets it (503), and the pool replaces it for the next one
    assert first.status_code == (200 if ping else 503)
    assert second.status_code == 200
