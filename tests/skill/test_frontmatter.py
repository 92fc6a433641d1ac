"""SKILL.md passes the reference validator and Claude's frontmatter rules; scripts stay runnable."""

import re
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.skill.support import candidate_files, split_frontmatter

ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}


def claude_problems(lines: list[str], data: dict[str, Any]) -> list[str]:
    """The frontmatter rules Claude applies when it loads a skill, one message per broken rule."""
    problems = []
    if extra := set(data) - ALLOWED_KEYS:
        problems.append(f"keys not allowed: {sorted(extra)}")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9-]{1,64}", name):
        problems.append(f"name must be 1-64 characters of a-z, 0-9 and -, got {name!r}")
    elif "anthropic" in name or "claude" in name:
        problems.append("name must not contain the reserved words anthropic or claude")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        return [*problems, "description must be a non-empty string"]
    if len(description) > 1024:
        problems.append(f"description is {len(description)} characters, over 1024")
    for bad in ("<", ">", ": ", "---", "\n"):
        if bad in description:
            problems.append(f"description contains {bad!r}")
    # plain: one line, unquoted, so a line-based reader sees the same text YAML does
    if f"description: {description}" not in lines:
        problems.append("description must be one plain line: 'description: <text>', unquoted")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        problems.append("metadata must map strings to strings (quote numbers)")
    return problems


def _agentskills_validate(skill_md: str, parent: Path) -> subprocess.CompletedProcess[str]:
    # the validator wants the folder named like the skill, as installers create it
    folder = parent / "database"
    folder.mkdir()
    (folder / "SKILL.md").write_text(skill_md, encoding="utf-8")
    return subprocess.run(
        [str(Path(sysconfig.get_path("scripts")) / "agentskills"), "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_frontmatter_with_agentskills(skill_md: str, tmp_path: Path) -> None:
    result = _agentskills_validate(skill_md, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_reject_top_level_version_with_agentskills(skill_md: str, tmp_path: Path) -> None:
    # the seed skill's mistake: proves the validator runs and reads our frontmatter
    broken = skill_md.replace("---\n", "---\nversion: 0.1.0\n", 1)
    result = _agentskills_validate(broken, tmp_path)
    assert result.returncode == 1
    assert "version" in result.stdout + result.stderr


def test_follow_claude_frontmatter_rules(frontmatter_lines: list[str], frontmatter: Any) -> None:
    assert claude_problems(frontmatter_lines, frontmatter) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("name: database\ndescription: x\nversion: '1'", "keys not allowed", id="key"),
        pytest.param("name: Database\ndescription: x", "name must be", id="uppercase-name"),
        pytest.param(f"name: {'d' * 65}\ndescription: x", "name must be", id="long-name"),
        pytest.param("name: claude-db\ndescription: x", "reserved", id="reserved-name"),
        pytest.param(f"name: db\ndescription: {'x' * 1025}", "over 1024", id="long-description"),
        pytest.param("name: db\ndescription: use <db> here", "'<'", id="angle-bracket"),
        pytest.param("name: db\ndescription: 'a: b'", "': '", id="colon-space"),
        pytest.param("name: db\ndescription: a --- b", "'---'", id="dashes"),
        pytest.param("name: db\ndescription: >-\n  folded\n  text", "one plain line", id="folded"),
        pytest.param('name: db\ndescription: "quoted"', "one plain line", id="quoted"),
        pytest.param("name: db\ndescription: x\nmetadata:\n  version: 1.0", "strings", id="number"),
    ],
)
def test_flag_broken_frontmatter_with_claude_rules(text: str, problem: str) -> None:
    lines, data = split_frontmatter(f"---\n{text}\n---\n# body\n")
    assert any(problem in p for p in claude_problems(lines, data)), claude_problems(lines, data)


def test_keep_skill_md_only_at_top_level() -> None:
    # agents that scan folders for SKILL.md would load a nested one as a second skill
    named = sorted(p for p in candidate_files() if Path(p).name.lower() == "skill.md")
    assert named == ["SKILL.md"]


def test_name_no_file_metadata_json() -> None:
    # the skills installer drops every file with this name
    assert sorted(p for p in candidate_files() if Path(p).name == "metadata.json") == []


def _script_paths() -> list[str]:
    # the commands: the .py files at the top of scripts/, not their private package _lib/
    return sorted(p for p in candidate_files() if re.fullmatch(r"scripts/[^/_][^/]*\.py", p))


def test_track_scripts_as_executable(tracked_files: dict[str, str]) -> None:
    scripts = _script_paths()
    assert scripts, "scripts/ holds no scripts"
    modes = {path: tracked_files.get(path, "untracked") for path in scripts}
    assert modes == dict.fromkeys(scripts, "100755"), "run: git add --chmod=+x scripts/NAME.py"


def test_start_scripts_with_env_python3() -> None:
    firsts = {p: (ROOT / p).read_text(encoding="utf-8").split("\n", 1)[0] for p in _script_paths()}
    assert firsts == dict.fromkeys(firsts, "#!/usr/bin/env python3")
