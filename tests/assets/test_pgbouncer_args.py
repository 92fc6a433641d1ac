"""DB_PGBOUNCER=true's connect arguments leave no named prepared statement on the server
connection, which is what keeps transaction-mode PgBouncer from mixing them up. It holds from
asyncpg 0.31: before it, Connection._prepare named every statement that SQLAlchemy prepares
(named=True when no name is given), whatever statement_cache_size says."""

import pytest
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.engine import PGBOUNCER_CONNECT_ARGS
from tests.databases import server_url


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "caches",
    [
        pytest.param("off", id="postgresql-caches_off"),
        pytest.param("on", id="postgresql-caches_on"),
    ],
)
async def test_pgbouncer_connect_args_prepare_no_named_statement(caches: str) -> None:
    connect_args = PGBOUNCER_CONNECT_ARGS if caches == "off" else {}
    engine = create_async_engine(server_url(), poolclass=pool.NullPool, connect_args=connect_args)
    try:
        async with engine.connect() as conn:
            for n in range(3):
                result = await conn.execute(text("SELECT CAST(:n AS integer) + 1"), {"n": n})
                assert result.scalar_one() == n + 1
            # the statements this session prepared under a name, as PostgreSQL lists them
            listed = text("SELECT name FROM pg_prepared_statements WHERE NOT from_sql")
            names = (await conn.execute(listed)).scalars().all()
    finally:
        await engine.dispose()

    if caches == "off":
        assert names == []
    else:
        # the default: asyncpg's names, which another client would meet behind PgBouncer
        assert names and all(name.startswith("__asyncpg_stmt_") for name in names)
