"""scripts/scaffold.py through main(): layouts, rewritten imports, conflicts, dry runs, failures."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import scaffold
from tests.helpers import ASSETS
from tests.scripts import scaffold_projects as projects


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = scaffold.main([*args, "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    doc: dict[str, Any] = json.loads(out)
    return code, doc


def copied_python(project: Path) -> list[Path]:
    return [p for p in project.rglob("*.py") if p.name != "main.py"]


def test_scaffold_src_layout_rewrites_imports_to_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.src_layout(tmp_path)
    code, doc = run_json(capsys, str(project), "--db", "postgresql")
    assert code == 0
    assert (doc["package"], doc["package_dir"], doc["db"]) == (
        "myservice",
        "src/myservice/",
        "postgresql",
    )
    assert doc["app"] == "src/myservice/main.py:application"
    assert {"src/myservice/db/session.py", "migrations/env.py", "tests/conftest.py"} <= set(
        doc["created"]
    )
    for path in copied_python(project):
        assert not re.search(r"(?m)^\s*(from|import) app\b", path.read_text()), path
    conftest = (project / "tests" / "conftest.py").read_text()
    assert "from myservice.main import application as app\n" in conftest
    assert "import myservice.models" in (project / "migrations" / "env.py").read_text()
    assert "\nprepend_sys_path = src\n" in (project / "alembic.ini").read_text()
    env_example = (project / ".env.example").read_text()
    assert "DATABASE_URL=postgresql+asyncpg://" in env_example
    main_py = (project / "src" / "myservice" / "main.py").read_text()
    assert main_py == projects.SRC_MAIN


def test_scaffold_prints_app_lines_for_user_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.src_layout(tmp_path)
    assert scaffold.main([str(project), "--db", "postgresql"]) == 0
    out = capsys.readouterr().out
    assert "from myservice.api.routes import health, posts, users" in out
    assert "application.include_router(users.router)" in out
    assert "add `lifespan=lifespan` to the FastAPI(...) call on line 5" in out
    assert "await engine.dispose()" in out
    assert 'pythonpath = ["src"]' in out and 'asyncio_mode = "auto"' in out


def test_scaffold_help_says_db_picks_only_env_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert scaffold.main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--db only picks the URL in .env.example" in out
    assert "the DATABASE_URL written to .env.example; the dependency command lists both" in out
    assert "delete that revision, then run `alembic revision --autogenerate` before" in out


@pytest.mark.parametrize(
    ("gitignore", "step"),
    [
        (None, ("create .gitignore (app.db is", "app.db\napp.db-wal\napp.db-shm\n.env")),
        ("*.db\n", ("add these lines to .gitignore", "app.db-wal\napp.db-shm\n.env")),
        (
            "/.env\n*.db\n!app.db\n",
            ("add these lines to .gitignore", "app.db\napp.db-wal\napp.db-shm"),
        ),
        # SQLite in WAL mode keeps two files beside app.db
        ("app.db\n.env\n", ("add these lines to .gitignore", "app.db-wal\napp.db-shm")),
        ("# local\napp.db*\n.env*\n", None),
    ],
    ids=["no-gitignore", "db-ignored", "app-db-unignored", "wal-files", "all-ignored"],
)
def test_scaffold_prints_gitignore_lines_it_lacks(
    gitignore: str | None,
    step: tuple[str, str] | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = projects.app_layout(tmp_path)
    if gitignore is not None:
        (project / ".gitignore").write_text(gitignore)
    code, doc = run_json(capsys, str(project))
    assert code == 0
    found = [s for s in doc["next_steps"] if ".gitignore" in s["title"]]
    if step is None:
        assert found == []
    else:
        assert [(step[0] in s["title"], s["code"]) for s in found] == [(True, step[1])]
    # printed only: the user's .gitignore is never written
    after = (project / ".gitignore").read_text() if (project / ".gitignore").exists() else None
    assert after == gitignore


def test_scaffold_examples_step_names_optional_files_and_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.app_layout(tmp_path)
    assert scaffold.main([str(project)]) == 0
    out = capsys.readouterr().out
    revision = next((ASSETS / "migrations" / "versions").glob("*.py")).name
    assert (project / "migrations" / "versions" / revision).is_file()
    assert (
        f"The example revision migrations/versions/{revision} creates the tables of the example "
        "models as copied (users, posts). If you change or drop example models (say keep users, "
        "drop posts), edit the models first, delete that revision, and generate your own "
        "before the first upgrade"
    ) in out
    assert f"    rm migrations/versions/{revision}\n" in out
    assert out.index("alembic revision --autogenerate") < out.index("alembic upgrade head")
    assert "Cursor pages serve only the posts feed (GET /posts): CursorQuery in " in out
    assert "The examples are optional. The layer itself is app/db/, app/errors.py" in out


def test_scaffold_second_run_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.app_layout(tmp_path)
    assert scaffold.main([str(project)]) == 0
    capsys.readouterr()
    before = projects.tree_hashes(project)
    assert scaffold.main([str(project)]) == 0
    assert "Nothing to change: all" in capsys.readouterr().out
    code, doc = run_json(capsys, str(project))
    assert code == 0 and doc["created"] == [] and doc["conflicts"] == []
    assert len(doc["unchanged"]) > 10
    assert projects.tree_hashes(project) == before


def test_scaffold_existing_files_kept_and_proposal_written_beside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.existing_project(tmp_path)
    models, conftest = project / "app" / "models.py", project / "tests" / "conftest.py"
    code, doc = run_json(capsys, str(project))
    assert code == 0
    assert models.read_text() == projects.EXISTING_MODELS
    assert conftest.read_text() == projects.EXISTING_CONFTEST
    assert doc["conflicts"] == [
        {
            "path": "app/models.py",
            "proposed": "app/models.py.scaffold-new",
            "state": "written",
            "edited": False,
        },
        {
            "path": "tests/conftest.py",
            "proposed": "tests/conftest.py.scaffold-new",
            "state": "written",
            "edited": False,
        },
    ]
    assert (project / "app" / "models.py.scaffold-new").read_bytes() == (
        ASSETS / "app" / "models.py"
    ).read_bytes()
    merge = next(s for s in doc["next_steps"] if s["title"].startswith("Merge"))
    assert "merge app/models.py.scaffold-new into app/models.py" in merge["code"]

    # the second run leaves everything, and still lists the merges to do
    before = projects.tree_hashes(project)
    code, doc = run_json(capsys, str(project))
    assert code == 0 and doc["created"] == []
    assert {c["state"] for c in doc["conflicts"]} == {"pending"}
    assert projects.tree_hashes(project) == before


def test_scaffold_modified_user_file_stays_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.app_layout(tmp_path)
    assert scaffold.main([str(project)]) == 0
    session = project / "app" / "db" / "session.py"
    edited = session.read_bytes().replace(b"expire_on_commit=False", b"expire_on_commit=True")
    session.write_bytes(edited + b"# my own change\r\n")
    capsys.readouterr()
    code, doc = run_json(capsys, str(project))
    assert code == 0
    assert session.read_bytes() == edited + b"# my own change\r\n"
    assert doc["conflicts"] == [
        {
            "path": "app/db/session.py",
            "proposed": "app/db/session.py.scaffold-new",
            "state": "written",
            # it starts as the file the first run wrote: edited since, nothing to merge
            "edited": True,
        }
    ]
    assert doc["created"] == ["app/db/session.py.scaffold-new"]
    kept = next(s for s in doc["next_steps"] if "app/db/session.py" in s["code"])
    assert kept["title"] == "Your edits to files an earlier run wrote are kept:"
    assert kept["code"] == (
        "app/db/session.py: yours is kept as you edited it, nothing to do; "
        "app/db/session.py.scaffold-new is the skill's version, to compare only if you want "
        "it; delete app/db/session.py.scaffold-new"
    )
    scaffold.main([str(project)])
    assert (
        "conflict  app/db/session.py: yours kept, ours still in app/db/session.py.scaffold-new "
        "from an earlier run (you edited ours: nothing to do unless you want the new one)"
    ) in capsys.readouterr().out


def test_scaffold_never_overwrites_other_proposal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.existing_project(tmp_path)
    proposal = project / "app" / "models.py.scaffold-new"
    proposal.write_text("my notes\n")
    code, doc = run_json(capsys, str(project))
    assert code == 1
    assert proposal.read_text() == "my notes\n"
    blocked = next(c for c in doc["conflicts"] if c["path"] == "app/models.py")
    assert blocked["state"] == "blocked"
    merge = next(s for s in doc["next_steps"] if s["title"].startswith("Merge"))
    assert "app/models.py.scaffold-new already exists with other content" in merge["code"]


def test_scaffold_dry_run_leaves_tree_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.existing_project(tmp_path)
    before = projects.tree_hashes(project)
    assert scaffold.main([str(project), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run, nothing written" in out
    assert "would create  app/db/engine.py" in out
    assert "conflict  app/models.py" in out
    assert projects.tree_hashes(project) == before


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no FastAPI project layout in"),
        ({"README.md": "hello\n", "app/readme.txt": "not python\n"}, "no FastAPI project layout"),
        ({"app/__init__.py": "", "app/main.py": "print('no app')\n"}, "no module in app creates"),
        (
            {"pyproject.toml": '[project]\nname = "shop"\n', "shop/__init__.py": ""},
            "no module in shop creates",
        ),
        ({"app/main.py": "def make():\n    return FastAPI()\n"}, "returns FastAPI(...) directly"),
        (
            {"app/main.py": "def make():\n    api = FastAPI()\n    return api\n"},
            "add `app = create_app()`",
        ),
        ({"app/main.py": projects.SIMPLE_MAIN, "app/db.py": ""}, "app/db.py exists"),
    ],
    ids=[
        "empty",
        "no_package",
        "no_app",
        "pyproject_no_app",
        "factory_returns_call",
        "factory_never_called",
        "db_module",
    ],
)
def test_scaffold_without_usable_layout_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], message: str
) -> None:
    project = projects.write(tmp_path, files)
    before = projects.tree_hashes(project)
    assert scaffold.main([str(project)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert projects.tree_hashes(project) == before


def test_scaffold_missing_project_dir_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scaffold.main([str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_scaffold_package_option_picks_named_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/main.py": projects.SIMPLE_MAIN,
            "backend/api/__init__.py": "",
            "backend/api/server.py": projects.NAMED_MAIN,
        },
    )
    code, doc = run_json(capsys, str(project), "--package", "backend.api", "--dry-run")
    assert code == 0
    assert doc["package"] == "backend.api" and doc["app"] == "backend/api/server.py:app"
    assert "backend/api/db/engine.py" in doc["created"]
    assert scaffold.main([str(project), "--package", "nope"]) == 2
    assert "no package 'nope'" in capsys.readouterr().err


def test_scaffold_pyproject_named_package_no_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.named_package(tmp_path)
    code, doc = run_json(capsys, str(project), "--no-examples")
    assert code == 0 and doc["package"] == "inventory_api"
    created = set(doc["created"])
    assert {
        "inventory_api/db/session.py",
        "inventory_api/models.py",
        "migrations/versions/",
    } <= created
    for example in ("repository.py", "security.py", "api/routes/users.py", "api/routes/posts.py"):
        assert f"inventory_api/{example}" not in created
    assert not any(p.startswith("tests/test_users") for p in created)
    assert not any((project / "migrations" / "versions").iterdir())
    models = (project / "inventory_api" / "models.py").read_text()
    assert "from inventory_api.db import Base" in models
    # schemas.py keeps the input helpers every model's schemas need, and nothing of the examples
    schemas = project / "inventory_api" / "schemas.py"
    assert "inventory_api/schemas.py" in created
    assert "def _storable(" in schemas.read_text() and "def _text(" in schemas.read_text()
    assert "class " not in schemas.read_text()
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--line-length",
            "100",
            "--select",
            "E,F,W,I",
            str(schemas),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout
    helpers: dict[str, Any] = {}
    exec(compile(schemas.read_text(), str(schemas), "exec"), helpers)
    with pytest.raises(ValueError, match="NUL"):
        helpers["_storable"]("a\x00b")
    assert helpers["_text"](1, 100).max_length == 100
    changes = doc["app_changes"]
    assert "from inventory_api.api.routes import health\n" in changes["imports"]
    assert (
        "users" not in changes["after_app"]
        and "include_router(health.router)" in changes["after_app"]
    )
    assert any("alembic revision --autogenerate" in s["code"] for s in doc["next_steps"])
    titles = " ".join(s["title"] for s in doc["next_steps"])
    assert "The examples are optional" not in titles and "example revision" not in titles


def test_scaffold_existing_lifespan_gets_merge_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.existing_project(tmp_path)
    code, doc = run_json(capsys, str(project), "--dry-run")
    changes = doc["app_changes"]
    assert changes["lifespan"] == "" and changes["app_argument"] == ""
    assert changes["lifespan_merge"].endswith("await engine.dispose()\n")
    assert "asynccontextmanager" not in changes["imports"]
    assert "from app.db import engine" in changes["imports"]
    titles = " ".join(s["title"] for s in doc["next_steps"])
    assert "Your app already has a lifespan (lifespan)" in titles


def test_scaffold_existing_revisions_skip_example_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.write(
        projects.app_layout(tmp_path), {"migrations/versions/0001_mine.py": "revision = '1'\n"}
    )
    code, doc = run_json(capsys, str(project))
    assert code == 0
    assert not [p for p in doc["created"] if p.startswith("migrations/versions/")]
    assert [p.name for p in (project / "migrations" / "versions").iterdir()] == ["0001_mine.py"]
    titles = " ".join(s["title"] for s in doc["next_steps"])
    assert "The example revision" not in titles and "The examples are optional" in titles


def test_scaffold_path_blocked_by_file_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a file where a folder must go: as root, the one write failure permissions cannot cause
    project = projects.write(projects.app_layout(tmp_path), {"migrations": "not a folder\n"})
    before = projects.tree_hashes(project)
    assert scaffold.main([str(project)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "migrations is a file, not a folder" in err and "nothing was written" in err
    assert projects.tree_hashes(project) == before


def test_scaffold_failure_midway_removes_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = projects.app_layout(tmp_path)
    before = projects.tree_hashes(project)
    real_rename, calls = os.rename, []

    def failing_rename(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == 7:
            raise OSError(28, "No space left on device", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    assert scaffold.main([str(project)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert len(calls) == 7
    assert projects.tree_hashes(project) == before


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root")
def test_scaffold_read_only_project_fails_cleanly(tmp_path: Path) -> None:
    python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if python is None:
        pytest.skip("no system python3 that the nobody user can run")
    # a folder nobody can read but not write, outside root's private temp folder
    folder = Path(tempfile.mkdtemp(prefix="scaffold-ro-"))
    try:
        folder.chmod(0o755)
        project = projects.app_layout(folder / "project")
        before = projects.tree_hashes(project)
        script = Path(scaffold.__file__)
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", python, "-S", "-B", str(script), str(project)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        assert "Permission denied" in result.stderr or "no permission" in result.stderr
        assert "nothing was written" in result.stderr and "Traceback" not in result.stderr
        assert projects.tree_hashes(project) == before
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from app.db import Base\n", "from shop.db import Base\n"),
        ("from app import repository\n", "from shop import repository\n"),
        ("import app.models  # noqa: F401\n", "import shop.models  # noqa: F401\n"),
        ("import os, app.models as m\n", "import os, shop.models as m\n"),
        ("from app.main import app\n", "from shop.web import application as app\n"),
        (
            "if True:\n    from app.x import (\n        y,\n    )\n",
            "if True:\n    from shop.x import (\n        y,\n    )\n",
        ),
        ("from .app import x\n", "from .app import x\n"),
        ("from application import x\n", "from application import x\n"),
        (
            'text = "from app.db import Base"  # app.db\n',
            'text = "from app.db import Base"  # app.db\n',
        ),
        ("app.include_router(r)\n", "app.include_router(r)\n"),
    ],
    ids=[
        "from_module",
        "from_package",
        "import",
        "import_list",
        "app_module",
        "indented",
        "relative",
        "other_name",
        "string",
        "attribute",
    ],
)
def test_rewrite_imports_changes_only_import_statements(source: str, expected: str) -> None:
    from _lib.scaffold.rewrite import Target, rewrite_imports

    assert rewrite_imports(source, Target("shop", "shop.web", "application")) == expected


@pytest.mark.parametrize(
    ("existing", "state"),
    [("DATABASE_URL=sqlite+aiosqlite:///./mine.db\n", None), ("SECRET_KEY=x\n", "written")],
    ids=["has_database_url", "other_settings"],
)
def test_scaffold_env_example_kept_when_it_sets_database_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], existing: str, state: str | None
) -> None:
    project = projects.write(projects.app_layout(tmp_path), {".env.example": existing})
    code, doc = run_json(capsys, str(project))
    assert code == 0
    assert (project / ".env.example").read_text() == existing
    states = {c["path"]: c["state"] for c in doc["conflicts"]}
    assert states.get(".env.example") == state
    if state is None:
        assert ".env.example" in doc["unchanged"]
    else:
        proposed = (project / ".env.example.scaffold-new").read_text()
        assert "DATABASE_URL=sqlite+aiosqlite:///./app.db" in proposed


@pytest.mark.parametrize(
    ("asset_line", "expected"),
    [
        ("prepend_sys_path = .", "prepend_sys_path = src"),
        ("prepend_sys_path = %(here)s", "prepend_sys_path = %(here)s/src"),
    ],
    ids=["working_folder", "here"],
)
def test_scaffold_alembic_ini_points_at_src(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    asset_line: str,
    expected: str,
) -> None:
    from _lib.scaffold import plan

    assets = tmp_path / "assets"
    shutil.copytree(ASSETS, assets, ignore=shutil.ignore_patterns("__pycache__"))
    ini = assets / "alembic.ini"
    ini.write_text(re.sub(r"(?m)^prepend_sys_path = .*$", asset_line, ini.read_text()))
    monkeypatch.setattr(plan, "ASSETS", assets)
    project = projects.src_layout(tmp_path / "project")
    assert scaffold.main([str(project)]) == 0
    assert f"\n{expected}\n" in (project / "alembic.ini").read_text()


def test_scaffold_json_error_is_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scaffold.main([str(tmp_path), "--json"]) == 2
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["exit_code"] == 2 and "no FastAPI project layout" in doc["error"]
    assert err.startswith("scaffold.py: error: no FastAPI project layout")
    assert err.count("\n") == 1


def test_scaffold_defaults_to_working_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(projects.app_layout(tmp_path))
    code, doc = run_json(capsys, "--dry-run")
    assert code == 0 and doc["exit_code"] == 0 and doc["app"] == "app/main.py:app"
    assert "app/db/engine.py" in doc["created"] and not (tmp_path / "app" / "db").exists()


def test_scaffold_finds_the_one_top_level_package_that_creates_app(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.top_level_package(tmp_path / "one")
    code, doc = run_json(capsys, str(project), "--dry-run")
    assert code == 0
    assert doc["package"] == "notes_api" and doc["app"] == "notes_api/main.py:app"
    assert "notes_api/db/engine.py" in doc["created"]
    # src/ packages count too, and two packages with an app are one too many to guess
    project = projects.write(
        projects.top_level_package(tmp_path / "two"),
        {"src/admin/__init__.py": "", "src/admin/server.py": projects.NAMED_MAIN},
    )
    before = projects.tree_hashes(project)
    assert scaffold.main([str(project)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert (
        "several packages create a FastAPI(...) app: notes_api (notes_api/main.py), admin "
        "(src/admin/server.py); pass --package NAME"
    ) in err
    assert projects.tree_hashes(project) == before
    code, doc = run_json(capsys, str(project), "--package", "admin", "--dry-run")
    assert code == 0 and doc["app"] == "src/admin/server.py:app"


@pytest.mark.parametrize(
    "ini", [None, "[pytest]\nasyncio_mode = auto\n"], ids=["none", "pytest.ini"]
)
def test_scaffold_pytest_settings_written_as_printed_reach_pytest(
    ini: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.top_level_package(tmp_path)
    if ini is not None:
        (project / "pytest.ini").write_text(ini)
    code, doc = run_json(capsys, str(project), "--dry-run")
    settings = "[pytest]" if ini else "[tool.pytest.ini_options]"
    step = next(s for s in doc["next_steps"] if s["code"].startswith(settings))
    if ini is None:
        assert step["title"].startswith("Create pyproject.toml with these lines")
        # written as the step says: a new file holding only those lines
        (project / "pyproject.toml").write_text(step["code"])
    else:
        # pytest.ini wins over pyproject.toml: the keys it lacks go there, in its own syntax
        assert step["title"].startswith("Set these keys in the [pytest] section of pytest.ini")
        assert "asyncio_mode" not in step["code"] and "pythonpath = .\n" in step["code"]
        (project / "pytest.ini").write_text(ini + step["code"].removeprefix("[pytest]\n"))
    (project / "tests").mkdir()
    (project / "tests" / "test_settings.py").write_text(
        "import notes_api.main\n\n\n"
        "async def test_settings(request) -> None:\n"
        "    config = request.config\n"
        f"    assert config.inipath.name == {'pytest.ini' if ini else 'pyproject.toml'!r}\n"
        "    assert config.getini('asyncio_mode') == 'auto'\n"
        "    assert config.getini('asyncio_default_fixture_loop_scope') == 'session'\n"
        "    assert config.getini('asyncio_default_test_loop_scope') == 'session'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # no path given: testpaths finds the tests, pythonpath the package, auto mode the async test
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "pytest_asyncio.plugin", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout + result.stderr
    # the second run finds them all
    code, doc = run_json(capsys, str(project), "--dry-run")
    where = "pytest.ini" if ini else "pyproject.toml"
    assert f"{where} already has the pytest settings" in " ".join(
        s["title"] for s in doc["next_steps"]
    )


@pytest.mark.parametrize("build", [projects.app_layout, projects.factory_layout])
@pytest.mark.parametrize("handlers", ["add_database_error_handlers", "add_error_handlers"])
def test_scaffold_rerun_after_the_steps_prints_them_done(
    build: Any, handlers: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = build(tmp_path)
    code, doc = run_json(capsys, str(project))
    projects.apply_app_changes(project, doc["app_changes"])
    projects.add_pytest_settings(project, doc["next_steps"])
    main = project / "app" / "main.py"
    # the installer under either name
    text = main.read_text()
    for name in ("add_database_error_handlers", "add_error_handlers"):
        text = text.replace(name, handlers)
    main.write_text(text)
    code, again = run_json(capsys, str(project))
    assert code == 0 and again["created"] == []
    changes = again["app_changes"]
    assert [changes[k] for k in ("imports", "lifespan", "lifespan_merge", "after_app")] == [""] * 4
    variable = "application" if build is projects.factory_layout else "app"
    # the installer as the asset app calls it
    installer = next(
        h
        for h in ("add_database_error_handlers", "add_error_handlers")
        if f"{h}(app)" in (ASSETS / "app" / "main.py").read_text()
    )
    assert changes["done"].splitlines() == [
        "await engine.dispose()  # in the lifespan",
        f"{variable}.include_router(users.router)",
        f"{variable}.include_router(posts.router)",
        f"{variable}.include_router(health.router)",
        f"{installer}({variable})",
    ]
    titles = [s["title"] for s in again["next_steps"]]
    assert "Already in app/main.py, nothing to do for these:" in titles
    printed = ("Add these", "Define this", "Pass it", "Your app already", "Create pyproject")
    assert not any(t.startswith(printed) for t in titles)
    assert "pyproject.toml already has the pytest settings" in " ".join(titles)
    # one router taken out again is printed again, alone
    kept = [line for line in main.read_text().splitlines(True) if "(posts.router)" not in line]
    main.write_text("".join(kept))
    _, third = run_json(capsys, str(project))
    assert third["app_changes"]["after_app"].strip() == f"{variable}.include_router(posts.router)"


def test_scaffold_no_examples_leaves_out_what_only_the_examples_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.app_layout(tmp_path)
    code, _ = run_json(capsys, str(project), "--no-examples")
    assert code == 0
    deps = (project / "app" / "api" / "deps.py").read_text()
    conftest = (project / "tests" / "conftest.py").read_text()
    for gone in ("CursorQuery", "int4_key", "decode_cursor", "AfterValidator", "posts feed"):
        assert gone not in deps
    assert "IdPath" in deps and "get_engine" in deps
    for gone in ("argon2", "security", "production_hashing", "cheap_password_hashing"):
        assert gone not in conftest
    assert "def engine(" in conftest and "def client(" in conftest
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "100"]
        + ["--select", "E,F,W", str(project / "app" / "api"), str(project / "tests")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout
