"""Fixtures for checking the skill as a package: its manifest, frontmatter and tracked files."""

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "install: installs the skill with the npm skills installer (needs npm)"
    )


def split_frontmatter(text: str) -> tuple[list[str], dict[str, Any]]:
    """SKILL.md's frontmatter: the lines between the two --- fences, and what YAML makes of them."""
    lines = text.splitlines()
    if not lines or lines[0] != "---":
        raise ValueError("SKILL.md must start with a line '---' that opens the frontmatter")
    try:
        end = lines.index("---", 1)
    except ValueError:
        raise ValueError("SKILL.md's frontmatter has no closing '---' line") from None
    data = yaml.safe_load("\n".join(lines[1:end]))
    if not isinstance(data, dict):
        raise ValueError("SKILL.md's frontmatter is not a mapping")
    return lines[1:end], data


@pytest.fixture(scope="session")
def skill_md() -> str:
    path = ROOT / "SKILL.md"
    assert path.is_file(), "SKILL.md is missing at the top of the repository"
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def frontmatter(skill_md: str) -> dict[str, Any]:
    return split_frontmatter(skill_md)[1]


@pytest.fixture(scope="session")
def frontmatter_lines(skill_md: str) -> list[str]:
    return split_frontmatter(skill_md)[0]


def load_manifest() -> dict[str, Any]:
    with (ROOT / "skill.yaml").open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict), "skill.yaml must be a mapping"
    return data


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    return load_manifest()


@pytest.fixture(scope="session")
def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def candidate_files(folder: str = ".") -> set[str]:
    """Files tracked or about to be (untracked but not ignored): what the next commit can ship."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return {path for path in out.split("\0") if path and (ROOT / path).is_file()}


@pytest.fixture(scope="session")
def tracked_files() -> dict[str, str]:
    """Every tracked path, with its git mode (100644 or 100755), as a fresh clone would have it."""
    out = subprocess.run(
        ["git", "ls-files", "--stage", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    modes = {}
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        modes[path] = meta.split()[0]
    return modes
