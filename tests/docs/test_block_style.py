"""Runnable blocks are code a reader copies: they pass the same ruff rules as the assets."""

import subprocess
import sys
from pathlib import Path

from tests.markdown import all_blocks


def test_runnable_blocks_pass_ruff(tmp_path: Path) -> None:
    names = {}
    for number, block in enumerate(b for b in all_blocks() if b.kind == "runnable"):
        path = tmp_path / f"block_{number}.py"
        path.write_text(block.code, encoding="utf-8")
        names[path.name] = block.id
    assert names
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--isolated",
            "--target-version=py311",
            "--line-length=100",
            "--select=E,W,F,I,B,C4,UP",
            "--config=lint.isort.known-first-party=['app']",
            "--output-format=concise",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = result.stdout
    for name, block_id in names.items():
        report = report.replace(f"{tmp_path / name}:", f"{block_id} line ")
    assert result.returncode == 0, report
