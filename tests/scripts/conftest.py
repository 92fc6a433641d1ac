"""Fixtures for the script tests: a clean environment, servers that fail in chosen ways, and a
copy of the asset project."""

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import copy_asset_project
from tests.scripts.support import PASSWORD
from tests.servers import ServerUnavailable, scram_cluster, skip_or_fail

# the variables the scripts read; each test sets the ones it needs
APP_VARIABLES = (
    "APP_ENV",
    "DATABASE_URL",
    "MIGRATIONS_DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_PGBOUNCER",
    "WEB_CONCURRENCY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the scripts read these and the working directory's .env; the tests choose them
    for name in APP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the asset project (app/, alembic.ini, migrations/) that a test may change."""
    return copy_asset_project(tmp_path / "project")


@pytest.fixture(scope="session")
def scram_server() -> Iterator[str]:
    """127.0.0.1:PORT of a cluster that checks passwords; PASSWORD is the postgres user's."""
    try:
        with scram_cluster(PASSWORD) as address:
            yield address
    except ServerUnavailable as exc:
        skip_or_fail(f"postgresql: {exc}")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where the kernel accepts connections that nothing ever answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def root_user() -> None:
    """Skip (fail in CI) unless the tests run as root with runuser and the system python."""
    if os.geteuid() != 0 or not shutil.which("runuser") or not os.path.exists("/usr/bin/python3"):
        skip_or_fail("needs root, runuser and /usr/bin/python3 to run as another user")
