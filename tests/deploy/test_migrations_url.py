"""MIGRATIONS_DATABASE_URL: Alembic takes the direct connection when the app's URL is a pooler's."""

import os
import subprocess
import sys
from pathlib import Path

from tests.migrating import table_names

# the app's URL: a pooler that the migrations must not use, here a port where nothing listens
POOLER_URL = "postgresql+asyncpg://app@127.0.0.1:1/app"


def upgrade(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=folder,
        env={key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}
        | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_migrate_over_migrations_url_not_app_url(
    project: Path,
    empty_database_url: str,
) -> None:
    result = upgrade(project, DATABASE_URL=POOLER_URL, MIGRATIONS_DATABASE_URL=empty_database_url)
    assert result.returncode == 0, result.stderr
    assert {"users", "posts", "alembic_version"} <= await table_names(empty_database_url)


async def test_migrate_over_app_url_without_migrations_url(
    project: Path,
    empty_database_url: str,
) -> None:
    # the same command without MIGRATIONS_DATABASE_URL goes to DATABASE_URL, and fails there
    result = upgrade(project, DATABASE_URL=POOLER_URL)
    assert result.returncode != 0
    assert "Connect call failed ('127.0.0.1', 1)" in result.stderr
    assert await table_names(empty_database_url) == set()
