"""What `npx skill4agent install OWNER/REPO database` leaves in a project: the skill at
.agents/skills/database, a symlink to its store by default (--method copy: a copy), and the
commands run from the project through that path.

skill4agent resolves OWNER/REPO through the skill4agent.com catalogue, which these machines
cannot reach, so the test builds the folder the installer makes from the committed files."""

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import copy_tracked_files

SKILL = Path(".agents/skills/database")
APP_MAIN = 'from fastapi import FastAPI\n\napp = FastAPI(title="shop")\n'


@pytest.fixture(params=["symlink", "copy"])
def installed_project(
    request: pytest.FixtureRequest, tracked_files: dict[str, str], tmp_path: Path
) -> Path:
    """A FastAPI project with the skill installed the way skill4agent's --method says."""
    project = tmp_path / "shop"
    (project / "app").mkdir(parents=True)
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "main.py").write_text(APP_MAIN)
    (project / SKILL.parent).mkdir(parents=True)
    if request.param == "symlink":
        # the store lives outside the project; the project holds only the link
        store = tmp_path / "store" / "database"
        copy_tracked_files(tracked_files, store)
        (project / SKILL).symlink_to(store, target_is_directory=True)
    else:
        copy_tracked_files(tracked_files, project / SKILL)
    return project


def run(project: Path, script: str, *args: str, stdlib_only: bool = False) -> Any:
    """python <SKILL>/scripts/<script>.py args, from the project, as an agent types it."""
    import subprocess

    python = [sys.executable, "-S"] if stdlib_only else [sys.executable]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [*python, str(SKILL / "scripts" / f"{script}.py"), *args, "--json"],
        cwd=project,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def test_run_scaffold_check_db_and_check_migrations_through_installed_folder(
    installed_project: Path, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = installed_project
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code, scaffolded = run(project, "scaffold", ".", stdlib_only=True)
    assert code == 0 and scaffolded["app"] == "app/main.py:app"
    assert "app/db/config.py" in scaffolded["created"]
    assert not [p for p in scaffolded["created"] if p.startswith(".agents")]

    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    code, before = run(project, "check_db")
    checks = {check["name"]: check for check in before["checks"]}
    assert code == 1 and checks["migrations"]["status"] == "fail", checks["migrations"]
    # the project's own settings, copied by the scaffold, are the ones read
    assert checks["settings"]["origin"] == "app/db/config.py"
    assert before["url"] is not None and before["source"] == "DATABASE_URL"

    import subprocess

    upgrade = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    code, after = run(project, "check_db")
    assert code == 0, after["checks"]

    code, migrations = run(project, "check_migrations")
    assert code == 0, migrations
    assert [check["status"] for check in migrations["checks"]] == ["ok"] * 5
    assert (project / SKILL).is_symlink() is (
        project / SKILL / "SKILL.md"
    ).resolve().is_relative_to(project.parent / "store")
