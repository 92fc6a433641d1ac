"""scripts/check_migrations.py: passes on the assets, names each drift, and fails bad input in
one line with exit code 2."""

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.migrations.support import (
    CHECK_MIGRATIONS,
    check_migrations,
    project,
    run_sql,
    table_names,
)

# the project fixture comes from tests/migrations; empty_database_url from tests/conftest.py
__all__ = ["project"]

spec = importlib.util.spec_from_file_location("check_migrations", CHECK_MIGRATIONS)
assert spec and spec.loader
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)

STEPS = ["single head", "upgrade head", "no drift", "downgrade base", "upgrade head again"]


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_check_passes_on_assets(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = script.main([str(project), "--url", empty_database_url])

    out = capsys.readouterr().out
    assert code == 0, out
    first, *steps = out.splitlines()
    assert first == f"database: {make_url(empty_database_url).render_as_string()} (from --url)"
    assert [line.split(":")[0].removeprefix("ok    ") for line in steps] == STEPS


def test_check_prints_one_json_document(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = script.main([str(project), "--url", empty_database_url, "--json"])

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0
    assert report["ok"] is True and report["error"] is None
    assert report["database"] == f"{make_url(empty_database_url).render_as_string()} (from --url)"
    assert [step["name"] for step in report["steps"]] == STEPS
    assert captured.err.startswith("database: ") and "ok    no drift" in captured.err


def test_check_defaults_to_throwaway_sqlite_in_current_directory(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)

    code = script.main([])

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[0] == "database: sqlite (a throwaway file)"
    assert sorted(p.name for p in project.iterdir()) == ["alembic.ini", "app", "migrations"]


NEW_TABLE = """

class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
"""


def drift_models(project: Path) -> None:
    """Change the copy's models in four ways the migrations do not follow."""
    models = project / "app" / "models.py"
    source = models.read_text()
    nickname = "    nickname: Mapped[str | None] = mapped_column(String(50))\n"
    changes = {
        # a new column
        "    is_active: Mapped[bool]": nickname + "    is_active: Mapped[bool]",
        # a changed type
        "mapped_column(String(200))": "mapped_column(String(300))",
        # a dropped index
        '    __table_args__ = (Index("ix_posts_created_at_id", "created_at", "id"),)\n': "",
    }
    for old, new in changes.items():
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    # a new table
    models.write_text(source + NEW_TABLE)


def test_check_names_each_model_change(project: Path, empty_database_url: str) -> None:
    drift_models(project)

    result = check_migrations(project, empty_database_url)

    assert result.returncode == 1, result.stdout + result.stderr
    failure = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failure) == 1 and failure[0].startswith("FAIL  no drift: ")
    message = failure[0]
    assert "models have table tags that the migrations lack" in message
    assert "models have column users.nickname (VARCHAR(50)) that the migrations lack" in message
    assert (
        "column posts.title type is VARCHAR(200) in the migrations, VARCHAR(300) in the models"
        in message
    )
    index = "index ix_posts_created_at_id on posts (created_at, id)"
    assert f"the migrations create {index} that the models lack" in message
    assert "alembic revision --autogenerate" in message


def test_check_runs_from_another_directory(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"

    result = check_migrations(project, url, "--json", cwd=elsewhere)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing project", "does not exist: pass the folder with alembic.ini"),
        ("no alembic.ini", "no alembic.ini in "),
        ("env.py import error", "env.py failed at line "),
        ("unreachable database", "cannot use postgresql+asyncpg://postgres:***@127.0.0.1:1/x: "),
        ("no async driver", "No module named 'psycopg'"),
        ("not a URL", "--url is not a database URL"),
        ("sync driver", "env.py is async and the URL's driver is not"),
    ],
)
def test_check_rejects_bad_input_in_one_line(
    case: str, expected: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bad.db'}"
    target = project
    if case == "missing project":
        target = tmp_path / "missing"
    elif case == "no alembic.ini":
        (project / "alembic.ini").unlink()
    elif case == "env.py import error":
        env = project / "migrations" / "env.py"
        env.write_text(env.read_text().replace("import app.models", "import app.no_such_module"))
    elif case == "unreachable database":
        url = "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/x"
    elif case == "no async driver":
        url = "postgresql://postgres:hunter2@127.0.0.1/x"
    elif case == "not a URL":
        url = "hunter2"
    elif case == "sync driver":
        url = f"sqlite:///{tmp_path / 'sync.db'}"

    code = script.main([str(target), "--url", url])

    captured = capsys.readouterr()
    assert code == 2
    assert "FAIL" not in captured.out and "Traceback" not in captured.out
    line = error_line(captured.err)
    assert line.startswith("error  ") and expected in line
    assert "hunter2" not in line


def test_check_fails_on_two_heads(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    versions = project / "migrations" / "versions"
    first = next(versions.glob("*.py")).read_text().split('revision: str = "')[1][:12]
    for rev in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"):
        (versions / f"{rev}_branch.py").write_text(
            f'revision = "{rev}"\ndown_revision = "{first}"\nbranch_labels = None\n'
            "depends_on = None\n\n\ndef upgrade() -> None:\n    pass\n\n\n"
            "def downgrade() -> None:\n    pass\n"
        )

    code = script.main([str(project)])

    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  single head: 2 heads" in out and "alembic merge heads" in out


def test_check_refuses_database_with_tables(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main([str(project), "--url", empty_database_url]) == 0
    assert asyncio.run(table_names(empty_database_url)) == set()
    # a database with a table of its own is refused before any migration runs
    if make_url(empty_database_url).get_backend_name() == "sqlite":
        import sqlite3

        sqlite3.connect(make_url(empty_database_url).database).execute("CREATE TABLE keep (id int)")
    else:
        asyncio.run(run_sql(empty_database_url, "CREATE TABLE keep (id int)"))
    capsys.readouterr()

    code = script.main([str(project), "--url", empty_database_url])

    assert code == 2
    assert "already has tables (keep)" in error_line(capsys.readouterr().err)
    assert asyncio.run(table_names(empty_database_url)) == {"keep"}


def test_check_explains_missing_alembic(tmp_path: Path) -> None:
    # -S skips site-packages: the interpreter a user might run without the project's packages
    result = subprocess.run(
        [sys.executable, "-S", str(CHECK_MIGRATIONS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "is not importable: run this with the project's Python" in error_line(result.stderr)


def test_check_help_says_where_it_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-S", str(CHECK_MIGRATIONS), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0
    assert "Usage:" in result.stdout and "Examples:" in result.stdout
    assert "alembic, sqlalchemy" in result.stdout
    assert "To check PostgreSQL too" in result.stdout
    assert "--url postgresql+asyncpg://postgres@127.0.0.1/migration_check" in result.stdout


def test_check_names_database_with_masked_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://app:hunter2@127.0.0.1:1/x"

    code = script.main([str(tmp_path / "missing"), "--url", url])

    out = capsys.readouterr().out
    assert code == 2
    assert out == "database: postgresql+asyncpg://app:***@127.0.0.1:1/x (from --url)\n"


BROKEN_DOWNGRADE = '''"""a revision whose downgrade drops a table that does not exist"""

from alembic import op

revision = "c0ffee000001"
down_revision = "{first}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    op.drop_table("no_such_table")
'''


def test_check_names_revision_whose_downgrade_fails(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = project / "migrations" / "versions"
    first = next(versions.glob("*.py")).read_text().split('revision: str = "')[1][:12]
    (versions / "2099_01_01_0000-c0ffee000001_broken.py").write_text(
        BROKEN_DOWNGRADE.format(first=first)
    )

    code = script.main([str(project), "--url", empty_database_url])

    out = capsys.readouterr().out
    assert code == 1
    failure = out.strip().splitlines()[-1]
    assert failure.startswith(
        "FAIL  downgrade base: failed in 2099_01_01_0000-c0ffee000001_broken.py:"
    )
    assert "no_such_table" in failure
    assert "ok    no drift" in out
    # the tables the failed run created are gone: the check can run again on this database
    assert asyncio.run(table_names(empty_database_url)) == set()


def test_check_debug_shows_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = script.main([str(tmp_path / "missing"), "--debug"])

    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback (most recent call last)" in err and "NoneType: None" not in err
    assert "in check_project" in err
    assert err.count("error  project folder") == 1
