"""Throwaway servers for the tests, on free ports of 127.0.0.1 only.

A PostgreSQL cluster of its own (TLS, replication, a small max_connections, whatever settings a
test needs) runs as the `postgres` OS user in a temporary directory and is removed afterwards;
a streaming replica of it comes from pg_basebackup -R. Start each once per module where you can.
"""

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TRUST_LOCAL = ("local all all trust", "host all all 127.0.0.1/32 trust")


class ServerUnavailable(Exception):
    """This machine cannot start the server (not root, no PostgreSQL 15 binaries, no runuser)."""


def skip_or_fail(reason: str) -> NoReturn:
    """Skip a test whose server is missing, or fail it when CI=true."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def as_postgres(*command: str | Path, cwd: Path, timeout: float = 120) -> str:
    """Run a command as the postgres OS user; raise with its output when it fails."""
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {result.stdout}{result.stderr}")
    return result.stdout


def _check_machine() -> None:
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        raise ServerUnavailable("needs root and runuser to start a cluster as postgres")
    if not (PG_BIN / "initdb").exists():
        raise ServerUnavailable(f"no initdb in {PG_BIN}")


@dataclass
class Cluster:
    """A running throwaway cluster; every user connects without a password from 127.0.0.1."""

    base: Path
    port: int
    settings: Mapping[str, str]

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres", *, host: str = "127.0.0.1", query: str = "") -> str:
        url = f"postgresql+asyncpg://postgres@{host}:{self.port}/{database}"
        return f"{url}?{query}" if query else url

    def start(self) -> None:
        options = " ".join(f"-c {key}={value}" for key, value in self.settings.items())
        try:
            as_postgres(
                PG_BIN / "pg_ctl", "--pgdata", self.data, "--log", self.base / "log",
                "--wait", "--timeout", "60", "-o", options, "start",
                cwd=self.base,
            )  # fmt: skip
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{(self.base / 'log').read_text()[-2000:]}") from None

    def stop(self, mode: str = "fast") -> None:
        as_postgres(PG_BIN / "pg_ctl", "--pgdata", self.data, "-m", mode, "stop", cwd=self.base)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def _settings(base: Path, port: int, extra: Mapping[str, str]) -> dict[str, str]:
    return {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(base),
        "fsync": "off",
        "max_connections": "20",
    } | dict(extra)


def _make_base(prefix: str) -> Path:
    base = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.chown(base, "postgres")
    base.chmod(0o755)
    return base


def give_to_postgres(path: Path, mode: int = 0o600) -> None:
    """Hand a file (a server key, a certificate) to the postgres user, as the server wants it."""
    shutil.chown(path, "postgres")
    path.chmod(mode)


@contextmanager
def cluster(
    settings: Mapping[str, str] | None = None,
    hba: Sequence[str] = TRUST_LOCAL,
    files: Mapping[str, Path] | None = None,
) -> Iterator[Cluster]:
    """Start a new cluster with these postgresql.conf settings and pg_hba.conf lines.

    files are copied into the data directory first, owned by postgres (for example
    {"server.key": key}); settings may then name them (ssl_key_file=server.key).
    """
    _check_machine()
    base = _make_base("skill_pg_")
    try:
        port = free_port()
        server = Cluster(base, port, _settings(base, port, settings or {}))
        as_postgres(
            PG_BIN / "initdb", "--pgdata", server.data, "--username", "postgres",
            "--auth", "trust", "--encoding", "UTF8", "--no-sync",
            cwd=base,
        )  # fmt: skip
        (server.data / "pg_hba.conf").write_text("\n".join(hba) + "\n")
        for name, source in (files or {}).items():
            target = server.data / name
            shutil.copyfile(source, target)
            give_to_postgres(target)
        with _running(server):
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def _running(server: Cluster) -> Iterator[None]:
    server.start()
    try:
        yield
    finally:
        if server.running():
            server.stop("immediate")


# what a primary needs for pg_basebackup and one streaming replica
REPLICATION_SETTINGS = {"wal_level": "replica", "max_wal_senders": "4", "hot_standby": "on"}
REPLICATION_HBA = (*TRUST_LOCAL, "host replication all 127.0.0.1/32 trust")


@contextmanager
def replica(primary: Cluster) -> Iterator[Cluster]:
    """Start a streaming replica of primary (pg_basebackup -R) on a port of its own."""
    _check_machine()
    base = _make_base("skill_replica_")
    try:
        port = free_port()
        own = ("port", "unix_socket_directories")
        shared = {key: value for key, value in primary.settings.items() if key not in own}
        server = Cluster(base, port, _settings(base, port, shared))
        as_postgres(
            PG_BIN / "pg_basebackup", "--pgdata", server.data, "--host", "127.0.0.1",
            "--port", str(primary.port), "--username", "postgres",
            "--write-recovery-conf", "--wal-method", "stream", "--checkpoint", "fast",
            cwd=base,
        )  # fmt: skip
        with _running(server):
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def available(server: AbstractContextManager[Cluster]) -> Iterator[Cluster]:
    """Enter a server's context in a fixture, or skip (fail in CI) where it cannot start."""
    try:
        with server as running:
            yield running
    except ServerUnavailable as exc:
        skip_or_fail(f"postgresql: {exc}")


# the socket trusts the postgres OS user (to set the password); TCP asks for the password
PASSWORD_HBA = ("local all all trust", "host all all 127.0.0.1/32 scram-sha-256")


@contextmanager
def scram_cluster(password: str) -> Iterator[str]:
    """A cluster that checks passwords (scram-sha-256), for the tests that need a wrong
    password to fail (the local server trusts every password): its superuser `postgres` has
    `password`. Start it; yield "127.0.0.1:PORT"."""
    with cluster(hba=PASSWORD_HBA) as server:
        quoted = password.replace("'", "''")
        as_postgres(
            PG_BIN / "psql", "--no-psqlrc", "--host", server.base, "--port", str(server.port),
            "--username", "postgres", "--command", f"ALTER ROLE postgres PASSWORD '{quoted}'",
            cwd=server.base,
        )  # fmt: skip
        yield f"127.0.0.1:{server.port}"
