#!/usr/bin/env python3
"""Check that a project's Alembic migrations round-trip and match its models.

Runs five steps on an empty database and prints one line per step:
  single head      the revisions form one line of history (no unmerged branches)
  upgrade head     every revision applies
  no drift         models and migrations describe the same schema (what `alembic check` tests)
  downgrade base   every revision's downgrade runs and leaves no table behind
  upgrade head     the revisions apply again after the downgrade
It stops at the first failure (exit 1) and says what to fix. Bad usage exits 2: a missing
folder, no alembic.ini, an env.py that fails to import, an unreachable or non-empty database.

The first line names the database it uses: "database: sqlite (a throwaway file)", or the --url
database with its password as *** and "(from --url)". It never reads DATABASE_URL or .env.

The database defaults to a throwaway SQLite file in a temporary folder, so no server is needed.
To check PostgreSQL too (a migration can pass on SQLite and fail there), create an empty
database and pass it with --url:
  createdb -h 127.0.0.1 -U postgres migration_check
  uv run python check_migrations.py --url postgresql+asyncpg://postgres@127.0.0.1/migration_check
A --url database must be empty (the downgrade step drops every table, and the check leaves it
empty again); env.py must read the URL from DATABASE_URL (the skill's env.py does) or from
sqlalchemy.url, both set by this script for the run.

It imports the project, so run it with the project's Python, where alembic, sqlalchemy and the
database drivers are installed (for example through `uv run`).

Usage:
  check_migrations.py [PROJECT_DIR] [--url URL] [--json] [--debug]

Examples:
  uv run python ~/.skills/database/scripts/check_migrations.py
  uv run python check_migrations.py path/to/project --url postgresql+asyncpg://me@127.0.0.1/scratch
  uv run python check_migrations.py --json
"""

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _check_migrations_db import (  # noqa: E402
    UsageError,
    check_database,
    empty_database,
    first_line,
    mask,
    table_names,
)
from _check_migrations_diff import describe_diff  # noqa: E402
from _cli import emit  # noqa: E402

DEFAULT_URL = "a throwaway SQLite file (sqlite+aiosqlite)"
THROWAWAY = "sqlite (a throwaway file)"


@dataclass
class Step:
    name: str
    ok: bool
    detail: str


class StepFailed(Exception):
    """A step found a problem (exit 1)."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = Step(step, False, detail)


@contextlib.contextmanager
def inside(project: Path, url: str) -> Iterator[None]:
    """Run with the project as cwd and import root, and DATABASE_URL set; restore afterwards."""
    saved_cwd, saved_path, saved_url = os.getcwd(), list(sys.path), os.environ.get("DATABASE_URL")
    os.chdir(project)
    sys.path.insert(0, str(project))
    os.environ["DATABASE_URL"] = url
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        if saved_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved_url


def alembic_step(action: str, run: Any, secret: str | None) -> None:
    """Run one Alembic command; turn its failure into a sentence naming the file at fault."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            run()
    except StepFailed:
        raise
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        versions = [f for f in frames if Path(f.filename).parent.name == "versions"]
        if versions:
            where = f"{Path(versions[-1].filename).name}:{versions[-1].lineno}"
            raise StepFailed(action, f"failed in {where}: {first_line(exc, secret)}") from exc
        if "requires an async driver" in str(exc):
            raise UsageError(
                f"env.py is async and the URL's driver is not: {first_line(exc)}; use "
                f"sqlite+aiosqlite:// or postgresql+asyncpg://"
            ) from exc
        env = [f for f in frames if Path(f.filename).name == "env.py"]
        if env and isinstance(exc, ImportError | SyntaxError | NameError | AttributeError):
            raise UsageError(
                f"env.py failed at line {env[-1].lineno}: {first_line(exc, secret)}; run from "
                f"the project folder, with its dependencies installed"
            ) from exc
        raise StepFailed(action, f"failed: {first_line(exc, secret)}") from exc


