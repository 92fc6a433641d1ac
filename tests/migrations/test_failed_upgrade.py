"""A revision that fails halfway leaves the database as it was, on both backends: env.py runs
SQLite's DDL inside one transaction, as PostgreSQL's already is."""

from pathlib import Path

import pytest

from tests.migrating import add_revision, alembic, tables

BROKEN = "ffff00000001"
HALF = (
    'op.create_table("extra", sa.Column("id", sa.Integer, primary_key=True)); '
    'op.execute("SELECT * FROM no_such_table")'
)


def test_failed_upgrade_leaves_nothing_then_upgrades(
    project: Path, empty_database_url: str
) -> None:
    add_revision(project, BROKEN, upgrade=HALF)

    failed = alembic(project, empty_database_url, "upgrade", "head")

    assert failed.returncode != 0
    assert "no_such_table" in failed.stderr
    # neither the broken revision's table nor the first revision's, nor a version row
    assert tables(empty_database_url) == set()
    (project / "migrations" / "versions" / f"2099_01_01_0000-{BROKEN}_added.py").unlink()
    fixed = alembic(project, empty_database_url, "upgrade", "head")
    assert fixed.returncode == 0, fixed.stderr
    assert {"users", "posts", "alembic_version"} <= tables(empty_database_url)


def test_sqlite_without_begin_keeps_half_an_upgrade(project: Path, empty_database_url: str) -> None:
    """The wrong pattern: Alembic's default for SQLite, each DDL statement committed at once."""
    if not empty_database_url.startswith("sqlite"):
        pytest.skip("postgresql: its DDL is transactional without help")
    env = project / "migrations" / "env.py"
    call = "        transactional_sqlite_ddl(connectable.sync_engine)\n"
    assert call in env.read_text()
    env.write_text(env.read_text().replace(call, "        pass\n"))
    add_revision(project, BROKEN, upgrade=HALF)

    failed = alembic(project, empty_database_url, "upgrade", "head")

    assert failed.returncode != 0
    assert "extra" in tables(empty_database_url)
    again = alembic(project, empty_database_url, "upgrade", "head")
    assert "table extra already exists" in again.stderr
