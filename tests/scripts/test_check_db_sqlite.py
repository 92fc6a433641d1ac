"""check_db.py checks a SQLite URL's file: its folder exists, the user can write both, a relative
path is the project's, and an absent file is not created by the check."""

import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import check_db
from tests.helpers import ROOT
from tests.scripts.support import line, run

pytestmark = pytest.mark.sqlite


def test_report_sqlite_directory_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "data"
    code, output = run(check_db.main, capsys, "--url", f"sqlite+aiosqlite:///{missing}/app.db")
    assert code == 1
    assert line(output, "sqlite-path") == (
        f"FAIL sqlite-path: directory {missing} does not exist: "
        f"create it (mkdir -p {missing}) or fix the path in the URL"
    )
    assert not missing.exists()


def test_suggest_four_slashes_for_absolute_sqlite_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(check_db.main, capsys, "--url", "sqlite+aiosqlite:///tmp/app.db")
    assert code == 1
    assert (
        "for the absolute path /tmp/app.db write four slashes: sqlite+aiosqlite:////tmp/app.db"
        in line(output, "sqlite-path")
    )


def test_report_sqlite_path_that_is_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(check_db.main, capsys, "--url", f"sqlite+aiosqlite:///{tmp_path}")
    assert code == 1
    assert line(output, "sqlite-path") == (
        f"FAIL sqlite-path: {tmp_path} is a directory, not a database file: "
        f"name a file in it, e.g. {tmp_path}/app.db"
    )


@pytest.fixture
def readonly_sqlite(root_user: None) -> Iterator[Path]:
    """A copy of the skill, a folder and a database file owned by root that `nobody` cannot
    write."""
    base = Path(tempfile.mkdtemp(prefix="check_db_ro_"))
    try:
        base.chmod(0o755)
        for folder in ("scripts", "assets"):
            ignore = shutil.ignore_patterns("__pycache__", "*.db")
            shutil.copytree(ROOT / folder, base / "skill" / folder, ignore=ignore)
        sqlite3.connect(base / "app.db").close()
        (base / "app.db").chmod(0o644)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_report_sqlite_file_not_writable_by_user(readonly_sqlite: Path) -> None:
    def as_nobody(name: str) -> str:
        # the system python without site-packages: the path checks need only the standard library
        command = ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-S"]
        script = readonly_sqlite / "skill" / "scripts" / "check_db.py"
        url = f"sqlite+aiosqlite:///{readonly_sqlite / name}"
        result = subprocess.run(
            [*command, str(script), "--url", url],
            cwd=readonly_sqlite,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        return line(result.stdout, "sqlite-path")

    assert as_nobody("app.db") == (
        f"FAIL sqlite-path: {readonly_sqlite}/app.db is not writable by nobody: "
        "chown or chmod u+rw the file"
    )
    assert as_nobody("new.db") == (
        f"FAIL sqlite-path: directory {readonly_sqlite} is not writable by nobody: SQLite creates "
        "the database and its journal there; chown or chmod u+w the directory"
    )


def test_leave_absent_sqlite_file_uncreated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(check_db.main, capsys, "--url", "sqlite+aiosqlite:///./app.db")
    assert code == 0, output
    assert f"OK   sqlite-path: {tmp_path.resolve()}/app.db does not exist yet" in output
    assert "(in memory: the file does not exist yet)" in line(output, "connect")
    assert not (tmp_path / "app.db").exists()


def test_fall_back_to_app_default_url_without_any_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(check_db.main, capsys)
    assert code == 0, output
    assert line(output, "url") == (
        "OK   url: sqlite+aiosqlite:///./app.db (app default: DATABASE_URL is not set); for "
        "another database set DATABASE_URL, or add a DATABASE_URL=... line to "
        f"{tmp_path.resolve()}/.env (the app reads .env, and resolves a relative SQLite path, "
        "from the folder it is started in)"
    )
    assert f"OK   sqlite-path: {tmp_path.resolve()}/app.db does not exist yet" in output
    assert not (tmp_path / "app.db").exists()
