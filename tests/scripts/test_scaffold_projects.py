"""End to end: scaffold fresh FastAPI projects, follow the printed next steps, migrate them with
Alembic and run each project's own tests in a subprocess, on SQLite and on PostgreSQL; the
scaffold run from a copy of the skill, from another folder, on the standard library alone."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, SCRIPTS
from tests.scripts import scaffold_projects as projects

SCAFFOLD = SCRIPTS / "scaffold.py"

# layout: (project builder, scaffold flags)
LAYOUTS: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "app_main": (projects.app_layout, []),
    "src_package": (projects.src_layout, ["--db", "postgresql"]),
    "existing_project": (projects.existing_project, []),
    "factory_app": (projects.factory_layout, []),
    "pyproject_named_no_examples": (projects.named_package, ["--no-examples"]),
    # no pyproject.toml: the pytest settings go in the one the printed step creates
    "top_level_package": (projects.top_level_package, []),
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def scaffold(project: Path, flags: list[str]) -> dict[str, Any]:
    result = run([sys.executable, str(SCAFFOLD), str(project), *flags, "--json"], project, _env())
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    return env | {"PYTHONDONTWRITEBYTECODE": "1", "CI": "true"} | extra


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_scaffold_project_passes_its_own_tests(
    layout: str, empty_database_url: str, tmp_path: Path
) -> None:
    build, flags = LAYOUTS[layout]
    project = build(tmp_path / "project")
    doc = scaffold(project, flags)
    assert doc["created"], doc

    # what the user does next, as the summary says
    projects.apply_app_changes(project, doc["app_changes"])
    projects.merge_conflicts(project, doc["conflicts"])
    projects.add_pytest_settings(project, doc["next_steps"])
    if "--no-examples" in flags:
        with (project / doc["package_dir"] / "models.py").open("a") as handle:
            handle.write(projects.ITEM_MODEL)
        (project / "tests" / "test_items_db.py").write_text(projects.ITEM_TEST)

    env = _env(DATABASE_URL=empty_database_url, TEST_POSTGRES_URL=empty_database_url)
    backend = "sqlite" if empty_database_url.startswith("sqlite") else "postgresql"
    alembic = [sys.executable, "-m", "alembic"]
    versions = project / "migrations" / "versions"
    if not any(versions.glob("*.py")):
        run([*alembic, "revision", "--autogenerate", "-m", "create items"], project, env)
        (revision,) = versions.glob("*.py")
        assert "create_table('items'" in revision.read_text().replace('"', "'")
    run([*alembic, "upgrade", "head"], project, env)

    pytest_args = [sys.executable, "-m", "pytest", "-c", str(project / "pyproject.toml")]
    pytest_args += ["--rootdir", str(project), "-p", "no:cacheprovider", "-q", "-rfEs"]
    # only the plugin the copied tests need: this venv's others (schemathesis, hypothesis)
    # cost seconds of start-up per run and play no part in the project's tests
    pytest_args += ["-p", "pytest_asyncio.plugin"]
    marker = "postgresql" if backend == "postgresql" else "not postgresql"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if backend == "postgresql":
        # the fixtures build this run's schema through the project's own alembic.ini
        env["TEST_SCHEMA"] = "migrations"
    result = run([*pytest_args, "-m", marker], project, env)
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, result.stdout


def test_scaffold_runs_from_skill_copy_and_other_cwd(tmp_path: Path) -> None:
    skill = tmp_path / ".claude" / "skills" / "database"
    for folder in ("scripts", "assets"):
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")
        shutil.copytree(ROOT / folder, skill / folder, ignore=ignore)
    project = projects.src_layout(tmp_path / "work" / "shop")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -S: no site-packages, so the script shows it needs only the standard library
    script = str(skill / "scripts" / "scaffold.py")
    result = run([sys.executable, "-S", script, str(project), "--json"], elsewhere, _env())
    doc = json.loads(result.stdout)
    assert doc["package"] == "myservice" and doc["app"] == "src/myservice/main.py:application"
    assert "src/myservice/db/session.py" in doc["created"]
    assert (project / "src" / "myservice" / "db" / "session.py").is_file()
    assert list(elsewhere.iterdir()) == []
    # a skill folder without pyproject.toml: the same command, without version bounds
    install = next(s["code"] for s in doc["next_steps"] if "pip install" in s["code"])
    assert install.splitlines()[-2:] == [
        'python -m pip install "sqlalchemy[asyncio]" alembic fastapi pydantic-settings asyncpg '
        "aiosqlite argon2-cffi",
        "python -m pip install pytest pytest-asyncio httpx",
    ]

    help_text = run([sys.executable, "-S", script, "--help"], elsewhere, _env()).stdout
    assert "Usage:" in help_text and "Examples:" in help_text and "--no-examples" in help_text
