"""The next steps scaffold.py prints: .gitignore, app edits, pytest, examples, migrations, tests."""

import configparser
import fnmatch
import tomllib
from collections.abc import Collection
from pathlib import Path

from _lib.project import Tool
from _lib.scaffold.layout import Layout
from _lib.scaffold.rewrite import AppChanges


def _indent(code: str) -> str:
    return "".join(f"    {line}" if line.strip() else line for line in code.splitlines(True))


def ignored_names(root: Path, names: list[str]) -> set[str]:
    """Which of names (files at the project's top) the project's own .gitignore ignores."""
    try:
        lines = (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    ignored: set[str] = set()
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#") or line.endswith("/"):
            continue
        pattern = line.removeprefix("!").removeprefix("/").removeprefix("**/")
        for name in names:
            if fnmatch.fnmatchcase(name, pattern):
                if line.startswith("!"):
                    ignored.discard(name)
                else:
                    ignored.add(name)
    return ignored


def gitignore_step(root: Path) -> dict[str, str] | None:
    """The lines .gitignore lacks; printed only: the user's .gitignore is never edited."""
    wanted = ["app.db", "app.db-wal", "app.db-shm", ".env"]
    missing = [name for name in wanted if name not in ignored_names(root, wanted)]
    if not missing:
        return None
    verb = "add these lines to" if (root / ".gitignore").is_file() else "create"
    return {
        "title": f"Keep the SQLite files and your settings out of git: {verb} .gitignore (app.db "
        "is the database the app creates when DATABASE_URL is not set, app.db-wal and "
        "app.db-shm the files SQLite keeps beside it in WAL mode; .env holds DATABASE_URL, "
        "password included):",
        "code": "\n".join(missing),
    }


def examples_step(layout: Layout) -> dict[str, str]:
    """Which copied example files the user may delete, and what the layer itself needs."""
    p = layout.package_dir.relative_to(layout.root).as_posix()
    return {
        "title": f"The examples are optional. The layer itself is {p}/db/, {p}/errors.py, "
        f"{p}/api/deps.py, {p}/api/routes/health.py, migrations/env.py and tests/conftest.py. "
        "Delete the examples you will not keep, and their names in the app lines above: "
        f"User and Post in {p}/models.py, {p}/schemas.py, {p}/repository.py, {p}/security.py "
        f"(password hashing for users), {p}/api/routes/users.py and posts.py, "
        "tests/test_users.py and tests/test_posts.py. Cursor pages serve only the posts feed "
        f"(GET /posts): CursorQuery in {p}/api/deps.py and encode_cursor/decode_cursor in "
        f"{p}/pagination.py; keep {p}/pagination.py itself, as api/deps.py imports it and its "
        "count_rows gives the users lists their totals.",
        "code": "",
    }


def example_revision_step(revision: str, tool: Tool) -> dict[str, str]:
    """Before the first upgrade: the example revision matches the example models only."""
    return {
        "title": f"The example revision migrations/versions/{revision} creates the tables of "
        "the example models as copied (users, posts). If you change or drop example models "
        "(say keep users, drop posts), edit the models first, delete that revision, and "
        "generate your own before the first upgrade (review it; then the next step applies it):",
        "code": f"rm migrations/versions/{revision}\n"
        f'{tool.run}alembic revision --autogenerate -m "create tables"',
    }


def app_steps(layout: Layout, changes: AppChanges) -> list[dict[str, str]]:
    app = layout.app
    where = app.path.relative_to(layout.root).as_posix()
    steps = []
    if changes.done:
        steps.append(
            {
                "title": f"Already in {where}, nothing to do for these:",
                "code": changes.done,
            }
        )
    if changes.imports:
        steps.append({"title": f"Add these imports to {where}:", "code": changes.imports})
    factory = app.factory
    if changes.lifespan:
        above = (
            f"`def {factory.name}(`"
            if factory
            else f"`{app.variable} = FastAPI(` (line {app.line})"
        )
        steps.append(
            {
                "title": f"Define this lifespan above {above} in {where}, so shutdown disposes "
                "the engine:",
                "code": changes.lifespan,
            }
        )
        steps.append(
            {
                "title": f"Pass it to the app: add `{changes.app_argument}` to the FastAPI(...) "
                f"call on line {app.line}.",
                "code": "",
            }
        )
    if changes.lifespan_merge:
        steps.append(
            {
                "title": f"Your app already has a lifespan ({app.lifespan}); add these lines "
                "after its `yield`, so shutdown disposes the engine:",
                "code": changes.lifespan_merge,
            }
        )
    if changes.after_app:
        place = (
            f"inside {factory.name}(), before `return {factory.variable}` (line "
            f"{factory.return_line})"
            if factory
            else "after the app is created"
        )
        steps.append(
            {
                "title": f"Add these lines {place} in {where} (the routers, and the error "
                "handlers: database errors a client can retry answered as 503, and a 422 that "
                "renders any input, NaN included):",
                "code": changes.after_app,
            }
        )
    return steps


def _pytest_settings(layout: Layout) -> dict[str, str | list[str]]:
    return {
        "pythonpath": [layout.import_root.relative_to(layout.root).as_posix()],
        "testpaths": ["tests"],
        "asyncio_mode": "auto",
        "asyncio_default_fixture_loop_scope": "session",
        "asyncio_default_test_loop_scope": "session",
    }


def _toml_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(f'"{item}"' for item in value) + "]"
    return f'"{value}"'


def _has_setting(present: dict[str, object], key: str, value: str | list[str]) -> bool:
    """Whether present (the project's pytest settings) already sets key as the tests need."""
    have = present.get(key)
    if isinstance(value, list):
        items = have.split() if isinstance(have, str) else have
        return isinstance(items, list) and all(item in items for item in value)
    return have == value


def _ini_settings(path: Path) -> dict[str, object] | None:
    """The [pytest] section of a pytest.ini, or None when there is no such file."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        parser.read_string(text)
    except configparser.Error:
        return {}
    return dict(parser["pytest"]) if parser.has_section("pytest") else {}


def pytest_step(layout: Layout) -> dict[str, str]:
    """The pytest settings the copied tests need, where pytest reads them, less those set."""
    wanted = _pytest_settings(layout)
    why = (
        "(the copied tests need pytest-asyncio's auto mode and one event loop per session, "
        "shared by the engine fixture and the tests)"
    )
    # pytest reads pytest.ini before pyproject.toml: settings there win
    ini = _ini_settings(layout.root / "pytest.ini")
    if ini is not None:
        missing = {k: v for k, v in wanted.items() if not _has_setting(ini, k, v)}
        if not missing:
            return {"title": f"pytest.ini already has the pytest settings {why}.", "code": ""}
        lines = [f"{k} = {' '.join(v) if isinstance(v, list) else v}" for k, v in missing.items()]
        return {
            "title": f"Set these keys in the [pytest] section of pytest.ini {why}:",
            "code": "[pytest]\n" + "\n".join(lines) + "\n",
        }
    pyproject = layout.root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    table = data.get("tool", {}).get("pytest", {}).get("ini_options")
    present = table if isinstance(table, dict) else {}
    missing = {k: v for k, v in wanted.items() if not _has_setting(present, k, v)}
    if not missing:
        return {"title": f"pyproject.toml already has the pytest settings {why}.", "code": ""}
    snippet = "[tool.pytest.ini_options]\n" + "".join(
        f"{k} = {_toml_value(v)}\n" for k, v in missing.items()
    )
    if not pyproject.is_file():
        verb = (
            "Create pyproject.toml with these lines; this table alone is a complete file, and "
            "pytest reads its settings from it"
        )
    elif table is not None:
        verb = "Set these keys in the [tool.pytest.ini_options] table of pyproject.toml"
    else:
        verb = "Add these lines to pyproject.toml"
    return {"title": f"{verb} {why}:", "code": snippet}


def migration_step(revision_copied: bool, tool: Tool) -> dict[str, str]:
    if revision_copied:
        return {
            "title": "Create the tables with the example revision, or the one you generated "
            "instead (DATABASE_URL picks the database; see .env.example):",
            "code": f"{tool.run}alembic upgrade head",
        }
    return {
        "title": "Once your models are in models.py (with --no-examples it starts empty, and a "
        "revision made now would create nothing), generate the first revision, review it, and "
        "apply it:",
        "code": f'{tool.run}alembic revision --autogenerate -m "create tables"\n'
        f"{tool.run}alembic upgrade head",
    }


# the role named in both lines: without -U, createdb connects as the operating system's user,
# which need not be a PostgreSQL role (root in a container is not one)
TEST_DATABASE = (
    "createdb -h localhost -U postgres app_test\n"
    'export TEST_POSTGRES_URL="postgresql+asyncpg://postgres@localhost:5432/app_test"\n'
)


def test_step(tool: Tool) -> dict[str, str]:
    return {
        "title": "Run the tests on both backends. Give PostgreSQL a database of the tests' own: "
        "the fixtures drop and create the model tables in it (without TEST_POSTGRES_URL they use "
        "the local server's `test` database; `-m sqlite` runs SQLite only). `postgres` is the "
        "PostgreSQL role in both lines: use yours in both if it differs (with a password: "
        "postgres:PASSWORD@ in the URL):",
        "code": TEST_DATABASE + (f"{tool.run}pytest" if tool.run else "python -m pytest"),
    }


def conflict_step(
    conflicts: list[tuple[Path, Path, str]], root: Path, edited: Collection[Path] = ()
) -> dict[str, str] | None:
    lines = []
    for path, proposed, state in conflicts:
        rel, new = path.relative_to(root).as_posix(), proposed.relative_to(root).as_posix()
        if state == "blocked":
            lines.append(f"{new} already exists with other content: move it away and rerun")
        elif path in edited:
            lines.append(
                f"{rel}: yours is kept as you edited it, nothing to do; {new} is the skill's "
                f"version, to compare only if you want it; delete {new}"
            )
        else:
            lines.append(f"merge {new} into {rel} (yours was kept), then delete {new}")
    if not lines:
        return None
    title = (
        "Your edits to files an earlier run wrote are kept:"
        if all(path in edited and state != "blocked" for path, _, state in conflicts)
        else "Merge the files that already existed:"
    )
    return {"title": title, "code": "\n".join(lines)}


def render(steps: list[dict[str, str]]) -> str:
    out = []
    for number, step in enumerate(steps, 1):
        out.append(f"{number}. {step['title']}\n")
        if step["code"]:
            out.append("\n" + _indent(step["code"].rstrip("\n") + "\n") + "\n")
    return "".join(out)
