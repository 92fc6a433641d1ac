"""The asset migrations upgrade, downgrade and upgrade again, match the models, and print SQL."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from tests.databases import BACKENDS
from tests.migrating import alembic, alembic_config, tables

APP_TABLES = {"users", "posts", "alembic_version"}


def test_upgrade_downgrade_upgrade_round_trip(
    project: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    config = alembic_config(project)

    command.upgrade(config, "head")
    assert tables(empty_database_url) == APP_TABLES
    command.downgrade(config, "base")
    assert tables(empty_database_url) == {"alembic_version"}
    command.upgrade(config, "head")
    assert tables(empty_database_url) == APP_TABLES


def test_check_finds_no_drift_after_upgrade(
    project: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    config = alembic_config(project)
    command.upgrade(config, "head")

    command.check(config)

    assert "No new upgrade operations detected." in config.stdout.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_sql_prints_create_table_offline(project: Path, backend: str) -> None:
    # port 1 refuses connections: the SQL can only come from offline mode
    url = {
        "sqlite": f"sqlite+aiosqlite:///{project / 'never-created.db'}",
        "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
    }[backend]

    result = alembic(project, url, "upgrade", "head", "--sql")

    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE users (" in result.stdout
    assert "CREATE TABLE posts (" in result.stdout
    assert "CREATE INDEX ix_posts_created_at_id ON posts (created_at, id)" in result.stdout
    assert "INSERT INTO alembic_version" in result.stdout
    assert not (project / "never-created.db").exists()
    if backend == "postgresql":
        assert "TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP)" in result.stdout
        assert "BEGIN;" in result.stdout and "COMMIT;" in result.stdout


def test_upgrade_leaves_password_out_of_output(project: Path, empty_database_url: str) -> None:
    url = make_url(empty_database_url)
    if url.get_backend_name() == "sqlite":
        pytest.skip("sqlite: a file URL has no password")
    with_password = url.set(password="never-shown").render_as_string(hide_password=False)

    result = alembic(project, with_password, "upgrade", "head")

    assert result.returncode == 0, result.stderr
    assert "never-shown" not in result.stdout + result.stderr
