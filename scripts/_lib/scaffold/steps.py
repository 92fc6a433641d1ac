"""The next steps scaffold.py prints: .gitignore, app edits, pytest, examples, migrations, tests."""

import fnmatch
import tomllib
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
    wanted = ["app.db", ".env"]
    missing = [name for name in wanted if name not in ignored_names(root, wanted)]
    if not missing:
        return None
    verb = "add these lines to" if (root / ".gitignore").is_file() else "create"
    return {
        "title": f"Keep the SQLite file and your settings out of git: {verb} .gitignore (app.db "
        "is the database the app creates when DATABASE_URL is not set; .env holds "
        "DATABASE_URL, password included):",
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


def pytest_step(layout: Layout) -> dict[str, str]:
    path = layout.import_root.relative_to(layout.root).as_posix()
    snippet = (
        "[tool.pytest.ini_options]\n"
        f'pythonpath = ["{path}"]\n'
        'testpaths = ["tests"]\n'
        'asyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "session"\n'
        'asyncio_default_test_loop_scope = "session"\n'
    )
    try:
        data = tomllib.loads((layout.root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    has_table = "ini_options" in data.get("tool", {}).get("pytest", {})
    verb = "Merge these keys into the [tool.pytest.ini_options] of" if has_table else "Add to"
    return {
        "title": f"{verb} pyproject.toml (the copied tests need pytest-asyncio's auto mode and "
        "one event loop per session, shared by the engine fixture and the tests):",
        "code": snippet,
    }


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


# createdb connects as the operating system's user, so the URL names that user too
TEST_DATABASE = (
    "createdb -h localhost app_test\n"
    'export TEST_POSTGRES_URL="postgresql+asyncpg://$USER@localhost:5432/app_test"\n'
)


def test_step(tool: Tool) -> dict[str, str]:
    return {
        "title": "Run the tests on both backends. Give PostgreSQL a database of the tests' own: "
        "the fixtures drop and create the model tables in it (without TEST_POSTGRES_URL they use "
        "the local server's `test` database; `-m sqlite` runs SQLite only):",
        "code": TEST_DATABASE + (f"{tool.run}pytest" if tool.run else "python -m pytest"),
    }


def conflict_step(conflicts: list[tuple[Path, Path, str]], root: Path) -> dict[str, str] | None:
    lines = []
    for path, proposed, state in conflicts:
        rel, new = path.relative_to(root).as_posix(), proposed.relative_to(root).as_posix()
        if state == "blocked":
            lines.append(f"{new} already exists with other content: move it away and rerun")
        else:
            lines.append(f"merge {new} into {rel} (yours was kept), then delete {new}")
    if not lines:
        return None
    return {"title": "Merge the files that already existed:", "code": "\n".join(lines)}


def render(steps: list[dict[str, str]]) -> str:
    out = []
    for number, step in enumerate(steps, 1):
        out.append(f"{number}. {step['title']}\n")
        if step["code"]:
            out.append("\n" + _indent(step["code"].rstrip("\n") + "\n") + "\n")
    return "".join(out)
