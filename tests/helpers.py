"""Helpers the repository's tests share: where things are, copies of them, running a command.

Servers of their own, and a free port for them, are in tests/servers.py."""

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
SCRIPTS = ROOT / "scripts"


def copy_asset_project(root: Path) -> Path:
    """A copy of the asset project (app/, alembic.ini, migrations/) that a test may change."""
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ASSETS / "app", root / "app", ignore=ignore)
    shutil.copytree(ASSETS / "migrations", root / "migrations", ignore=ignore)
    shutil.copy(ASSETS / "alembic.ini", root / "alembic.ini")
    return root


def copy_tracked_files(tracked: dict[str, str], dest: Path) -> None:
    """The files a clone would have (git path -> mode), with the run bits git records."""
    for rel, mode in tracked.items():
        source = ROOT / rel
        if not source.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o755 if mode == "100755" else 0o644)


def run_script(
    script: Path | str,
    *args: str,
    cwd: Path,
    python: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a script (scripts/NAME.py by name, or a path) in a fresh interpreter, as a user does."""
    path = SCRIPTS / f"{script}.py" if isinstance(script, str) else script
    return subprocess.run(
        [*(python or [sys.executable]), str(path), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_with_closed_stdout(
    args: list[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with its stdout already closed, as `command | head` does once head left."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            args, cwd=cwd, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=60
        )
    finally:
        os.close(writer)


def load_script(name: str) -> ModuleType:
    """scripts/NAME.py imported as a module: scripts/ is on pytest's pythonpath, as a script's
    own folder is on its sys.path when it runs."""
    return importlib.import_module(name)


async def count_users(engine: AsyncEngine) -> int:
    """The rows of the users table, read in a session of its own."""
    # imported here: the script tests import their own projects' `app`, so this module must not
    from app.models import User

    async with AsyncSession(engine) as session:
        return (await session.scalar(select(func.count()).select_from(User))) or 0
