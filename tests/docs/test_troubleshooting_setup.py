"""The setup failures of references/troubleshooting.md, reproduced with the wrong pattern:
migrations run from code, URLs and drivers, engine options, PgBouncer (the conventions are in
test_troubleshooting.py)."""

import ast
import importlib
import importlib.util
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    create_engine,
    text,
)
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool

from app.db.config import DatabaseSettings
from app.db.engine import create_engine as create_app_engine
from tests.docs.troubleshooting_support import (
    POSTGRESQL_ONLY,
    garbage_collected,
    url_of,
)
from tests.helpers import ROOT
from tests.troubleshooting_doc import (
    assert_quoted,
    quote,
    shown,
)

# migrations run from code


async def test_upgrade_inside_running_event_loop_raises_asyncio_run_error(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", url_of(engine))
    # no ini file: the logging set-up in alembic.ini would reconfigure this test process
    config = Config(stdout=io.StringIO())
    config.set_main_option("script_location", str(ROOT / "assets" / "migrations"))
    with garbage_collected():
        # wrong: an Alembic command called from async code, so env.py's asyncio.run() fails
        with pytest.raises(RuntimeError) as caught:
            command.upgrade(config, "head")
        output = shown(caught.value)
        del caught
    assert_quoted("asynciorun-cannot-be-called-from-a-running-event-loop", output)


def test_percent_in_url_breaks_alembic_ini_interpolation() -> None:
    config = Config()
    # wrong: env.py copying a URL with a percent-encoded password into the ini options
    with pytest.raises(ValueError) as caught:
        config.set_main_option("sqlalchemy.url", "postgresql+asyncpg://app:p%40ss@db:5432/app")
    assert_quoted("invalid-interpolation-syntax", shown(caught.value))
    # the workaround the section gives: doubled percent signs read back as the URL
    url = "postgresql+asyncpg://app:p%40ss@db:5432/app"
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    assert config.get_main_option("sqlalchemy.url") == url


# URLs and drivers


def test_psycopg_is_not_installed() -> None:
    # the next test reproduces a user's environment, which has asyncpg only
    assert importlib.util.find_spec("psycopg") is None
    assert importlib.util.find_spec("psycopg2") is None


@pytest.mark.parametrize("make_engine", [create_async_engine, create_engine])
def test_postgresql_url_without_driver_raises_no_module_psycopg(
    make_engine: Callable[[str], Any],
) -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        make_engine("postgresql://postgres@127.0.0.1:5432/app")
    assert_quoted("no-module-named-psycopg", shown(caught.value))
    with pytest.raises(ModuleNotFoundError) as caught:
        make_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/app")
    assert_quoted("no-module-named-psycopg", shown(caught.value), index=1)


def test_create_async_engine_with_sync_url_raises_async_driver_required(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        create_async_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert_quoted("the-asyncio-extension-requires-an-async-driver", shown(caught.value))


@POSTGRESQL_ONLY
async def test_sslmode_in_asyncpg_url_raises_unexpected_keyword(engine: AsyncEngine) -> None:
    wrong = create_async_engine(engine.url.update_query_dict({"sslmode": "require"}))
    try:
        with pytest.raises(TypeError) as caught:
            async with wrong.connect():
                pass
    finally:
        await wrong.dispose()
    assert_quoted("unexpected-keyword-argument-sslmode", shown(caught.value))


@POSTGRESQL_ONLY
async def test_ssl_in_asyncpg_url_connects(engine: AsyncEngine) -> None:
    # prefer: TLS when the server offers it (the local test server does not), else plain
    right = create_async_engine(engine.url.update_query_dict({"ssl": "prefer"}))
    try:
        async with right.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await right.dispose()


# engine options


async def test_queuepool_class_on_async_engine_raises(engine: AsyncEngine) -> None:
    with pytest.raises(ArgumentError) as caught:
        # wrong: the sync pool class, copied from a create_engine() call
        create_async_engine(url_of(engine), poolclass=QueuePool)
    assert_quoted("pool-class-queuepool-cannot-be-used-with-asyncio-engine", shown(caught.value))


def test_pool_size_for_sqlite_memory_raises_invalid_argument() -> None:
    with pytest.raises(TypeError) as caught:
        create_async_engine("sqlite+aiosqlite:///:memory:", pool_size=5, max_overflow=10)
    assert_quoted("invalid-arguments-sent-to-create_engine", shown(caught.value))
    with pytest.raises(TypeError, match="'pool_timeout'"):
        create_async_engine("sqlite+aiosqlite:///:memory:", pool_timeout=5)


async def test_asset_engine_accepts_sqlite_memory() -> None:
    memory = create_app_engine(DatabaseSettings(database_url="sqlite+aiosqlite:///:memory:"))
    try:
        async with memory.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await memory.dispose()


# PgBouncer: reproduced through a real pgbouncer by tests/reliability/test_pgbouncer.py

PGBOUNCER_TEST = ROOT / "tests" / "reliability" / "test_pgbouncer.py"


def string_constants(path: Path) -> dict[str, str]:
    """The module-level string constants of a Python file, read without importing it."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def test_quote_pgbouncer_errors_the_reliability_test_asserts() -> None:
    # that test matches the first line of str(error) against these patterns
    patterns = string_constants(PGBOUNCER_TEST)
    for index, name in enumerate(["DOES_NOT_EXIST", "ALREADY_EXISTS"]):
        quoted = quote("prepared-statement-does-not-exist-behind-pgbouncer", index=index)
        assert re.fullmatch(patterns[name], quoted.replace("...", "1")), (name, quoted)


# the sections these tests reproduce (collected by test_troubleshooting.py)
REPRODUCED: dict[str, list[Callable[..., object]]] = {
    "asynciorun-cannot-be-called-from-a-running-event-loop": [
        test_upgrade_inside_running_event_loop_raises_asyncio_run_error
    ],
    "invalid-interpolation-syntax": [test_percent_in_url_breaks_alembic_ini_interpolation],
    "no-module-named-psycopg": [test_postgresql_url_without_driver_raises_no_module_psycopg],
    "the-asyncio-extension-requires-an-async-driver": [
        test_create_async_engine_with_sync_url_raises_async_driver_required
    ],
    "unexpected-keyword-argument-sslmode": [test_sslmode_in_asyncpg_url_raises_unexpected_keyword],
    "pool-class-queuepool-cannot-be-used-with-asyncio-engine": [
        test_queuepool_class_on_async_engine_raises
    ],
    "invalid-arguments-sent-to-create_engine": [
        test_pool_size_for_sqlite_memory_raises_invalid_argument
    ],
    "prepared-statement-does-not-exist-behind-pgbouncer": [
        test_quote_pgbouncer_errors_the_reliability_test_asserts
    ],
}
