"""A fixture that runs PgBouncer in transaction pooling mode before the test server: Debian's
1.18, or the 1.21+ build of .ci/build-pgbouncer for prepared statement tracking."""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.servers import free_port, skip_or_fail

StartPgBouncer = Callable[..., Awaitable[str]]
INSTALL = "apt-get install pgbouncer (.ci/run does it)"
# max_prepared_statements (1.21+): PgBouncer tracks protocol-level prepared statements itself
TRACKING = Path("/opt/pgbouncer/bin/pgbouncer")
BUILD = "bash .ci/build-pgbouncer (.ci/run does it)"


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found is None and os.access("/usr/sbin/pgbouncer", os.X_OK):
        found = "/usr/sbin/pgbouncer"
    return found


def write_config(
    directory: Path,
    engine: AsyncEngine,
    port: int,
    pool_size: int,
    prepared: int | None,
    users: tuple[str, ...] = (),
    query_wait_timeout: int = 120,
    client_idle_timeout: int = 0,
) -> Path:
    directory.mkdir()
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
        # seconds an idle client connection (the app's) is kept; 0, the default, is forever
        f"client_idle_timeout = {client_idle_timeout}\n"
        "logfile =\npidfile =\nlog_connections = 0\nlog_disconnections = 0\n"
        + ("" if prepared is None else f"max_prepared_statements = {prepared}\n")
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
    processes: list[asyncio.subprocess.Process] = []
    drains: list[asyncio.Task[bytes]] = []

    async def start(
        pool_size: int = 1,
        prepared: int | None = None,
        users: tuple[str, ...] = (),
        query_wait_timeout: int = 120,
        client_idle_timeout: int = 0,
    ) -> str:
        """prepared=None runs Debian's 1.18; a number runs the 1.21+ build with that
        max_prepared_statements (0 turns tracking off). users: more roles that may log in
        (trust authentication still needs the name)."""
        binary = pgbouncer_binary() if prepared is None else str(TRACKING)
        if binary is None:
            skip_or_fail(f"postgresql: pgbouncer is not installed; {INSTALL}")
        if not os.access(binary, os.X_OK):
            skip_or_fail(f"postgresql: no PgBouncer 1.21+ at {TRACKING}; {BUILD}")
        port = free_port()
        config = write_config(
            tmp_path / str(port),
            engine,
            port,
            pool_size,
            prepared,
            users,
            query_wait_timeout,
            client_idle_timeout,
        )
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
