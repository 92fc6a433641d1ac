"""Fixtures for the migration tests: a copy of the asset project (the empty database per test
is tests/conftest.py's empty_database_url)."""

from tests.migrations.support import project

__all__ = ["project"]
