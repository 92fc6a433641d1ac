#!/usr/bin/env python3
"""Run the asset app on a SQLite file and show a user and a post going through it over HTTP.

Creates the schema, starts the app under uvicorn on 127.0.0.1 (a free port), creates a user and
a post with real HTTP requests, reads them back, prints each exchange, and stops the server
(whose lifespan disposes the engine). Needs the skill's dependencies: run it with `uv run`.
With --url it runs on that database instead, which must not have the app's tables yet; the
demo drops the tables it created when it ends.

Usage:
  uv run python scripts/demo.py [--database PATH | --url URL] [--debug]

Examples:
  uv run python scripts/demo.py
  uv run python scripts/demo.py --database /tmp/demo.db
  uv run python scripts/demo.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/scratch
"""

import argparse
import asyncio
import tempfile
from pathlib import Path

from _lib import cli
from _lib.demo import run_demo


def build_parser() -> cli.Parser:
    parser = cli.Parser("demo.py", __doc__, json_option=False)
    parser.add_argument(
        "--database",
        type=Path,
        help="SQLite file to create; must not exist yet (default: a file in a new temp folder)",
    )
    parser.add_argument(
        "--url",
        help="database URL to run on instead of a SQLite file (default: none)",
    )
    return parser


def demo(args: argparse.Namespace, out: cli.Output) -> int:
    out.hide(args.url)
    if args.url and args.database:
        raise cli.UsageError("give --database or --url, not both")
    if args.url:
        try:
            return asyncio.run(run_demo(args.url, drop_after=True))
        except cli.UsageError:
            raise
        except Exception as exc:  # any failure to connect or create tables is one line
            raise cli.UsageError(f"cannot run on that database: {type(exc).__name__}") from exc
    if args.database is not None:
        database: Path = args.database.resolve()
        if database.exists():
            raise cli.UsageError(
                f"{database} exists; pass a new path, the demo never reuses a file"
            )
        if not database.parent.is_dir():
            raise cli.UsageError(f"folder {database.parent} does not exist; create it first")
        status = asyncio.run(run_demo(f"sqlite+aiosqlite:///{database}"))
        out.line(f"database file kept: {database}")
        return status
    with tempfile.TemporaryDirectory(prefix="database-demo-") as folder:
        return asyncio.run(run_demo(f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"))


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv, demo)


if __name__ == "__main__":
    raise SystemExit(main())
