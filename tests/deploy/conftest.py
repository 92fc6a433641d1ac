"""Fixtures for the deploy tests, which run throwaway PostgreSQL servers of their own."""

import pytest

from tests.databases import BACKENDS


@pytest.fixture(params=BACKENDS)
def postgresql_only(request: pytest.FixtureRequest) -> None:
    """Give a server-only test both backend ids; skip SQLite with the module's SQLITE_REASON."""
    if request.param == "sqlite":
        pytest.skip(f"sqlite: {request.module.SQLITE_REASON}")
