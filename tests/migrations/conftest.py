"""Fixtures for the migration tests: a copy of the asset project and an empty database per test."""

from tests.migrations.support import migration_url, project

__all__ = ["migration_url", "project"]
