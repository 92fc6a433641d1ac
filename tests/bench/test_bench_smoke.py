"""The benchmark suite still runs: every case once, tiny, on both backends; times never asserted."""

import asyncio
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from bench.__main__ import CASES, main
from bench.db import SERVER_URL, _dsn

ROOT = Path(__file__).resolve().parents[2]
# cases measured against the raw asyncpg driver only
POSTGRESQL_ONLY = {"http", "anatomy"}
CASE_TITLES = {
    "point-read": "point read",
    "bulk-insert": "bulk insert",
    "loading": "loading",
    "pagination": "pagination",
    "isolation": "test isolation",
    "http": "HTTP",
    "anatomy": "request anatomy",
}


def _require_postgresql() -> None:
    async def ping() -> None:
        conn = await asyncpg.connect(_dsn(SERVER_URL), timeout=5)
        await conn.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"postgresql: cannot reach the bench server: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
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
    expected = {
        t for c, t in CASE_TITLES.items() if backend == "postgresql" or c not in POSTGRESQL_ONLY
    }
    assert {r["case"] for r in rows} == expected
    assert set(CASE_TITLES) == set(CASES)
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


def test_show_help_from_another_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "--smoke" in done.stdout
