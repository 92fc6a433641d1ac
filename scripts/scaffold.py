#!/usr/bin/env python3
"""Add the skill's async database layer (SQLAlchemy 2 + Alembic) to an existing FastAPI project.

Finds the project's package (app/, or the package pyproject.toml names, else the one package at
the top or in src/ whose module creates FastAPI(...); --package when several do) and the
module that creates FastAPI(...), then copies the skill's assets into it with the imports
rewritten to that package: db/ (settings, engine, sessions, declarative base), the example
models, schemas, repository and routes, alembic.ini + migrations/, the test fixtures and example
tests (tests/), and .env.example listing every setting the app reads. Needs only the Python
standard library.

It never changes a file you have: a file that exists with other content is kept byte for byte and
the proposed content is written beside it as NAME.scaffold-new, to merge. Your app module is not
edited either: the lines to add (routers, a lifespan that disposes the engine, the 503 handlers)
are printed, with the dependency command for the project's tool (uv.lock: uv add; poetry.lock:
poetry add; requirements.txt: the lines it lacks and pip install -r; none: pip in a virtual
environment), the .gitignore lines (app.db and its WAL files, .env) your .gitignore lacks, and
the pytest settings your pyproject.toml or pytest.ini lacks. A second run changes nothing, and
prints as done the app's lines you already added.

An app built by a factory (def create_app(): application = FastAPI(...); ...; return
application, with app = create_app() at module level) gets its lines inside the factory.

The dependency command names both drivers, asyncpg and aiosqlite, whatever --db is: the app
connects to sqlite+aiosqlite:///./app.db when DATABASE_URL is not set, production is usually
PostgreSQL, and the copied tests run on both. --db only picks the URL in .env.example.

The examples (users and posts: models, schemas, repository, security.py, routes, tests) are
optional; --no-examples leaves them out, keeping in schemas.py only the input-validation
helpers every model's schemas use, and leaving out of api/deps.py the posts feed's cursor
parameter (CursorQuery) and out of tests/conftest.py the users' cheap password hashing. The
example revision in migrations/versions/ creates the example models' tables as copied: if you
change or drop an example model (say keep users, drop posts), edit the models first, delete
that revision, then run `alembic revision --autogenerate` before the first `alembic upgrade
head`.

--json prints one document: package, package_dir, app, db, dry_run, created, unchanged,
conflicts [{path, proposed, state: written|pending|blocked, edited: true when yours starts as
ours, an earlier run's file you edited}], next_steps [{title, code}], app_changes (the app
module's edits, one field each: imports, lifespan, app_argument, lifespan_merge, after_app, and
factory; done: the lines it has already), with ok, exit_code and error as every command's
--json has (scripts/README.md).

Usage:
  python3 <skill-dir>/scripts/scaffold.py [PROJECT_DIR] [--package NAME] [--db sqlite|postgresql]
                                          [--no-examples] [--dry-run] [--json] [--debug]

Examples:
  python3 .claude/skills/database/scripts/scaffold.py --dry-run
  python3 .claude/skills/database/scripts/scaffold.py . --db postgresql
  python3 ~/skills/database/scripts/scaffold.py ~/code/shop --package shop --no-examples --json

Exit status: 0 done (conflicts, if any, are listed to merge); 1 a target cannot be written (then
nothing is written), or an earlier NAME.scaffold-new with other content is in the way; 2 bad
usage, or no FastAPI package or app found (nothing is written).
"""

import argparse
from pathlib import Path

from _lib import app_settings, cli, project
from _lib.scaffold.layout import LayoutError, detect
from _lib.scaffold.plan import ENV_URLS, make_plan
from _lib.scaffold.report import build_steps, document, human
from _lib.scaffold.rewrite import Target
from _lib.scaffold.write import WriteError, write_all


def build_parser() -> cli.Parser:
    parser = cli.Parser("scaffold.py", __doc__)
    parser.add_argument(
        "project_dir",
        nargs="?",
        default=".",
        metavar="PROJECT_DIR",
        help="the FastAPI project's folder (default: the current folder)",
    )
    parser.add_argument(
        "--package",
        metavar="NAME",
        help="the package to scaffold into, e.g. myservice "
        "(default: app/, a package pyproject.toml names, or the one package at the top or in "
        "src/ that creates FastAPI(...))",
    )
    parser.add_argument(
        "--db",
        choices=sorted(ENV_URLS),
        default="sqlite",
        help="the DATABASE_URL written to .env.example; the dependency command lists both "
        f"drivers either way (default: sqlite, {app_settings.default_url()})",
    )
    parser.add_argument(
        "--no-examples",
        action="store_true",
        help="leave out the example users/posts models, routes, tests and revision; keep db/, "
        "migrations and the schema helpers (default: copy them)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing; list what would be done (default: off)",
    )
    return parser


def scaffold(args: argparse.Namespace, out: cli.Output) -> int:
    root = Path(args.project_dir).resolve()
    if not root.is_dir():
        raise cli.UsageError(f"{args.project_dir} is not a folder: pass the project's folder")
    try:
        layout = detect(root, args.package)
        target = Target(layout.package, layout.app.module, layout.app.variable)
        plan = make_plan(layout, target, args.db, args.no_examples)
        steps, changes = build_steps(layout, target, plan, args.no_examples, project.detect(root))
    except LayoutError as exc:
        raise cli.UsageError(str(exc)) from None
    if not args.dry_run:
        try:
            write_all(plan.create)
        except WriteError as exc:
            return out.fail(
                cli.EXIT_PROBLEM, f"cannot write into {root}: {exc}; nothing was written"
            )
    code = cli.EXIT_PROBLEM if any(s == "blocked" for *_, s in plan.conflicts) else cli.EXIT_OK
    out.document.update(document(layout, plan, args.db, steps, changes, args.dry_run))
    out.line(human(out.document))
    return out.finish(code)


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv, scaffold)


if __name__ == "__main__":
    raise SystemExit(main())
