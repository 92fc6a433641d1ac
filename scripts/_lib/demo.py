"""demo.py's run: the asset app under uvicorn on 127.0.0.1, a user and a post sent through it."""

import asyncio
import json
import os
import socket
import sys
from typing import Any

from _lib import ASSETS
from _lib.cli import UsageError, emit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def show(method: str, path: str, status: int, body: Any) -> None:
    emit(f"{method} {path} -> {status}")
    emit(json.dumps(body, indent=2))


async def run_demo(url: str, drop_after: bool = False) -> int:
    """Create the app's tables on url, serve and call the app, then dispose of the engine."""
    os.environ["DATABASE_URL"] = url
    # the asset app is this demo's project: its folder goes on the import path, as a project's does
    sys.path.insert(0, str(ASSETS))
    from sqlalchemy import inspect

    from app.db import Base, engine
    from app.main import app

    async with engine.begin() as conn:
        existing = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        clash = sorted(set(existing) & set(Base.metadata.tables))
        if clash:
            await engine.dispose()
            raise UsageError(f"the database already has tables {clash}: use an empty one")
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
            raise RuntimeError(f"the server did not start on 127.0.0.1:{port}")
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            new_user = {"email": "ada@example.com", "name": "Ada", "password": "s3cret-pw"}
            user = await client.post("/users", json=new_user)
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
