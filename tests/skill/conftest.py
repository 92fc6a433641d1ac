"""Fixtures for checking the skill as a package: its manifest, frontmatter and tracked files."""

import tomllib
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.skill.support import load_manifest, split_frontmatter, tracked_modes


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "install: installs the skill with the npm skills installer (needs npm)"
    )


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


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    return load_manifest()


@pytest.fixture(scope="session")
def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="session")
def tracked_files() -> dict[str, str]:
    """Every tracked path, with its git mode (100644 or 100755), as a fresh clone would have it."""
    return tracked_modes()
