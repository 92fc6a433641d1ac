"""check_migrations.py: passes on the assets, names each drift, runs on an empty database of its
own (never one from .env), and fails bad input in one line with exit code 2."""

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

import check_migrations
from _lib.check_migrations.database import table_names
from _lib.check_migrations.steps import STEPS
from tests.databases import run_sql
from tests.helpers import run_script
from tests.scripts.support import PASSWORD, stamp, with_password


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def add_table(url: str, statement: str) -> None:
    if make_url(url).get_backend_name() == "sqlite":
        with sqlite3.connect(str(make_url(url).database)) as conn:
            conn.execute(statement)
    else:
        asyncio.run(run_sql(url, statement))


def test_check_passes_on_assets(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = check_migrations.main([str(project), "--url", empty_database_url])

    out = capsys.readouterr().out
    assert code == 0, out
    first, *steps, last = out.splitlines()
    assert first == f"database: {make_url(empty_database_url).render_as_string()} (from --url)"
    assert steps == [line for line in steps if line.startswith("OK   ")]
    assert [line[5:].split(":")[0] for line in steps] == list(STEPS)
    assert last == "check_migrations.py: all checks passed (5 ok)"


def test_check_names_database_with_masked_password(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if make_url(empty_database_url).get_backend_name() == "sqlite":
        pytest.skip("sqlite: a SQLite URL has no password")
    # the local server trusts every password, so this one connects, and must never show
    url = with_password(empty_database_url)

    code = check_migrations.main([str(project), "--url", url])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    masked = make_url(url).render_as_string(hide_password=True)
    assert out.splitlines()[0] == f"database: {masked} (from --url)"
    assert PASSWORD not in out + err


def test_check_prints_one_json_document(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = check_migrations.main([str(project), "--url", empty_database_url, "--json"])

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (code, captured.err) == (0, "")
    assert report["ok"] is True and report["error"] is None and report["exit_code"] == 0
    assert report["database"] == f"{make_url(empty_database_url).render_as_string()} (from --url)"
    assert [check["name"] for check in report["checks"]] == list(STEPS)
    assert {check["status"] for check in report["checks"]} == {"ok"}


def test_check_defaults_to_throwaway_sqlite_in_current_directory(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)

    code = check_migrations.main([])

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

    # a fresh interpreter: this one has the asset app imported already
    result = run_script("check_migrations", str(project), "--url", empty_database_url, cwd=project)

    assert result.returncode == 1, result.stdout + result.stderr
    failure = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failure) == 1 and failure[0].startswith("FAIL no drift: ")
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
    assert "SKIP downgrade base: an earlier step failed" in result.stdout


def test_check_runs_from_another_directory(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"

    result = run_script("check_migrations", str(project), "--url", url, "--json", cwd=elsewhere)

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

    code = check_migrations.main([str(target), "--url", url])

    captured = capsys.readouterr()
    assert code == 2
    assert "FAIL" not in captured.out and "Traceback" not in captured.out
    line = error_line(captured.err)
    assert line.startswith("check_migrations.py: error: ") and expected in line
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

    code = check_migrations.main([str(project)])

    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL single head: 2 heads" in out and "alembic merge heads" in out


def test_check_refuses_database_with_tables(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_migrations.main([str(project), "--url", empty_database_url]) == 0
    assert table_names(empty_database_url) == []
    # a database with a table of its own is refused before any migration runs
    add_table(empty_database_url, "CREATE TABLE keep (id int)")
    capsys.readouterr()

    code = check_migrations.main([str(project), "--url", empty_database_url])

    assert code == 2
    line = error_line(capsys.readouterr().err)
    assert "already has tables (keep): the check needs an empty database of its own" in line
    assert "separate from the tests' and the app's" in line and "createdb" in line
    assert table_names(empty_database_url) == ["keep"]


def test_check_accepts_empty_alembic_version_left_by_downgrade(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # what `alembic upgrade head` then `alembic downgrade base` leave behind
    stamp(empty_database_url)
    assert table_names(empty_database_url) == ["alembic_version"]

    code = check_migrations.main([str(project), "--url", empty_database_url])

    assert code == 0, capsys.readouterr()
    assert table_names(empty_database_url) == []


def test_check_refuses_stamped_alembic_version_with_what_to_do(
    project: Path, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stamp(empty_database_url, "abcdef123456")

    code = check_migrations.main([str(project), "--url", empty_database_url])

    assert code == 2
    assert error_line(capsys.readouterr().err).endswith(
        "has no tables but an alembic_version table stamped at abcdef123456: the check needs an "
        "empty database of its own, separate from the tests' and the app's, as it drops every "
        "table it finds there when it ends: create one (e.g. createdb -h 127.0.0.1 "
        "migration_check) and pass its URL with --url, or leave --url out for a throwaway "
        "SQLite file"
    )
    assert table_names(empty_database_url) == ["alembic_version"]


@pytest.mark.sqlite
def test_check_never_migrates_the_database_named_in_dotenv(project: Path, tmp_path: Path) -> None:
    # env.py migrates MIGRATIONS_DATABASE_URL when it is set: a .env that names the real
    # database must not see the check's upgrade and downgrade
    real = tmp_path / "real.db"
    (project / ".env").write_text(f"MIGRATIONS_DATABASE_URL=sqlite+aiosqlite:///{real}\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check_url = f"sqlite+aiosqlite:///{tmp_path / 'check.db'}"

    # the wrong way: DATABASE_URL alone, and env.py migrates the database .env names
    naive = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env={**env, "DATABASE_URL": check_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert naive.returncode == 0, naive.stderr
    assert "users" in table_names(f"sqlite+aiosqlite:///{real}")
    real.unlink()

    result = run_script("check_migrations", str(project), "--url", check_url, cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not real.exists()


def test_check_explains_missing_alembic(tmp_path: Path) -> None:
    # -S skips site-packages: the interpreter a user might run without the project's packages
    bare = [sys.executable, "-S"]
    result = run_script("check_migrations", str(tmp_path), cwd=tmp_path, python=bare)

    assert result.returncode == 2
    assert (
        "alembic is not importable: run this with the project's Python "
        "(`python .../check_migrations.py`)" in error_line(result.stderr)
    )


def test_check_help_says_where_it_runs_and_which_database(tmp_path: Path) -> None:
    result = run_script("check_migrations", "--help", cwd=tmp_path, python=[sys.executable, "-S"])

    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "Usage:" in text and "Examples:" in text
    assert "alembic, sqlalchemy" in text
    assert "give the check an empty database of its own, separate from the tests'" in text
    assert "--url postgresql+asyncpg://postgres@127.0.0.1/migration_check" in text


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

    code = check_migrations.main([str(project), "--url", empty_database_url])

    out = capsys.readouterr().out
    assert code == 1
    (failure,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failure.startswith(
        "FAIL downgrade base: failed in 2099_01_01_0000-c0ffee000001_broken.py:"
    )
    assert "no_such_table" in failure
    assert "OK   no drift" in out
    # the tables the failed run created are gone: the check can run again on this database
    assert table_names(empty_database_url) == []


def test_check_debug_shows_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = check_migrations.main([str(tmp_path / "missing"), "--debug"])

    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback (most recent call last)" in err and "NoneType: None" not in err
    assert "in check_project" in err
    assert err.count("check_migrations.py: error: project folder") == 1
