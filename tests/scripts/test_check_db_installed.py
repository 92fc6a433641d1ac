"""check_db.py says which libraries are missing for the URL, with the install command of the
project's own tool, and runs its URL checks where none of them is installed."""

import sys
from pathlib import Path

import pytest

import check_db
from tests.helpers import run_script
from tests.scripts.support import PASSWORD, PG, line, run


@pytest.mark.parametrize(
    ("marker", "command"),
    [
        ("uv.lock", "uv add"),
        ("poetry.lock", "poetry add"),
        ("requirements.txt", "python -m pip install"),
        (None, "python -m pip install"),
    ],
    ids=["uv", "poetry", "requirements", "none"],
)
def test_report_missing_driver_with_project_install_command(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    marker: str | None,
    command: str,
) -> None:
    if marker:
        (tmp_path / marker).write_text("", encoding="utf-8")
    # None in sys.modules makes `import asyncpg` fail as it does where it is not installed
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    code, output = run(check_db.main, capsys, "--url", f"postgresql+asyncpg://{PG}")
    assert code == 1
    installed = line(output, "installed")
    assert installed.startswith("FAIL installed: asyncpg not installed for ")
    assert f'run `{command} "asyncpg>=' in installed


def test_report_sqlalchemy_older_than_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy

    monkeypatch.setattr(sqlalchemy, "__version__", "1.4.54")
    code, output = run(check_db.main, capsys, "--url", f"postgresql+asyncpg://{PG}")
    assert code == 1
    assert line(output, "installed") == (
        "FAIL installed: SQLAlchemy 1.4.54 is older than the 2.0 this layer needs: "
        'run `python -m pip install "sqlalchemy[asyncio]>=2.1"`'
    )


def test_run_help_and_url_checks_without_sqlalchemy(tmp_path: Path) -> None:
    # -S leaves out site-packages: neither SQLAlchemy, pydantic-settings nor a driver imports
    bare = [sys.executable, "-S"]
    help_run = run_script("check_db", "--help", cwd=tmp_path, python=bare)
    assert help_run.returncode == 0
    assert "Usage:" in help_run.stdout and "Examples:" in help_run.stdout
    result = run_script("check_db", "--url", f"postgres://{PG}", cwd=tmp_path, python=bare)
    assert result.returncode == 1
    assert "use postgresql+asyncpg://app:***@127.0.0.1:5432/app" in line(result.stdout, "driver")
    assert line(result.stdout, "settings").startswith("SKIP settings: cannot read them: ")
    assert line(result.stdout, "installed").startswith(
        "FAIL installed: sqlalchemy, greenlet, asyncpg, pydantic_settings not installed for "
    )
    assert (
        'python -m pip install "sqlalchemy[asyncio]>=2.1" "asyncpg>=0.31" "pydantic-settings>='
        in result.stdout
    )
    assert PASSWORD not in result.stdout + result.stderr


def test_say_dotenv_is_unread_without_pydantic_settings(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///./x.db\n", encoding="utf-8")
    result = run_script("check_db", cwd=tmp_path, python=[sys.executable, "-S"])
    assert result.returncode == 1, result.stderr
    assert line(result.stdout, "url") == (
        f"FAIL url: DATABASE_URL is not in the environment and {tmp_path.resolve()}/.env cannot "
        "be read without pydantic-settings: run this with the project's Python "
        "(`python .../check_db.py`), or pass --url"
    )
