"""This repository's fixtures: the asset fixtures everywhere, and a PostgreSQL database per run.

The tests an agent copies live in assets/tests/; tests/assets/ re-exports them so they run here
with the same fixtures (assets/tests/conftest.py, loaded once as a plugin).
"""

import asyncio
import os
import pathlib
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.databases import (
    BACKENDS,
    DEFAULT_SERVER_URL,
    create_database,
    drop_database,
    new_database,
)

# fixtures for more than one folder, and the fault tests' PgBouncer and proxy
pytest_plugins = [
    "assets.tests.conftest",
    "tests.fixtures",
    "tests.reliability.pgbouncer",
    "tests.reliability.proxy",
]


def pytest_configure(config: pytest.Config) -> None:
    # a database of its own keeps concurrent runs (and benchmarks) on this server apart
    if os.environ.get("TEST_POSTGRES_URL") or hasattr(config, "workerinput"):
        return
    try:
        url = asyncio.run(new_database(DEFAULT_SERVER_URL, "skill_test"))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return  # the engine fixture reports the unreachable server (skip, or fail in CI)
    os.environ["TEST_POSTGRES_URL"] = url
    config.stash[_created] = url


def pytest_unconfigure(config: pytest.Config) -> None:
    url = config.stash.get(_created, None)
    if url:
        os.environ.pop("TEST_POSTGRES_URL", None)
        asyncio.run(drop_database(url, DEFAULT_SERVER_URL))


_created = pytest.StashKey[str]()


@pytest.fixture(params=BACKENDS)
async def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> AsyncIterator[str]:
    """The URL of a new, empty database of the test's own: a SQLite file, or a PostgreSQL
    database created for the test and dropped after it."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = await create_database()
    yield url
    await drop_database(url)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying how many tests ran on each backend, so a skipped backend shows."""
    counts: dict[str, dict[str, int]] = {"sqlite": {}, "postgresql": {}}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome != "skipped":
                continue
            for backend, tally in counts.items():
                # the backend's mark is among the report's keywords
                if backend in report.keywords:
                    tally[outcome] = tally.get(outcome, 0) + 1
    for backend, tally in counts.items():
        parts = ", ".join(f"{n} {outcome}" for outcome, n in tally.items()) or "none"
        terminalreporter.write_line(f"{backend} tests: {parts}")
