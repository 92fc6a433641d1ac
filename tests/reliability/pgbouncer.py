"""A fixture that runs Debian's pgbouncer in transaction pooling mode before the test server."""

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

StartPgBouncer = Callable[..., Awaitable[str]]
INSTALL = "apt-get install pgbouncer (.ci/run does it)"


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found is None and os.access("/usr/sbin/pgbouncer", os.X_OK):
        found = "/usr/sbin/pgbouncer"
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(
    directory: Path,
    engine: AsyncEngine,
    port: int,
    pool_size: int,
    users: tuple[str, ...] = (),
    query_wait_timeout: int = 120,
) -> Path:
    userlist = directory / "userlist.txt"
    userlist.write_text("".join(f'"{user}" ""\n' for user in (engine.url.username, *users)))
    config = directory / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={engine.url.host} port={engine.url.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {userlist}\n"
        # every transaction may go to another server connection; a small pool makes
        # clients share server connections from the first request on
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
        # seconds a client's query may wait for a server connection (120 is PgBouncer's default)
        f"query_wait_timeout = {query_wait_timeout}\n"
        "logfile =\npidfile =\nlog_connections = 0\nlog_disconnections = 0\n"
    )
    directory.chmod(0o755)
    for path in (userlist, config):
        path.chmod(0o644)
    return config


@pytest.fixture
async def start_pgbouncer(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[StartPgBouncer]:
    """Start pgbouncer on a free 127.0.0.1 port; returns the engine's URL through it."""
    if engine.dialect.name != "postgresql":
        pytest.skip(f"{engine.dialect.name}: PgBouncer pools PostgreSQL connections")
    binary = pgbouncer_binary()
    if binary is None:
        reason = f"postgresql: pgbouncer is not installed; {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    processes: list[asyncio.subprocess.Process] = []
    drains: list[asyncio.Task[bytes]] = []

    async def start(
        pool_size: int = 1, users: tuple[str, ...] = (), query_wait_timeout: int = 120
    ) -> str:
        """users: more roles that may log in (trust authentication still needs the name)."""
        port = free_port()
        config = write_config(tmp_path, engine, port, pool_size, users, query_wait_timeout)
        # pgbouncer refuses to run as root; -u makes it drop to the postgres user
        user = ["-u", "postgres"] if os.geteuid() == 0 else []
        process = await asyncio.create_subprocess_exec(
            binary,
            *user,
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        processes.append(process)
        assert process.stderr is not None
        seen = b""
        async with asyncio.timeout(10):
            while f"listening on 127.0.0.1:{port}".encode() not in seen:
                line = await process.stderr.readline()
                if not line:
                    pytest.fail(f"pgbouncer did not start: {seen.decode(errors='replace')}")
                seen += line
        # keep reading its log, so that a full pipe never blocks it
        drains.append(asyncio.create_task(process.stderr.read()))
        return engine.url.set(port=port).render_as_string(hide_password=False)

    yield start
    for process in processes:
        if process.returncode is None:
            process.terminate()
        async with asyncio.timeout(10):
            await process.wait()
    await asyncio.gather(*drains)
