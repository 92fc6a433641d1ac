#!/usr/bin/env python3
"""Diagnose a database URL for the skill's async SQLAlchemy layer, one line per check.

Run it in the project's environment, where SQLAlchemy and the driver are installed:
    uv run python <skill-dir>/scripts/check_db.py
(--help and the URL checks work without them; the report then says what to install.)

Checks, in order:
  url          the URL parses
  driver       dialect+driver is an async pair the skill supports: postgresql+asyncpg or
               sqlite+aiosqlite; postgres://, postgresql:// and sync drivers get the fixed URL
  options      asyncpg accepts the query options (ssl=, not libpq's sslmode=)
  sqlite-path  the SQLite file's directory exists; file and directory are writable
  installed    SQLAlchemy, greenlet and the driver import
  connect      a connection opens within --timeout: server version, round-trip latency
  pool         PostgreSQL: workers x (DB_POOL_SIZE + DB_MAX_OVERFLOW) fits max_connections
               minus the reserved slots (defaults 5 and 10, as in app/db/config.py);
               with DB_PGBOUNCER on, PgBouncer's pools are what must fit
  migrations   the project has alembic.ini: the database's revision is the migrations' head

The URL comes from --url, else the DATABASE_URL environment variable, else DATABASE_URL in
PROJECT/.env, else the app's default (DEFAULT_URL in PROJECT/<package>/db/config.py, in the
skill's app sqlite+aiosqlite:///./app.db): the order the app itself follows, as it reads .env
from the folder it is started in, so run this with --project set to that folder.
DB_POOL_SIZE, DB_MAX_OVERFLOW and DB_PGBOUNCER are read the same way. A relative SQLite path is
taken from PROJECT, and an absent SQLite file is not created. Passwords show as ***.

Output: one line per check, "OK|WARN|FAIL|SKIP <check>: <what, and the fix>", then a summary.
With --json, one document on stdout: {"url", "source", "ok", "exit_code", "checks": [{"name",
"status", "message", ...}]}; a wrong URL's entry carries "corrected_url".

Usage:
    check_db.py [--url URL] [--workers N] [--project DIR] [--timeout SECONDS] [--json]

Examples:
    uv run python .claude/skills/database/scripts/check_db.py
    uv run python scripts/check_db.py --url "postgresql+asyncpg://app:secret@localhost:5432/app"
    uv run python scripts/check_db.py --project ../myapp --workers 4 --json

Exit status: 0 every check passed, 1 a check failed or warned, 2 bad usage (a bad flag or
value, a missing --project folder, an unreadable .env).
"""

import argparse
import asyncio
import importlib
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _check_db_live import live_checks  # noqa: E402
from _check_db_url import (  # noqa: E402
    FAIL,
    OK,
    SKIP,
    SUPPORTED,
    WARN,
    Check,
    DbUrl,
    check_driver,
    check_options,
    check_sqlite_path,
    check_url,
    read_dotenv,
    redact,
    secrets_in,
    sqlite_file,
)
from _cli import emit  # noqa: E402

STATUS_WORD = {OK: "OK", WARN: "WARN", FAIL: "FAIL", SKIP: "SKIP"}
# what the skill's app (app/db/config.py) connects to when DATABASE_URL is not set
APP_DEFAULT_URL = "sqlite+aiosqlite:///./app.db"
APP_DEFAULT = "app default: DATABASE_URL is not set"
DEFAULT_URL_LINE = re.compile(r"""(?m)^DEFAULT_URL\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""")
LIVE_CHECKS = ("connect", "pool", "migrations")


class UsageError(Exception):
    """Bad invocation: exit 2 with this message."""


@dataclass(frozen=True)
class Options:
    url: str
    source: str
    project: Path
    environ: dict[str, str]
    workers: int
    timeout: float


