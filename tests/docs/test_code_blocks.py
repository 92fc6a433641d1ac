"""Every code block in SKILL.md and references/ is an exact excerpt or runs on both backends.

A runnable block (plain ```python) runs as its own program: `python -W error` in a subprocess
whose working directory is a temporary folder, with assets/ on PYTHONPATH (so `import app`
works) and DATABASE_URL naming a fresh database of the backend in the test id, whose app tables
exist and are empty. If the block defines `async def main()`, it is awaited with asyncio.run,
and the app's engine (app.db.engine) is disposed afterwards. It passes when it exits 0, so a
block proves what it shows with `assert`.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.markdown import Block, all_blocks, doc_files

BLOCKS = all_blocks()
EXCERPTS = [b for b in BLOCKS if "excerpt" in b.attrs]
RUNNABLE = [b for b in BLOCKS if b.kind == "runnable"]

RUNNER = textwrap.dedent(
    """
    import asyncio
    import inspect
    import runpy
    import sys

    namespace = runpy.run_path(sys.argv[1], run_name="docs_block")
    main = namespace.get("main")

    async def run() -> None:
        try:
            await main()
        finally:
            session_module = sys.modules.get("app.db.session")
            if session_module is not None:
                await session_module.engine.dispose()

    if inspect.iscoroutinefunction(main):
        asyncio.run(run())
    """
)


def _normalise(lines: list[str]) -> list[str]:
    """Indentation-insensitive form of a slice: common indentation removed, ends stripped."""
    return textwrap.dedent("\n".join(line.rstrip() for line in lines)).splitlines()


def find_excerpt(code: str, source: str) -> bool:
    """True when code's lines appear contiguously in source, up to a common indentation."""
    wanted = _normalise(code.rstrip("\n").splitlines())
    lines = source.splitlines()
    if not wanted:
        return False
    for start in range(len(lines) - len(wanted) + 1):
        if lines[start].strip() != wanted[0].strip():
            continue
        if _normalise(lines[start : start + len(wanted)]) == wanted:
            return True
    return False


def test_collect_blocks_from_skill_and_references() -> None:
    assert (ROOT / "SKILL.md").is_file()
    assert len(doc_files()) >= 2, "no references/*.md found"
    assert RUNNABLE, "no runnable Python block: the promise would be untested"
    assert [b for b in EXCERPTS if b.language == "python"], "no Python excerpt found"


def test_classify_every_block() -> None:
    kinds = {b.id: b.kind for b in BLOCKS}
    assert len(kinds) == len(BLOCKS)
    invalid = [f"{b.id}: ```{b.language} {b.attrs}" for b in BLOCKS if b.kind == "invalid"]
    assert not invalid, (
        'blocks must be ```python excerpt="assets/...", plain ```python (run by the tests), or '
        "another language: " + "; ".join(invalid)
    )
    counted = sum(1 for k in kinds.values() if k in {"excerpt", "runnable", "other"})
    assert counted == len(BLOCKS)


@pytest.mark.parametrize("block", EXCERPTS, ids=[b.id for b in EXCERPTS])
def test_excerpt_matches_file(block: Block) -> None:
    source = (ROOT / block.attrs["excerpt"]).resolve()
    assert source.is_relative_to(ROOT), f"{block.id}: excerpt points outside the repository"
    assert source.is_file(), f"{block.id}: {block.attrs['excerpt']} does not exist"
    assert find_excerpt(block.code, source.read_text(encoding="utf-8")), (
        f"{block.id}: not a verbatim, contiguous slice of {block.attrs['excerpt']}"
    )


def test_find_excerpt_refuses_edited_or_reordered_lines() -> None:
    source = "class A:\n    def f(self):\n        x = 1\n\n        return x\n"
    assert find_excerpt("def f(self):\n    x = 1\n", source)
    assert find_excerpt("x = 1\n\nreturn x\n", source)
    assert not find_excerpt("x = 2\n", source)
    assert not find_excerpt("x = 1\nreturn x\n", source)
    assert not find_excerpt("def f(self):\nx = 1\n", source)


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_run_python_block(block: Block, block_database_url: str, tmp_path: Path) -> None:
    program = tmp_path / "block.py"
    program.write_text(block.code, encoding="utf-8")
    runner = tmp_path / "run_block.py"
    runner.write_text(RUNNER, encoding="utf-8")
    env = {
        **os.environ,
        "DATABASE_URL": block_database_url,
        "PYTHONPATH": str(ROOT / "assets"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", str(runner), str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{block.id} failed:\n{result.stdout}\n{result.stderr}"
