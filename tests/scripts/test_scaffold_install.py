"""scaffold.py prints the dependency command of the project's own tool (uv, Poetry, pip with
requirements.txt, or pip in a new virtual environment), with the skill's version bounds, and
runs the later commands through that tool too."""

import json
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import scaffold
from _lib.project import DEV, EXAMPLES_RUNTIME, RUNTIME, satisfies
from tests.helpers import ROOT
from tests.scripts import scaffold_projects as projects

POETRY_PYPROJECT = '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n'


def skill_bounds() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = [*data["project"]["dependencies"], *data["dependency-groups"]["dev"]]
    return {Requirement(r).name: str(Requirement(r).specifier) for r in listed}


def next_steps(project: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    assert scaffold.main([str(project), "--dry-run", "--json"]) == 0
    steps: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["next_steps"]
    return steps


def installed(words: list[str]) -> list[Requirement]:
    """The requirements a shell command names, options and the command itself left out."""
    return [
        Requirement(word) for word in words if word[0].isalpha() and ("=" in word or "[" in word)
    ]


TOOLS = {
    "uv": ({"uv.lock": ""}, "uv add ", "uv add --dev ", "uv run "),
    "poetry-lock": ({"poetry.lock": ""}, "poetry add ", "poetry add --group dev ", "poetry run "),
    "poetry-pyproject": ({"pyproject.toml": POETRY_PYPROJECT}, "poetry add ", None, "poetry run "),
}


@pytest.mark.parametrize("tool", list(TOOLS))
def test_print_add_command_of_project_tool(
    tool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, add, add_dev, run = TOOLS[tool]
    project = projects.write(projects.app_layout(tmp_path), files)
    steps = next_steps(project, capsys)
    runtime, dev = steps[0]["code"].splitlines()
    assert runtime.startswith(add) and dev.startswith(add_dev or add)
    bounds = skill_bounds()
    for line, names in ((runtime, [*RUNTIME, *EXAMPLES_RUNTIME]), (dev, DEV)):
        requirements = installed(shlex.split(line))
        assert [r.name for r in requirements] == [Requirement(n).name for n in names]
        assert all(str(r.specifier) == bounds[r.name] for r in requirements), line
    assert "pydantic-settings" in runtime and "asyncpg" in runtime and "aiosqlite" in runtime
    codes = "\n".join(step["code"] for step in steps)
    assert f"\n{run}alembic upgrade head" in f"\n{codes}"
    assert f"\n{run}pytest" in f"\n{codes}"


def test_print_requirements_lines_and_pip_install_r(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bounds = skill_bounds()
    # fastapi pinned below the range, pytest in a form this command does not judge, alembic
    # pinned inside the range, httpx identical to the line printed
    listed = (
        "# web\nFastAPI==0.100.0\n-r base.txt\nalembic==99.0\npytest==8.*\n"
        f"httpx{bounds['httpx']}\n"
    )
    project = projects.write(projects.app_layout(tmp_path), {"requirements.txt": listed})
    steps = next_steps(project, capsys)
    lines, install = steps[0], steps[1]
    assert lines["title"].startswith("Add these lines to requirements.txt")
    # only the lines outside the range are to change, not to be added a second time
    assert lines["title"].endswith(
        "so change those lines rather than add them: "
        f"fastapi{bounds['fastapi']} (yours: FastAPI==0.100.0), "
        f"pytest{bounds['pytest']} (yours: pytest==8.*)."
    )
    requirements = [Requirement(line) for line in lines["code"].splitlines()]
    listed_names = [*RUNTIME, *EXAMPLES_RUNTIME, *DEV]
    expected = [
        Requirement(n).name
        for n in listed_names
        if n not in {"fastapi", "alembic", "pytest", "httpx"}
    ]
    assert [r.name for r in requirements] == expected
    assert all(str(r.specifier) == bounds[r.name] for r in requirements)
    assert install["code"] == "python -m pip install -r requirements.txt"
    assert "python3 -m venv .venv" in install["title"]
    codes = "\n".join(step["code"] for step in steps)
    assert "\nalembic upgrade head" in codes and "\npython -m pytest" in codes
    assert "uv " not in codes and (project / "requirements.txt").read_text() == listed


@pytest.mark.parametrize(
    ("line", "wanted", "fits"),
    [
        ("fastapi==0.122.0", "fastapi>=0.121.1", True),
        ("fastapi>=0.121.1", "fastapi>=0.121.1", True),
        ("FastAPI >= 0.121.1", "fastapi>=0.121.1", True),
        ("fastapi>=0.122,<1", "fastapi>=0.121.1", True),
        ("fastapi~=0.121.1", "fastapi>=0.121.1", True),
        ("fastapi==0.121.0", "fastapi>=0.121.1", False),
        ("fastapi>=0.100", "fastapi>=0.121.1", False),
        ("fastapi<1", "fastapi>=0.121.1", False),
        ("fastapi", "fastapi>=0.121.1", False),
        ("fastapi==0.122.*", "fastapi>=0.121.1", False),
        ("fastapi==0.122.0rc1", "fastapi>=0.121.1", False),
        ("sqlalchemy==2.1.4", "sqlalchemy[asyncio]>=2.1", False),
        ("SQLAlchemy[asyncio]==2.1.4", "sqlalchemy[asyncio]>=2.1", True),
        ("httpx==0.28.1", "httpx", True),
        ("httpx", "httpx", True),
    ],
)
def test_judge_listed_requirement_against_the_range(line: str, wanted: str, fits: bool) -> None:
    assert satisfies(line, wanted) is fits


def test_print_no_lines_to_add_when_requirements_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.write(projects.app_layout(tmp_path), {"requirements.txt": ""})
    steps = next_steps(project, capsys)
    # the printed lines, pinned at the lowest version each allows
    (project / "requirements.txt").write_text(steps[0]["code"].replace(">=", "=="))
    again = next_steps(project, capsys)
    assert again[0] == {
        "title": "requirements.txt lists every dependency already (at least the versions the "
        "layer was tested with).",
        "code": "",
    }
    assert again[1]["code"] == "python -m pip install -r requirements.txt"


def test_print_pip_in_a_virtual_environment_without_any_tool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.app_layout(tmp_path)
    steps = next_steps(project, capsys)
    venv, activate, runtime, dev = steps[0]["code"].splitlines()
    assert (venv, activate) == ("python3 -m venv .venv", ". .venv/bin/activate")
    assert runtime.startswith("python -m pip install ") and dev.startswith("python -m pip install ")
    assert len(installed(shlex.split(runtime))) == len(RUNTIME) + len(EXAMPLES_RUNTIME)
    assert "No uv.lock, poetry.lock or requirements.txt here" in steps[0]["title"]
    assert "uv " not in "\n".join(step["code"] for step in steps)


def test_print_test_database_commands_naming_one_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = next_steps(projects.app_layout(tmp_path), capsys)
    test_step = steps[-1]["code"].splitlines()
    # the role named in both, not the operating system's user ($USER: root, or unset, in a
    # container), which need not be a PostgreSQL role
    assert test_step[:2] == [
        "createdb -h localhost -U postgres app_test",
        'export TEST_POSTGRES_URL="postgresql+asyncpg://postgres@localhost:5432/app_test"',
    ]
    assert "`postgres` is the PostgreSQL role in both lines" in steps[-1]["title"]
    skill = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    assert "createdb -h localhost -U postgres app_test" in skill
    assert "postgresql+asyncpg://postgres@localhost:5432/app_test" in skill


def test_leave_out_the_examples_dependencies_without_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.write(projects.app_layout(tmp_path), {"uv.lock": ""})
    assert scaffold.main([str(project), "--dry-run", "--json", "--no-examples"]) == 0
    runtime = json.loads(capsys.readouterr().out)["next_steps"][0]["code"].splitlines()[0]
    names = [r.name for r in installed(shlex.split(runtime))]
    assert names == [Requirement(n).name for n in RUNTIME]
    assert "argon2-cffi" not in runtime


def test_match_the_command_skill_md_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = projects.write(projects.app_layout(tmp_path), {"uv.lock": ""})
    printed = next_steps(project, capsys)[0]["code"]
    assert printed in (ROOT / "SKILL.md").read_text(encoding="utf-8")
