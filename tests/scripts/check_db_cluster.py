"""A throwaway PostgreSQL cluster that checks passwords (scram-sha-256), for check_db's tests.

The local server trusts every password, so a wrong password cannot fail there. This one runs as
the `postgres` OS user, in a temporary directory, on a free port of 127.0.0.1 only.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ClusterUnavailable(Exception):
    """This machine cannot start a cluster (not root, no PostgreSQL 15 binaries, no runuser)."""


def _as_postgres(*command: str | Path, cwd: Path) -> None:
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {result.stdout}{result.stderr}")


@contextmanager
def scram_cluster(password: str) -> Iterator[str]:
    """Start a cluster whose superuser `postgres` has `password`; yield "127.0.0.1:PORT"."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        raise ClusterUnavailable("needs root and runuser to start a cluster as postgres")
    if not (PG_BIN / "initdb").exists():
        raise ClusterUnavailable(f"no initdb in {PG_BIN}")
    base = Path(tempfile.mkdtemp(prefix="check_db_pg_"))
    try:
        shutil.chown(base, "postgres")
        password_file = base / "password"
        password_file.write_text(password + "\n", encoding="utf-8")
        shutil.chown(password_file, "postgres")
        data, port = base / "data", free_port()
        _as_postgres(
            PG_BIN / "initdb",
            "--pgdata", data,
            "--username", "postgres",
            "--auth", "scram-sha-256",
            "--pwfile", password_file,
            "--encoding", "UTF8",
            "--no-sync",
            cwd=base,
        )  # fmt: skip
        settings = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base}"
            " -c fsync=off -c max_connections=20"
        )
        start = [PG_BIN / "pg_ctl", "--pgdata", data, "--log", base / "log", "--wait"]
        _as_postgres(*start, "--timeout", "60", "-o", settings, "start", cwd=base)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            _as_postgres(PG_BIN / "pg_ctl", "--pgdata", data, "-m", "immediate", "stop", cwd=base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
