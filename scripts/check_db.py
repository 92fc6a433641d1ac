#!/usr/bin/env python3
"""Diagnose a database URL for the skill's async SQLAlchemy layer, one line per check.

Run it in the project's environment, where SQLAlchemy and the driver are installed:
    uv run python <skill-dir>/scripts/check_db.py
(--help and the URL checks work without them; the report then says what to install.)

Checks, in order:
  settings     the app's settings load, read the way the app reads them: the project's own
               settings class (<package>/db/config.py, else the skill's) from the environment
               and PROJECT/.env, through pydantic-settings
  url          the URL parses
  driver       dialect+driver is an async pair the skill supports: postgresql+asyncpg or
               sqlite+aiosqlite; postgres://, postgresql:// and sync drivers get the fixed URL
               (a project with the skill's <package>/db/urls.py takes postgres:// as it is)
  options      asyncpg accepts the query options (ssl=, not libpq's sslmode=); with the
               project's db/urls.py, a provider's sslmode=, sslrootcert= and channel_binding=
               are translated as the app translates them, and the fixed URL is still shown
  pooler       a pooler's port or host (Supavisor's 6543, Neon's -pooler hosts, PgBouncer's
               6432): DB_PGBOUNCER is on and MIGRATIONS_DATABASE_URL goes direct
  sqlite-path  the SQLite file's directory exists; file and directory are writable
  installed    SQLAlchemy, greenlet, pydantic-settings and the driver import
  connect      a connection opens within --timeout: server version, round-trip latency; a
               failure in one line with the fix (TLS: a CA that did not sign the server's
               certificate, a host name the certificate does not name, a server without TLS,
               plain text refused by pg_hba.conf's hostssl, no root certificate)
  pool         PostgreSQL: workers x (DB_POOL_SIZE + DB_MAX_OVERFLOW), as the settings say,
               fits max_connections minus the reserved slots; with DB_PGBOUNCER on,
               PgBouncer's pools are what must fit
  migrations   the project has alembic.ini: the database's revision is the migrations' head

The URL comes from --url, else from the settings as the app reads them: the DATABASE_URL
environment variable, else DATABASE_URL in PROJECT/.env, else the settings class's default. The
app reads .env from the folder it is started in, so run this with --project set to that folder
(the current one by default). DB_POOL_SIZE, DB_MAX_OVERFLOW and DB_PGBOUNCER come from the same
settings. A relative SQLite path is taken from PROJECT, and an absent SQLite file is not created.
Passwords show as ***.

Output: one line per check, "OK|WARN|FAIL|SKIP <check>: <what, and the fix>", then a summary.
With --json, one document on stdout: {"url", "source", "checks": [{"name", "status", "message",
...}], "ok", "exit_code", "error"}; a wrong URL's entry carries "corrected_url", the settings
entry the values read ("settings", URLs masked). scripts/README.md has the contract all the
skill's commands keep.

Usage:
    check_db.py [--url URL] [--workers N] [--project DIR] [--timeout SECONDS] [--json] [--debug]

Examples:
    uv run python .claude/skills/database/scripts/check_db.py
    uv run python scripts/check_db.py --url "postgresql+asyncpg://app:secret@localhost:5432/app"
    uv run python scripts/check_db.py --project ../myapp --workers 4 --json

Exit status: 0 every check passed, 1 a check failed or warned, 2 bad usage (a bad flag or
value, a missing --project folder).
"""

import argparse
import os
from pathlib import Path

from _lib import cli, project
from _lib.check_db import settings
from _lib.check_db.checks import Options, run_checks


def build_parser() -> cli.Parser:
    parser = cli.Parser("check_db.py", __doc__)
    parser.add_argument(
        "--url",
        help="database URL to check (default: the app's DATABASE_URL: the environment, else "
        "PROJECT/.env, else the settings' default)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="app processes that each hold a pool (default: $WEB_CONCURRENCY, else 1)",
    )
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        default=Path("."),
        help="the folder the app starts in, with .env and alembic.ini (default: the current "
        "directory)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=5.0,
        help="seconds to wait for the connection and each query (default: 5)",
    )
    return parser


def parse_options(args: argparse.Namespace) -> Options:
    folder: Path = args.project
    if not folder.is_dir():
        raise cli.UsageError(f"--project {folder} is not a directory: pass the project's folder")
    if not args.timeout > 0:
        raise cli.UsageError(f"--timeout must be more than 0 seconds, got {args.timeout:g}")
    workers = args.workers
    if workers is None:
        raw = os.environ.get("WEB_CONCURRENCY", "1")
        workers = int(raw) if raw.isdigit() else 1
    if workers < 1:
        raise cli.UsageError(f"--workers must be 1 or more, got {workers}")
    root = folder.resolve()
    read = settings.load(root)
    dotenv = root / ".env"
    unread = dotenv if read.problem and dotenv.is_file() else None
    layer = settings.url_layer(root)
    tool = project.detect(root)
    return Options(args.url, root, workers, args.timeout, read, tool, unread, layer)


def check_db(args: argparse.Namespace, out: cli.Output) -> int:
    out.hide(args.url)
    options = parse_options(args)
    out.hide(*options.settings.secrets)
    checks, url, source = run_checks(options, os.environ.get("DATABASE_URL") or None)
    out.hide(url)
    for check in checks:
        out.line(check.line())
    out.line(cli.summary("check_db.py", checks))
    url_check = next(c for c in checks if c.name == "url")
    out.document.update(
        url=url_check.details.get("url"),
        source=source,
        checks=[check.document() for check in checks],
    )
    return out.finish(cli.exit_code(checks))


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv, check_db)


if __name__ == "__main__":
    raise SystemExit(main())
