"""A TCP proxy on 127.0.0.1 in front of the test server that can freeze: from then on it accepts
connections and bytes and never answers, the half-open connection a vanished host, a hung load
balancer or a dropped NAT entry leaves behind."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

# DatabaseSettings for an engine behind the proxy: timeouts short enough that a half-open
# connection costs about a second (the defaults: 5 s to connect and ping, 20 s per command)
FAST = {
    "db_pool_size": 1,
    "db_max_overflow": 0,
    "db_connect_timeout": 0.5,
    "db_statement_timeout": 0.5,
    "db_command_timeout": 1.0,
}


class FreezingProxy:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.frozen = False
        self.url = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def start(self, url: URL) -> "FreezingProxy":
        """Listen on a free port; self.url is url with the proxy as its host."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        return self

    def freeze(self) -> None:
        """Stop forwarding in both directions; keep every socket open."""
        self.frozen = True

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None) -> None:
        task = asyncio.create_task(self._pipe(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        try:
            while data := await reader.read(65536):
                # frozen: read and drop, so the sender's writes succeed and no answer comes
                if not self.frozen and writer is not None:
                    writer.write(data)
                    await writer.drain()
        except ConnectionError:
            pass
        # one side closed: pass the close on, unless frozen (a half-open peer never sees it)
        if not self.frozen and writer is not None:
            writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self.frozen:
            self._spawn(reader, None)
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self._writers.append(upstream_writer)
        self._spawn(reader, upstream_writer)
        self._spawn(upstream_reader, writer)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()


@pytest.fixture
async def proxy(engine: AsyncEngine) -> AsyncIterator[FreezingProxy]:
    """A freezing proxy to the test's PostgreSQL server; its URL is proxy.url."""
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: a database file has no connection to go half-open")
    server = FreezingProxy(engine.url.host or "127.0.0.1", engine.url.port or 5432)
    started = await server.start(engine.url)
    yield started
    await started.close()
