"""Version bounds: SKILL.md's install commands say what pyproject.toml says, and every run-time
bound in pyproject.toml states, on the line above it, the behaviour that makes it the floor.
`.ci/run` installs these bounds as the lowest versions and runs the fast tests on them."""

import re
import shlex
import tomllib

from packaging.requirements import Requirement

from tests.helpers import ROOT

PYPROJECT = ROOT / "pyproject.toml"


def pyproject_bounds() -> dict[str, Requirement]:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    listed = data["project"]["dependencies"] + data["dependency-groups"]["dev"]
    return {Requirement(r).name: Requirement(r) for r in listed}


def skill_md_install_lines() -> list[str]:
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    return re.findall(r"^uv add .*$", text, flags=re.MULTILINE)


def test_skill_md_install_commands_match_pyproject_bounds() -> None:
    bounds = pyproject_bounds()
    lines = skill_md_install_lines()
    assert len(lines) == 2, lines
    for line in lines:
        for word in shlex.split(line)[2:]:
            if word.startswith("--"):
                continue
            requirement = Requirement(word)
            assert requirement.name in bounds, f"{word}: not in pyproject.toml"
            expected = bounds[requirement.name]
            assert (requirement.specifier, requirement.extras) == (
                expected.specifier,
                expected.extras,
            ), f"SKILL.md says {word}, pyproject.toml {expected}"


def test_every_runtime_bound_has_its_reason_above_it() -> None:
    text = PYPROJECT.read_text(encoding="utf-8")
    start = text.index("dependencies = [")
    lines = text[start : text.index("]\n", start)].splitlines()[1:]
    unexplained = [
        line.strip()
        for number, line in enumerate(lines)
        if line.strip().startswith('"') and not lines[number - 1].strip().startswith("#")
    ]
    assert unexplained == [], "say on the line above why each bound is the floor"