def run_checks(project: Path, url: str, record: Callable[[Step], None]) -> None:
    """Record one Step per passed check; raise StepFailed or UsageError at the first problem."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import AutogenerateDiffsDetected
    from sqlalchemy.engine import make_url

    secret = make_url(url).password
    secret = str(secret) if secret else None
    cfg = Config(str(project / "alembic.ini"), stdout=io.StringIO())
    # for env.py files that read alembic.ini's URL; %% survives configparser interpolation
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        heads = ScriptDirectory.from_config(cfg).get_heads()
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "versions" in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        fix = f"fix revision {where}" if where else "check script_location in alembic.ini"
        raise UsageError(f"cannot read the revisions: {first_line(exc)}; {fix}") from exc
    if len(heads) != 1:
        fix = "merge them: alembic merge heads -m merge" if heads else "create one: alembic "
        fix += "" if heads else "revision --autogenerate -m init"
        raise StepFailed("single head", f"{len(heads)} heads ({', '.join(heads)}); {fix}")
    record(Step("single head", True, heads[0]))

    alembic_step("upgrade head", lambda: command.upgrade(cfg, "head"), secret)
    if "alembic_version" not in table_names(url):
        raise UsageError(
            f"env.py migrated another database than {mask(url)}: make it read DATABASE_URL"
        )
    record(Step("upgrade head", True, f"at {heads[0]}"))

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            command.check(cfg)
    except AutogenerateDiffsDetected as exc:
        differences = "; ".join(describe_diff(d) for d in exc.diffs)
        raise StepFailed(
            "no drift",
            f"{differences}; add a revision (alembic revision --autogenerate -m '...'), "
            f"review it, and run this check again",
        ) from exc
    record(Step("no drift", True, "models match the migrations"))

    alembic_step("downgrade base", lambda: command.downgrade(cfg, "base"), secret)
    left = sorted(set(table_names(url)) - {"alembic_version"})
    if left:
        raise StepFailed(
            "downgrade base", f"left tables {', '.join(left)}: drop them in downgrade()"
        )
    record(Step("downgrade base", True, "no table left"))

    alembic_step("upgrade head again", lambda: command.upgrade(cfg, "head"), secret)
    record(Step("upgrade head again", True, f"at {heads[0]}"))


def check_project(project: Path) -> None:
    """Raise UsageError unless the project folder holds alembic.ini."""
    if not project.is_dir():
        raise UsageError(
            f"project folder {project} does not exist: pass the folder with alembic.ini"
        )
    if not (project / "alembic.ini").is_file():
        raise UsageError(
            f"no alembic.ini in {project}: pass the project folder, or copy the skill's "
            f"assets/alembic.ini and assets/migrations/ into it"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="check_migrations.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT_DIR",
        help="folder holding alembic.ini (default: the current directory)",
    )
    parser.add_argument(
        "--url",
        help="an empty database to migrate, e.g. postgresql+asyncpg://USER@HOST/EMPTY_DB to "
        f"check PostgreSQL (default: {DEFAULT_URL})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document (default: off)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure (default: off)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import alembic  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as exc:
        print(
            f"error: {exc.name} is not importable: run this with the project's Python "
            f"(for example `uv run python check_migrations.py`)",
            file=sys.stderr,
        )
        return 2
    project = Path(args.project).resolve()
    steps: list[Step] = []
    out = sys.stderr if args.json else sys.stdout

    def record(step: Step) -> None:
        steps.append(step)
        emit(f"{'ok  ' if step.ok else 'FAIL'}  {step.name}: {step.detail}", out)

    code, error = 0, ""
    failure: Exception | None = None
    with tempfile.TemporaryDirectory(prefix="check_migrations_") as tmp:
        url = args.url or f"sqlite+aiosqlite:///{Path(tmp) / 'check.db'}"
        database = f"{mask(url)} (from --url)" if args.url else THROWAWAY
        emit(f"database: {database}", out)
        try:
            check_project(project)
            with inside(project, url):
                check_database(url)
                try:
                    run_checks(project, url, record)
                finally:
                    # leave the database empty, as found, so the check can run on it again
                    with contextlib.suppress(Exception):
                        empty_database(url)
        except StepFailed as exc:
            code, error, failure = 1, str(exc), exc
            record(exc.step)
        except UsageError as exc:
            code, error, failure = 2, str(exc), exc
            print(f"error  {error}", file=sys.stderr)
        except Exception as exc:
            code, error, failure = 2, f"unexpected {first_line(exc)}; run with --debug", exc
            print(f"error  {error}", file=sys.stderr)
        if failure and args.debug:
            traceback.print_exception(failure, file=sys.stderr)
    if args.json:
        report = {
            "project": str(project),
            "database": database,
            "url": mask(url) if args.url else DEFAULT_URL,
            "ok": code == 0,
            "steps": [asdict(s) for s in steps],
            "error": error or None,
        }
        emit(json.dumps(report, indent=2))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
