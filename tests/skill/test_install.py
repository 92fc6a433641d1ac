"""Install the committed skill with the real `skills` installer from npm, then use the copy it made.

The path a user takes: `npx skills add <path> -y --agent claude-code` into a FastAPI project,
scaffold.py run from the installed folder, the next steps it prints followed, and the generated
project's own tests run on each backend. The installer needs Node.js >= 22.20; on an older
machine the test installs Node from the npm registry's `node` package into a cache folder.
"""

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import copy_tracked_files

SKILLS_VERSION = "1.7.4"
NODE_VERSION = "22.23.3"
NODE_MINIMUM = (22, 20)
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "database-skill"
# the installer drops these names when it copies a skill
INSTALLER_SKIPS = {"metadata.json"}

APP_MAIN = '''"""The shop API."""

from fastapi import FastAPI

app = FastAPI(title="shop")


@app.get("/")
async def read_root() -> dict[str, str]:
    return {"name": "shop"}
'''
PYPROJECT = """[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi"]
"""


def _node_version(node: str) -> tuple[int, int]:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.match(r"v(\d+)\.(\d+)", out.strip())
    return (int(match[1]), int(match[2])) if match else (0, 0)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # concurrent test runs on one machine share the cache: one installs, the others wait
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _installer_env() -> dict[str, str]:
    return {
        **os.environ,
        "DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
    }


@pytest.fixture(scope="session")
def node_path() -> str:
    """A PATH whose first node is one the skills installer accepts."""
    path = os.environ["PATH"]
    node = shutil.which("node")
    if node and _node_version(node) >= NODE_MINIMUM:
        return path
    npm = shutil.which("npm")
    assert npm, "npm is not on PATH: install Node.js (any version with npm) to run the install test"
    target = CACHE / f"node-{NODE_VERSION}"
    bin_dir = target / "node_modules" / ".bin"
    with _locked(CACHE / "node.lock"):
        if not (bin_dir / "node").exists():
            shutil.rmtree(target, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix="node-", dir=CACHE))
            result = subprocess.run(
                [npm, "install", "--prefix", str(staging), f"node@{NODE_VERSION}"],
                capture_output=True,
                text=True,
                env=_installer_env(),
                timeout=240,
            )
            assert result.returncode == 0, (
                f"npm could not install node@{NODE_VERSION}:\n{result.stderr}"
            )
            staging.rename(target)
    assert _node_version(str(bin_dir / "node")) >= NODE_MINIMUM
    return f"{bin_dir}{os.pathsep}{path}"


def _new_fastapi_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "main.py").write_text(APP_MAIN, encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return root


def _follow_steps(project: Path, summary: dict[str, Any]) -> None:
    """Do what an agent does with scaffold.py's next steps: edit the app module and pyproject."""
    changes = summary["app_changes"]
    assert changes["lifespan_merge"] == "", "the fresh app has no lifespan to merge into"
    main = project / changes["module"]
    source = main.read_text(encoding="utf-8")
    source = source.replace('"""\n\n', f'"""\n\n{changes["imports"]}', 1)
    source = source.replace("app = FastAPI(", f"{changes['lifespan']}\n\napp = FastAPI(", 1)
    source = source.replace(
        'FastAPI(title="shop")', f'FastAPI(title="shop", {changes["app_argument"]})'
    )
    main.write_text(f"{source}\n\n{changes['after_app']}", encoding="utf-8")
    pytest_settings = [
        s["code"] for s in summary["next_steps"] if "[tool.pytest.ini_options]" in s["code"]
    ]
    assert len(pytest_settings) == 1, "scaffold.py printed no pytest settings for pyproject.toml"
    with (project / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n{pytest_settings[0]}")


def _plain(text: str) -> str:
    """Installer output without its terminal control sequences, for failure messages."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def _outcomes(report: Path) -> dict[str, list[str]]:
    outcomes: dict[str, list[str]] = {"passed": [], "failed": [], "skipped": []}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            outcomes["failed"].append(name)
        elif "skipped" in kinds:
            outcomes["skipped"].append(name)
        else:
            outcomes["passed"].append(name)
    return outcomes


def _install(source: Path, project: Path, node_path: str) -> Path:
    """`npx skills add <source> -y --agent claude-code` in the project; the installed folder."""
    command = ["npx", "--yes", f"skills@{SKILLS_VERSION}", "add", str(source), "-y"]
    result = subprocess.run(
        [*command, "--agent", "claude-code"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**_installer_env(), "PATH": node_path},
        timeout=300,
    )
    assert result.returncode == 0, _plain(result.stdout + result.stderr)
    # one skill, in the folder Claude Code reads: a nested SKILL.md would show up as a second
    skills = project / ".claude" / "skills"
    assert sorted(p.name for p in skills.iterdir()) == ["database"], _plain(result.stdout)
    return skills / "database"


def _scaffold(skill: Path, project: Path, backend: str) -> dict[str, Any]:
    scaffold = skill / "scripts" / "scaffold.py"
    assert scaffold.is_file(), "scripts/scaffold.py is not committed: nothing to run after install"
    # -S: no site-packages, so the run proves the script needs only the standard library
    result = subprocess.run(
        [sys.executable, "-S", str(scaffold), str(project), "--db", backend, "--json"],
        cwd=project.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["conflicts"] == []
    return summary


def _run(command: list[str], project: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.install
def test_install_with_npm_skills_cli_then_scaffold_project_and_pass_its_tests(
    tracked_files: dict[str, str], node_path: str, empty_database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if empty_database_url.startswith("sqlite") else "postgresql"
    source = tmp_path / "clone" / "database"
    copy_tracked_files(tracked_files, source)
    project = _new_fastapi_project(tmp_path / "shop")

    skill = _install(source, project, node_path)
    # every tracked file arrives, and the scripts keep their run bits
    copied = {p.relative_to(skill).as_posix() for p in skill.rglob("*") if p.is_file()}
    expected = {p for p in tracked_files if (source / p).is_file()} - INSTALLER_SKIPS
    assert expected - copied == set(), "files the installer left out"
    assert [p for p in expected if (skill / p).read_bytes() != (source / p).read_bytes()] == []
    scripts = [skill / p for p, mode in tracked_files.items() if mode == "100755"]
    assert scripts, "no tracked file has its run bit"
    assert [p for p in scripts if not os.access(p, os.X_OK)] == []

    _follow_steps(project, _scaffold(skill, project, backend))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONPATH"))}
    # a user project has pytest-asyncio, not this venv's other plugins (schemathesis, hypothesis)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if backend == "postgresql":
        env["TEST_POSTGRES_URL"] = empty_database_url
    _run(["alembic", "upgrade", "head"], project, {**env, "DATABASE_URL": empty_database_url})
    report = tmp_path / "report.xml"
    pytest_args = ["-p", "pytest_asyncio.plugin", "-p", "no:cacheprovider", "-m", backend]
    _run(["pytest", *pytest_args, f"--junitxml={report}"], project, env)
    outcomes = _outcomes(report)
    assert outcomes["failed"] == outcomes["skipped"] == []
    assert len(outcomes["passed"]) >= 5, outcomes
    assert all(f"[{backend}" in name for name in outcomes["passed"]), outcomes["passed"]
