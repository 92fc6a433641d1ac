"""Secrets in logs: a failing request's log lines, with DB_ECHO on, hold neither the email the
client sent nor the password hash the app computed: hide_parameters=True, and the app answers
database errors itself instead of letting the server log the exception chain."""

import logging
import traceback

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.db import Base
from app.models import User
from tests.reliability.support import MakeEngine, Serve

EMAIL = "private.person@example.com"
BODY = {"email": EMAIL, "name": "Private", "password": "long-enough"}
# every hash_password() result starts so; the hash itself is random
HASH_PREFIX = "$argon2id$"


async def break_inserts(url: str, failure: str) -> None:
    """missing_table: no tables at all (a deploy that did not migrate); not_null: a column
    the code does not know, NOT NULL without a default (a migration that ran too early)."""
    if failure == "missing_table":
        return
    setup = create_async_engine(url)
    try:
        async with setup.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.execute(text("ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT ''"))
            await conn.execute(text("ALTER TABLE users ALTER COLUMN phone DROP DEFAULT"))
    finally:
        await setup.dispose()


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


FAILURES = ["missing_table", "not_null"]


@pytest.mark.parametrize("failure", FAILURES)
async def test_failing_request_logs_neither_email_nor_hash(
    engine: AsyncEngine,
    own_database: str,
    make_engine: MakeEngine,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    if failure == "not_null" and engine.dialect.name == "sqlite":
        pytest.skip("sqlite: its error messages carry no values of the row")
    await break_inserts(own_database, failure)
    caplog.set_level(logging.DEBUG)
    async with serve(make_engine(database_url=own_database, db_echo=True)) as client:
        response = await client.post("/users", json=BODY)
    assert response.status_code == 500
    text_logged = logged(caplog)
    # DB_ECHO showed the statement, and said the values were left out
    assert "INSERT INTO users" in text_logged
    assert "[SQL parameters hidden due to hide_parameters=True]" in text_logged
    assert EMAIL not in text_logged
    assert HASH_PREFIX not in text_logged


@pytest.mark.parametrize("failure", FAILURES)
async def test_failing_request_logs_email_and_hash_with_bound_values_shown(
    engine: AsyncEngine,
    own_database: str,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    if failure == "not_null" and engine.dialect.name == "sqlite":
        pytest.skip("sqlite: its error messages carry no values of the row")
    await break_inserts(own_database, failure)
    caplog.set_level(logging.DEBUG)
    # wrong: echo=True with SQLAlchemy's default, hide_parameters=False
    naive = create_async_engine(own_database, echo=True)
    try:
        async with serve(naive) as client:
            await client.post("/users", json=BODY)
    finally:
        await naive.dispose()
    text_logged = logged(caplog)
    assert EMAIL in text_logged
    assert HASH_PREFIX in text_logged


async def test_exception_chain_repeats_the_row_despite_hidden_parameters(
    engine: AsyncEngine, own_database: str, make_engine: MakeEngine
) -> None:
    """What a server logs for an exception the app lets through: PostgreSQL's DETAIL line,
    in the driver's exception that SQLAlchemy's chains to, names every value of the row."""
    if engine.dialect.name == "sqlite":
        pytest.skip("sqlite: its error messages carry no values of the row")
    await break_inserts(own_database, "not_null")
    app_engine = make_engine(database_url=own_database)
    with pytest.raises(DBAPIError) as raised:
        async with app_engine.begin() as conn:
            await conn.execute(
                insert(User).values(email=EMAIL, name="P", hashed_password="$argon2id$x")
            )
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(raised.value)
    assert EMAIL not in str(raised.value)
    chain = "".join(traceback.format_exception(raised.value))
    assert "Failing row contains" in chain
    assert EMAIL in chain


async def test_aiosqlite_debug_log_shows_values_despite_hidden_parameters(
    engine: AsyncEngine,
    own_database: str,
    make_engine: MakeEngine,
    serve: Serve,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiosqlite logs each call with its arguments at DEBUG; the asset engine keeps its logger
    at INFO."""
    if engine.dialect.name != "sqlite":
        pytest.skip(f"{engine.dialect.name}: asyncpg does not log statements")
    app_engine = make_engine(database_url=own_database, db_echo=True)
    # wrong: the aiosqlite logger left at DEBUG
    aiosqlite_logger = logging.getLogger("aiosqlite")
    monkeypatch.setattr(aiosqlite_logger, "level", logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    async with serve(app_engine) as client:
        await client.post("/users", json=BODY)
    assert EMAIL in logged(caplog)
