"""Database down: the database is down when the app starts, then comes back."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import Base
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.main import app
from tests.reliability.support import MakeEngine, Serve

NEW_USER = {"email": "back@example.com", "name": "Back Again", "password": "long-enough"}


@dataclass
class Outage:
    url: str
    restore: Callable[[], Awaitable[None]]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def outage(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Outage]:
    """A database URL where nothing answers, and a way to bring the database back there."""
    if engine.dialect.name == "sqlite":
        # a file in a directory that does not exist yet, like a volume not mounted
        path = tmp_path / "volume" / "app.db"

        async def mount() -> None:
            path.parent.mkdir()
            fresh = create_engine(DatabaseSettings(database_url=f"sqlite+aiosqlite:///{path}"))
            async with fresh.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            await fresh.dispose()

        yield Outage(f"sqlite+aiosqlite:///{path}", mount)
        return
    # a port that is bound but not listening refuses connections, and stays ours
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    pipes: list[asyncio.Task[None]] = []
    servers: list[asyncio.Server] = []

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, server_port = engine.url.host or "127.0.0.1", engine.url.port or 5432
        up_reader, up_writer = await asyncio.open_connection(host, server_port)
        pipes.append(asyncio.create_task(_pipe(reader, up_writer)))
        pipes.append(asyncio.create_task(_pipe(up_reader, writer)))

    async def listen() -> None:
        # the server "comes back" on the same port: a proxy to the real one starts listening
        servers.append(await asyncio.start_server(forward, sock=sock))

    yield Outage(engine.url.set(port=port).render_as_string(hide_password=False), listen)
    for server in servers:
        server.close()
    for pipe in pipes:
        pipe.cancel()
    await asyncio.gather(*pipes, return_exceptions=True)
    sock.close()


async def test_health_reports_database_down_and_back(
    outage: Outage, make_engine: MakeEngine, serve: Serve
) -> None:
    down = make_engine(database_url=outage.url)
    # the lifespan does not connect, so the app starts with the database down
    async with app.router.lifespan_context(app), serve(down) as client:
        health_down = await client.get("/health")
        read_down = await client.get("/users")
        create_down = await client.post("/users", json=NEW_USER)
        await outage.restore()
        health_up = await client.get("/health")
        create_up = await client.post("/users", json=NEW_USER)
        read_up = await client.get("/users")
    assert health_down.status_code == 503
    assert health_down.json() == {"status": "unavailable", "database": "unreachable"}
    # routes that use SessionDep answer 503 too: the failed connect is not a 500 at commit
    assert read_down.status_code == create_down.status_code == 503
    assert read_down.json() == {"detail": "Database unavailable, retry shortly"}
    assert read_down.headers["Retry-After"] == "1"
    assert health_up.status_code == 200
    assert health_up.json() == {"status": "ok", "database": "ok"}
    assert create_up.status_code == 201
    assert read_up.json()["count"] == 1