def app_default_url(project: Path) -> str:
    """DEFAULT_URL from the project's <package>/db/config.py, else the skill's app's default."""
    configs = sorted([*project.glob("*/db/config.py"), *project.glob("src/*/db/config.py")])
    for config in configs:
        try:
            found = DEFAULT_URL_LINE.search(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if found:
            return found[1]
    return APP_DEFAULT_URL


def find_url(
    given: str | None, environ: dict[str, str], dotenv: dict[str, str], project: Path
) -> tuple[str, str]:
    """The URL to check and where it came from; an empty environment variable counts as unset.

    The order is the app's: --url, DATABASE_URL, the .env line, then the app's default.
    """
    if given is not None:
        return given, "--url"
    if environ.get("DATABASE_URL"):
        return environ["DATABASE_URL"], "DATABASE_URL"
    if dotenv.get("DATABASE_URL"):
        return dotenv["DATABASE_URL"], f"DATABASE_URL in {project / '.env'}"
    return app_default_url(project), APP_DEFAULT


def check_installed(url: DbUrl) -> Check:
    """SQLAlchemy 2, greenlet and the supported driver for the URL's database import."""
    driver = SUPPORTED.get("postgresql" if url.backend == "postgres" else url.backend)
    if driver is None:
        return Check("installed", SKIP, f"no supported driver for {url.backend}")
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for module, package in [
        ("sqlalchemy", '"sqlalchemy[asyncio]"'),
        ("greenlet", '"sqlalchemy[asyncio]"'),
        (driver, driver),
    ]:
        try:
            found[module] = str(getattr(importlib.import_module(module), "__version__", ""))
        except ImportError:
            missing[module] = package
    if missing:
        packages = " ".join(dict.fromkeys(missing.values()))
        return Check(
            "installed",
            FAIL,
            f"{', '.join(missing)} not installed for {sys.executable}: run `uv add {packages}` "
            "in the project, then run this script with `uv run python .../check_db.py`",
        )
    major = found["sqlalchemy"].split(".")[0]
    if not major.isdigit() or int(major) < 2:
        return Check(
            "installed",
            FAIL,
            f"SQLAlchemy {found['sqlalchemy']} is older than the 2.0 this layer needs: "
            'run `uv add "sqlalchemy[asyncio]>=2.0.38"`',
        )
    return Check("installed", OK, ", ".join(f"{name} {version}" for name, version in found.items()))


def run_checks(options: Options) -> list[Check]:
    checks: list[Check] = []
    url_check, url = check_url(options.url, options.source)
    if options.source == APP_DEFAULT:
        url_check = replace(
            url_check,
            message=f"{url_check.message}; for another database set DATABASE_URL, or add a "
            f"DATABASE_URL=... line to {options.project / '.env'} (the app reads .env, and "
            "resolves a relative SQLite path, from the folder it is started in)",
        )
    checks.append(url_check)
    if url is None:
        later = ("driver", "options", "sqlite-path", "installed", *LIVE_CHECKS)
        return checks + [Check(name, SKIP, "the URL does not parse") for name in later]
    checks += [check_driver(url), check_options(url), check_sqlite_path(url, options.project)]
    checks.append(check_installed(url))
    failed = [check.name for check in checks if check.status == FAIL]
    if failed:
        reason = f"fix {', '.join(failed)} first"
        return checks + [Check(name, SKIP, reason) for name in LIVE_CHECKS]
    path = sqlite_file(url, options.project)
    connect_url, in_memory = options.url, False
    if path is not None:
        # a check does not create the file: an in-memory database stands in for an absent one
        in_memory = not path.exists()
        query = "?" + options.url.split("?", 1)[1] if "?" in options.url else ""
        connect_url = (
            "sqlite+aiosqlite://" if in_memory else f"sqlite+aiosqlite:///{path}"
        ) + query
    checks += asyncio.run(
        live_checks(
            connect_url,
            url,
            in_memory=in_memory,
            timeout=options.timeout,
            workers=options.workers,
            environ=options.environ,
            project=options.project,
        )
    )
    return checks


def exit_code(checks: list[Check]) -> int:
    return 1 if any(check.status in {FAIL, WARN} for check in checks) else 0


def _redact_all(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redact_all(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_all(item, secrets) for item in value]
    return value


def report(checks: list[Check], options: Options, as_json: bool) -> str:
    secrets = secrets_in(options.url)
    code = exit_code(checks)
    if as_json:
        document = {
            "url": checks[0].details.get("url"),
            "source": options.source,
            "ok": code == 0,
            "exit_code": code,
            "checks": [
                {"name": c.name, "status": c.status, "message": c.message, **c.details}
                for c in checks
            ],
        }
        return json.dumps(_redact_all(document, secrets), indent=2)
    lines = [f"{STATUS_WORD[c.status]:<4} {c.name}: {redact(c.message, secrets)}" for c in checks]
    counts = {status: sum(c.status == status for c in checks) for status in STATUS_WORD}
    summary = ", ".join(f"{n} {STATUS_WORD[s].lower()}" for s, n in counts.items() if n)
    verdict = "all checks passed" if code == 0 else "problems found"
    return "\n".join([*lines, f"check_db: {verdict} ({summary})"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="check_db.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        help="database URL to check (default: $DATABASE_URL, else PROJECT/.env, else the "
        "app's default, sqlite+aiosqlite:///./app.db)",
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
        help="project directory with .env and alembic.ini (default: the current directory)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=5.0,
        help="seconds to wait for the connection and each query (default: 5)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document (default: off)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show a traceback on internal errors (default: off)"
    )
    return parser


def parse_options(args: argparse.Namespace) -> Options:
    project: Path = args.project
    if not project.is_dir():
        raise UsageError(f"--project {project} is not a directory: pass the project's folder")
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be more than 0 seconds, got {args.timeout:g}")
    dotenv_path = project / ".env"
    try:
        dotenv = read_dotenv(dotenv_path) if dotenv_path.is_file() else {}
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {dotenv_path}: {exc.__class__.__name__}") from None
    environ = {**dotenv, **os.environ}
    workers = args.workers
    if workers is None:
        raw = environ.get("WEB_CONCURRENCY", "1")
        workers = int(raw) if raw.isdigit() else 1
    if workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    url, source = find_url(args.url, dict(os.environ), dotenv, project.resolve())
    return Options(url, source, project.resolve(), environ, workers, args.timeout)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        options = parse_options(args)
    except UsageError as exc:
        print(f"check_db: {exc}", file=sys.stderr)
        return 2
    try:
        checks = run_checks(options)
    except Exception as exc:
        secrets = secrets_in(options.url)
        if args.debug:
            trace = traceback.format_exc()
            for secret in secrets:
                trace = trace.replace(secret, "***")
            print(trace, file=sys.stderr)
        detail = redact(f"{exc.__class__.__name__}: {exc}", secrets)
        print(
            f"check_db: internal error: {detail} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    emit(report(checks, options, args.json))
    return exit_code(checks)


if __name__ == "__main__":
    raise SystemExit(main())
