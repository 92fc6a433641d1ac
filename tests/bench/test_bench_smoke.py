"""The benchmark suite still runs: every case once, tiny, on both backends; times never asserted."""

import asyncio
import json
import math
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import pytest

import bench.cases
from bench.cases import CASES
from bench.cli import main
from bench.db import SERVER_URL
from tests.databases import BACKENDS, dsn
from tests.helpers import ROOT


def _require_postgresql() -> None:
    async def ping() -> None:
        conn = await asyncpg.connect(dsn(SERVER_URL), timeout=5)
        await conn.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"postgresql: cannot reach the bench server: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_every_case_in_smoke_mode(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if backend == "postgresql":
        _require_postgresql()
    output = tmp_path / "RESULTS.md"
    code = main(["--backend", backend, "--smoke", "--json", "--output", str(output)])
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == []
    assert code == 0
    rows = report["rows"]
    assert {r["case"] for r in rows} == {c.title for c in CASES.values() if backend in c.backends}
    for row in rows:
        assert row["backend"] == backend
        assert row["repetitions"] >= 1
        assert math.isfinite(row["median"]) and row["median"] > 0
        assert math.isfinite(row["ratio"]) and row["ratio"] > 0
        if row["variant"] == row["baseline"]:
            assert row["ratio"] == 1.0
    loads = {r["variant"]: r["extra"]["statements"] for r in rows if r["case"] == "loading"}
    assert loads == {"selectinload": 2, "joinedload": 1, "lazy loading in a loop": 101}
    text = output.read_text()
    assert "## Targets" in text and f"| {backend} |" in text
    # the prose states this run's own load average, not an earlier run's
    assert f"was {report['environment']['load average at start']} at the start" in text


def test_register_every_module_in_cases_folder() -> None:
    modules = {m.name for m in pkgutil.iter_modules(bench.cases.__path__)}
    registered = {c.run.__module__.rsplit(".", 1)[1] for c in CASES.values()}
    assert modules == registered, f"add these to bench/cases/__init__.py: {modules - registered}"


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_import_bench_leaves_sys_path_alone() -> None:
    code = "import sys; before = list(sys.path); import bench; assert sys.path == before"
    done = _python("-c", code, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_show_help_from_another_directory(tmp_path: Path) -> None:
    done = _python("-m", "bench", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "--smoke" in done.stdout
