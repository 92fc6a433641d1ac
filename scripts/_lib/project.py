"""The user's project as the commands see it: the tool that installs its packages and runs them.

uv.lock means uv, poetry.lock (or a [tool.poetry] table) means Poetry, requirements.txt means
pip with that file, and nothing means pip in a virtual environment. Version bounds come from
the skill's own pyproject.toml, the lowest versions the assets are tested with.
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from _lib import SKILL

# what the layer needs at run time, and for the copied tests
RUNTIME = ["sqlalchemy[asyncio]", "alembic", "fastapi", "pydantic-settings", "asyncpg", "aiosqlite"]
DEV = ["pytest", "pytest-asyncio", "httpx"]
# what the examples add: the users' password hashing (security.py)
EXAMPLES_RUNTIME = ["argon2-cffi"]
VENV = "python3 -m venv .venv && . .venv/bin/activate"


@dataclass(frozen=True)
class Tool:
    """How this project installs packages (`name`) and runs commands in its environment (`run`)."""

    name: str  # uv, poetry, requirements (pip with requirements.txt) or pip
    # what gave it away: uv.lock, poetry.lock, pyproject.toml, requirements.txt, or "" for nothing
    evidence: str
    # prefix for a command run in the project's environment, e.g. "uv run "
    run: str

    def python(self) -> str:
        return f"{self.run}python" if self.run else "python"


def detect(root: Path) -> Tool:
    if (root / "uv.lock").is_file():
        return Tool("uv", "uv.lock", "uv run ")
    if (root / "poetry.lock").is_file():
        return Tool("poetry", "poetry.lock", "poetry run ")
    try:
        pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pyproject = {}
    if "poetry" in pyproject.get("tool", {}):
        return Tool("poetry", "pyproject.toml", "poetry run ")
    if (root / "requirements.txt").is_file():
        return Tool("requirements", "requirements.txt", "")
    return Tool("pip", "", "")


def skill_requirements(pyproject: Path | None = None) -> dict[str, str]:
    """Lower-case package name (extras kept) -> requirement, from the skill's pyproject.toml."""
    try:
        data = tomllib.loads((pyproject or SKILL / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    listed = data.get("project", {}).get("dependencies", [])
    listed += data.get("dependency-groups", {}).get("dev", [])
    found = {}
    for requirement in listed:
        if isinstance(requirement, str):
            name = re.split(r"[<>=!~; ]", requirement, maxsplit=1)[0].lower()
            found[name] = requirement.replace(" ", "")
    return found


def requirement(name: str, known: dict[str, str]) -> str:
    """The bounded requirement for name, as in requirements.txt: sqlalchemy[asyncio]>=2.1."""
    return known.get(name, name)


def quoted(spec: str) -> str:
    """A requirement as a shell word: quoted when it holds brackets or comparisons."""
    return f'"{spec}"' if re.search(r"[\[<>=!~]", spec) else spec


def install_command(tool: Tool, packages: list[str], dev: bool = False) -> str:
    """One shell line that adds packages to this project, the way its tool does."""
    specs = " ".join(quoted(p) for p in packages)
    if tool.name == "uv":
        return f"uv add {'--dev ' if dev else ''}{specs}"
    if tool.name == "poetry":
        return f"poetry add {'--group dev ' if dev else ''}{specs}"
    return f"python -m pip install {specs}"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ @]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def listed_requirements(path: Path) -> dict[str, list[str]]:
    """The package names a requirements file lists (options, comments and blanks left out),
    each with its lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    listed: dict[str, list[str]] = {}
    for line in lines:
        if line.strip()[:1].isalnum():
            listed.setdefault(_name(line), []).append(line.split(" #", 1)[0].strip())
    return listed


_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)")
_CLAUSE = re.compile(r"(===|==|~=|>=|<=|!=|>|<)\s*(\d+(?:\.\d+)*)")


def _version(text: str) -> tuple[int, ...]:
    numbers = [int(part) for part in text.split(".")]
    return tuple(numbers + [0] * (4 - len(numbers)))


def _lower_bound(requirement: str) -> tuple[set[str], tuple[int, ...] | None] | None:
    """(extras, the lowest version allowed, None if unbounded below) of a simple requirement
    (name[extras] and ==, >=, ~=, >, <, <=, != clauses on release numbers); None for any
    other form (a URL, a wildcard, a pre-release), which this command does not judge."""
    found = _REQUIREMENT.fullmatch(requirement.split(";", 1)[0].strip())
    if found is None:
        return None
    extras = {e.strip().lower() for e in (found[2] or "").split(",") if e.strip()}
    lowest: tuple[int, ...] | None = None
    for clause in filter(None, (c.strip() for c in found[3].split(","))):
        parsed = _CLAUSE.fullmatch(clause)
        if parsed is None:
            return None
        if parsed[1] in {"===", "==", "~=", ">=", ">"}:
            version = _version(parsed[2])
            lowest = version if lowest is None else max(lowest, version)
    return extras, lowest


def satisfies(line: str, wanted: str) -> bool:
    """Whether a listed requirement allows only versions that wanted (name[extras]>=X, or a
    bare name) allows: identical lines do; a pin or lower bound at X or above does."""
    if re.sub(r"\s+", "", line).lower() == re.sub(r"\s+", "", wanted).lower():
        return True
    have, need = _lower_bound(line), _lower_bound(wanted)
    if have is None or need is None or not need[0] <= have[0]:
        return False
    if need[1] is None:
        return True
    return have[1] is not None and have[1] >= need[1]


def install_steps(
    tool: Tool, root: Path, examples: bool = True, known: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The next steps that install the layer's dependencies (and the examples'), with shell code."""
    known = skill_requirements() if known is None else known
    names = [*RUNTIME, *(EXAMPLES_RUNTIME if examples else [])]
    runtime = [requirement(name, known) for name in names]
    dev = [requirement(name, known) for name in DEV]
    why = (
        "Both drivers are run-time dependencies: the app connects to SQLite when DATABASE_URL "
        "is not set, production is usually PostgreSQL, and the copied tests run on both"
    )
    if tool.name in {"uv", "poetry"}:
        return [
            {
                "title": f"Add the dependencies with {tool.name} ({tool.evidence} found), at least "
                f"the versions the layer was tested with. {why}:",
                "code": f"{install_command(tool, runtime)}\n{install_command(tool, dev, dev=True)}",
            }
        ]
    if tool.name == "requirements":
        listed = listed_requirements(root / "requirements.txt")
        wanted = [*runtime, *dev]
        present = [spec for spec in wanted if _name(spec) in listed]
        to_change = [
            f"{spec} (yours: {'; '.join(listed[_name(spec)])})"
            for spec in present
            if not any(satisfies(line, spec) for line in listed[_name(spec)])
        ]
        update = (
            " Already listed at other versions (or in a form this command does not check), so "
            f"change those lines rather than add them: {', '.join(to_change)}."
            if to_change
            else ""
        )
        missing = [spec for spec in wanted if spec not in present]
        if missing:
            add = {
                "title": "Add these lines to requirements.txt (the test tools too, or to the "
                f"file you keep them in), at least the versions the layer was tested with. {why}."
                f"{update}",
                "code": "\n".join(missing),
            }
        else:
            add = {
                "title": "requirements.txt lists every dependency already (at least the "
                f"versions the layer was tested with).{update}",
                "code": "",
            }
        return [
            add,
            {
                "title": "Install them into the project's virtual environment (activate it "
                f"first; none yet? {VENV}):",
                "code": "python -m pip install -r requirements.txt",
            },
        ]
    return [
        {
            "title": "No uv.lock, poetry.lock or requirements.txt here: install the dependencies "
            "into a virtual environment (and list them wherever your project records them), at "
            f"least the versions the layer was tested with. {why}:",
            "code": f"python3 -m venv .venv\n. .venv/bin/activate\n"
            f"{install_command(tool, runtime)}\n{install_command(tool, dev)}",
        }
    ]
