"""Helpers for checking the skill as a package: frontmatter, skill.yaml, the files it ships."""

import subprocess
from typing import Any

import yaml  # type: ignore[import-untyped]

from tests.helpers import ROOT


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


def load_manifest() -> dict[str, Any]:
    with (ROOT / "skill.yaml").open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict), "skill.yaml must be a mapping"
    return data


def _git_files(*args: str) -> list[str]:
    """The NUL-separated entries `git ls-files -z args` prints for the repository."""
    out = subprocess.run(
        ["git", "ls-files", "-z", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return [entry for entry in out.split("\0") if entry]


def candidate_files(folder: str = ".") -> set[str]:
    """Files tracked or about to be (untracked but not ignored): what the next commit can ship."""
    found = _git_files("--cached", "--others", "--exclude-standard", "--", folder)
    return {path for path in found if (ROOT / path).is_file()}


def tracked_modes() -> dict[str, str]:
    """Every tracked path, with its git mode (100644 or 100755), as a fresh clone would have it."""
    modes = {}
    for entry in _git_files("--stage"):
        meta, path = entry.split("\t", 1)
        modes[path] = meta.split()[0]
    return modes
