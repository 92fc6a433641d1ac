"""Alembic and scripts/check_migrations.py run on a project copy (the `project` fixture of
tests/fixtures.py), revision files a test adds to it, and the tables a database holds."""

import asyncio
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from alembic.config import Config
from sqlalchemy import inspect, pool
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import SCRIPTS

CHECK_MIGRATIONS = SCRIPTS / "check_migrations.py"
# the asset project's first (and only) revision
FIRST = "edfeb0c041b3"


def alembic_config(project: Path) -> Config:
    """The project's Alembic config, for commands run in this process (the asset app is
    already imported here, so only unchanged copies of it can run this way)."""
    return Config(str(project / "alembic.ini"), stdout=io.StringIO())


def alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the alembic command line in the project folder, as a user would, on url."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_migrations(
    project: Path, url: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run scripts/check_migrations.py in a fresh interpreter, which imports this project's app."""
    return subprocess.run(
        [sys.executable, str(CHECK_MIGRATIONS), str(project), "--url", url, *args],
        cwd=cwd or project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tables(url: str) -> set[str]:
    """table_names for synchronous tests (no event loop is running in them)."""
    return asyncio.run(table_names(url))


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def add_revision(
    project: Path,
    revision: str,
    upgrade: str = "pass",
    downgrade: str = "pass",
    message: str = "a revision added by a test",
) -> None:
    """Write a revision after FIRST into project/migrations/versions; upgrade and downgrade are
    the bodies of the two functions, unindented."""
    upgrade, downgrade = (
        textwrap.indent(body.strip("\n"), "    ").lstrip() for body in (upgrade, downgrade)
    )
    text = f'''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{FIRST}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''
    (project / "migrations" / "versions" / f"2099_01_01_0000-{revision}_added.py").write_text(text)
