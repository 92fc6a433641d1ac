"""The fixtures an agent copies (assets/tests/conftest.py) run each database test on both
backends: an unreachable PostgreSQL skips its half with the reason, or fails it under CI=true."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

ONE_DATABASE_TEST = """
from sqlalchemy import text


async def test_select_one(engine):
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
"""

PYTEST_INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


def run_with_unreachable_postgresql(
    tmp_path: Path, ci: str | None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_one.py").write_text(ONE_DATABASE_TEST, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "assets"), str(ROOT)]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        # port 9 on the loopback: nothing listens, the connection is refused at once
        "TEST_POSTGRES_URL": "postgresql+asyncpg://app@127.0.0.1:9/app_test",
    }
    if ci is not None:
        env["CI"] = ci
    command = [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "pytest_asyncio.plugin"]
    command += ["-p", "assets.tests.conftest", "-p", "no:cacheprovider"]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("ci", [None, "true"])
def test_unreachable_postgresql_skips_or_fails_under_ci(tmp_path: Path, ci: str | None) -> None:
    result = run_with_unreachable_postgresql(tmp_path, ci)
    output = result.stdout + result.stderr
    assert "postgresql: cannot reach postgresql+asyncpg://app@127.0.0.1:9/app_test" in output
    if ci == "true":
        # the run cannot pass on SQLite alone
        assert result.returncode == 1, output
        assert "1 passed, 1 error" in output, output
    else:
        assert result.returncode == 0, output
        assert "1 passed, 1 skipped" in output, output
