"""check_db.py compares the database's alembic revision with the head of the project's
migrations, and says which command brings it there."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import check_db
from tests.helpers import ASSETS
from tests.scripts.support import line, run, stamp, with_password

MIGRATION = 'revision = "{rev}"\ndown_revision = {down}\n\n\ndef upgrade() -> None:\n    pass\n'


@pytest.fixture
def alembic_project(tmp_path: Path) -> Path:
    """Two revisions, 0001 then 0002, with a relative script_location like `alembic init` writes."""
    project = tmp_path / "project"
    (project / "migrations" / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n", encoding="utf-8"
    )
    for rev, down in (("0001", "None"), ("0002", '"0001"')):
        source = MIGRATION.format(rev=rev, down=down)
        (project / "migrations" / "versions" / f"{rev}.py").write_text(source, encoding="utf-8")
    return project


@pytest.mark.parametrize(
    ("revisions", "status", "message"),
    [
        ((), "FAIL", "the database has no alembic revision (head is 0002): run `alembic "),
        (
            ("0001",),
            "FAIL",
            "the database is at 0001, behind head 0002: run `alembic upgrade head` in ",
        ),
        (("0002",), "OK  ", "the database is at head 0002"),
        (("9999",), "FAIL", "the database is at 9999, a revision the migrations in "),
    ],
    ids=["unmigrated", "behind", "at-head", "unknown-revision"],
)
def test_compare_database_revision_with_migrations_head(
    capsys: pytest.CaptureFixture[str],
    empty_database_url: str,
    alembic_project: Path,
    revisions: tuple[str, ...],
    status: str,
    message: str,
) -> None:
    if revisions:
        stamp(empty_database_url, *revisions)
    url = (
        with_password(empty_database_url)
        if "postgresql" in empty_database_url
        else empty_database_url
    )
    code, output = run(check_db.main, capsys, "--url", url, "--project", str(alembic_project))
    assert code == (0 if status == "OK  " else 1), output
    assert line(output, "migrations").startswith(f"{status} migrations: {message}")


def test_name_the_project_tool_in_the_upgrade_command(
    capsys: pytest.CaptureFixture[str], empty_database_url: str, alembic_project: Path
) -> None:
    (alembic_project / "poetry.lock").write_text("", encoding="utf-8")
    code, output = run(
        check_db.main, capsys, "--url", empty_database_url, "--project", str(alembic_project)
    )
    assert code == 1
    assert "run `poetry run alembic upgrade head` in " in line(output, "migrations")


def test_compare_asset_migrations_after_upgrade(
    capsys: pytest.CaptureFixture[str], empty_database_url: str
) -> None:
    code, output = run(check_db.main, capsys, "--url", empty_database_url, "--project", str(ASSETS))
    assert code == 1
    assert "FAIL migrations: the database has no alembic revision" in output
    upgrade = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ASSETS,
        env={**os.environ, "DATABASE_URL": empty_database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    code, output = run(check_db.main, capsys, "--url", empty_database_url, "--project", str(ASSETS))
    assert code == 0, output
    assert line(output, "migrations").startswith("OK   migrations: the database is at head ")
