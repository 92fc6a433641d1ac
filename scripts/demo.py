#!/usr/bin/env python3
"""Run the asset app on a SQLite file and show a user and a post going through it over HTTP.

Creates the schema, starts the app under uvicorn on 127.0.0.1 (a free port), creates a user and
a post with real HTTP requests, reads them back, prints each exchange, and stops the server
(whose lifespan disposes the engine). Needs the skill's dependencies: run it with `uv run`.
With --url it runs on that database instead, which must not have the app's tables yet; the
demo drops the tables it created when it ends.

Usage:
  uv run python scripts/demo.py [--database PATH | --url URL]

Examples:
  uv run python scripts/demo.py
  uv run python scripts/demo.py --database /tmp/demo.db
  uv run python scripts/demo.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/scratch
"""

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cli import emit  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def show(method: str, path: str, status: int, body: Any) -> None:
    emit(f"{method} {path} -> {status}")
    emit(json.dumps(body, indent=2))


async def run_demo(url: str, drop_after: bool = False) -> int:
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ASSETS))
    from sqlalchemy import inspect

    from app.db import Base, engine
    from app.main import app

    async with engine.begin() as conn:
        existing = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        clash = sorted(set(existing) & set(Base.metadata.tables))
        if clash:
            print(
                f"error: the database already has tables {clash}; use an empty one", file=sys.stderr
            )
            await engine.dispose()
            return 2
        await conn.run_sync(Base.metadata.create_all)
    try:
        return await serve_and_call(app)
    finally:
        if drop_after:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
        await engine.dispose()


async def serve_and_call(app: Any) -> int:
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            print(f"error: the server did not start on 127.0.0.1:{port}", file=sys.stderr)
            return 1
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            steps: list[tuple[str, str, dict[str, Any] | None]] = [
                (
                    "POST",
                    "/users",
                    {"email": "ada@example.com", "name": "Ada", "password": "s3cret-pw"},
                ),
            ]
            user = await client.post("/users", json=steps[0][2])
            show("POST", "/users", user.status_code, user.json())
            if user.status_code != 201:
                return 1
            user_id = user.json()["id"]
            for method, path, body in [
                ("POST", f"/users/{user_id}/posts", {"title": "Hello", "content": "First post"}),
                ("GET", f"/users/{user_id}", None),
                ("GET", "/posts", None),
            ]:
                response = await client.request(method, path, json=body)
                show(method, path, response.status_code, response.json())
                if response.status_code >= 400:
                    return 1
    finally:
        server.should_exit = True
        await serving
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database",
        type=Path,
        help="SQLite file to create; must not exist yet (default: a file in a new temp folder)",
    )
    parser.add_argument(
        "--url",
        help="database URL to run on instead of a SQLite file (default: none)",
    )
    args = parser.parse_args(argv)
    if args.url and args.database:
        print("error: give --database or --url, not both", file=sys.stderr)
        return 2
    if args.url:
        try:
            return asyncio.run(run_demo(args.url, drop_after=True))
        except Exception as exc:  # any failure to connect or create tables is one line, no trace
            print(f"error: cannot run on that database: {type(exc).__name__}", file=sys.stderr)
            return 2
    if args.database is not None:
        database: Path = args.database.resolve()
        if database.exists():
            print(
                f"error: {database} exists; pass a new path, the demo never reuses a file",
                file=sys.stderr,
            )
            return 2
        if not database.parent.is_dir():
            print(
                f"error: folder {database.parent} does not exist; create it first", file=sys.stderr
            )
            return 2
        status = asyncio.run(run_demo(f"sqlite+aiosqlite:///{database}"))
        emit(f"database file kept: {database}")
        return status
    with tempfile.TemporaryDirectory(prefix="database-demo-") as folder:
        return asyncio.run(run_demo(f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"))


if __name__ == "__main__":
    raise SystemExit(main())
