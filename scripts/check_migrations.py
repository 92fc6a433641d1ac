#!/usr/bin/env python3
"""Check that a project's Alembic migrations round-trip and match its models.

Runs five steps on an empty database and prints one line per step:
  single head      the revisions form one line of history (no unmerged branches)
  upgrade head     every revision applies
  no drift         models and migrations describe the same schema (what `alembic check` tests)
  downgrade base   every revision's downgrade runs and leaves no table behind
  upgrade head     the revisions apply again after the downgrade
It stops at the first failure (exit 1), says what to fix, and lists the steps it did not run as
SKIP. Bad usage exits 2: a missing folder, no alembic.ini, an env.py that fails to import, an
unreachable or non-empty database.

Its first line names the database it uses: "database: sqlite (a throwaway file)", or the --url
database with its password as *** and "(from --url)". It never uses DATABASE_URL or .env: for
the run, it sets DATABASE_URL and MIGRATIONS_DATABASE_URL to its own database.

The database defaults to a throwaway SQLite file in a temporary folder, so no server is needed.
To check PostgreSQL too (a migration can pass on SQLite and fail there), give the check an
empty database of its own, separate from the tests' (TEST_POSTGRES_URL) and the app's: the
check drops every table in it when it ends, so that it can run there again. Create it once:
  createdb -h 127.0.0.1 -U postgres migration_check
  uv run python check_migrations.py --url postgresql+asyncpg://postgres@127.0.0.1/migration_check
A database with tables is refused; one whose only table is the empty alembic_version that
`alembic downgrade base` leaves counts as empty. env.py must read the URL from DATABASE_URL
(the skill's env.py does) or from sqlalchemy.url, both set by this script for the run.

It imports the project, so run it with the project's Python, where alembic, sqlalchemy and the
database drivers are installed (for example through `uv run`, `poetry run`, or the virtual
environment's python). Output and --json follow the contract in scripts/README.md: one line per
step (OK, FAIL, SKIP), a summary line, or one JSON document with "checks".

Usage:
  check_migrations.py [PROJECT_DIR] [--url URL] [--json] [--debug]

Examples:
  uv run python ~/.skills/database/scripts/check_migrations.py
  uv run python check_migrations.py path/to/project --url postgresql+asyncpg://me@127.0.0.1/scratch
  uv run python check_migrations.py --json
"""

import argparse
import contextlib
import tempfile
from pathlib import Path

from _lib import cli, project
from _lib.check_migrations.database import check_database, empty_database
from _lib.check_migrations.steps import STEPS, StepFailed, check_project, inside, run_steps
from _lib.urls import mask, parse

THROWAWAY = "sqlite (a throwaway file)"


def build_parser() -> cli.Parser:
    parser = cli.Parser("check_migrations.py", __doc__)
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT_DIR",
        help="folder holding alembic.ini (default: the current directory)",
    )
    parser.add_argument(
        "--url",
        help="an empty database of the check's own, e.g. postgresql+asyncpg://USER@HOST/EMPTY_DB "
        "to check PostgreSQL (default: a throwaway SQLite file)",
    )
    return parser


def shown(url: str) -> str:
    try:
        parse(url)
    except ValueError:
        return "<not a URL>"
    return mask(url)


def check_migrations(args: argparse.Namespace, out: cli.Output) -> int:
    folder = Path(args.project).resolve()
    try:
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as exc:
        python = project.detect(folder if folder.is_dir() else Path.cwd()).python()
        raise cli.UsageError(
            f"{exc.name} is not importable: run this with the project's Python "
            f"(`{python} .../check_migrations.py`)"
        ) from None
    out.hide(args.url)
    checks: list[cli.Check] = []

    def record(check: cli.Check) -> None:
        checks.append(check)
        out.document["checks"].append(check.document())
        out.line(check.line())

    database = f"{shown(args.url)} (from --url)" if args.url else THROWAWAY
    out.document.update(project=str(folder), database=database, checks=[])
    with tempfile.TemporaryDirectory(prefix="check_migrations_") as tmp:
        url = args.url or f"sqlite+aiosqlite:///{Path(tmp) / 'check.db'}"
        try:
            check_project(folder)
            with inside(folder, url):
                check_database(url)
                out.line(f"database: {database}")
                try:
                    run_steps(folder, url, record)
                finally:
                    # leave the database empty, as found, so the check can run on it again
                    with contextlib.suppress(Exception):
                        empty_database(url)
        except StepFailed as exc:
            record(exc.check)
    done = {check.name for check in checks}
    for name in STEPS:
        if name not in done:
            record(cli.Check(name, cli.SKIP, "an earlier step failed"))
    out.line(cli.summary("check_migrations.py", checks))
    return out.finish(cli.exit_code(checks))


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv, check_migrations)


if __name__ == "__main__":
    raise SystemExit(main())
