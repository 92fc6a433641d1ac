"""Fixtures for the deploy tests, which run throwaway PostgreSQL servers of their own."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import BACKENDS
from tests.deploy.certificates import Authority, make_authority, make_server_certificate
from tests.servers import Cluster, available, cluster

# pg_hba.conf lines that accept TLS only from 127.0.0.1, as managed services do
TLS_ONLY = ("local all all trust", "hostssl all all 127.0.0.1/32 trust")


@pytest.fixture(params=BACKENDS)
def postgresql_only(request: pytest.FixtureRequest) -> None:
    """Give a server-only test both backend ids; skip SQLite with the module's SQLITE_REASON."""
    if request.param == "sqlite":
        pytest.skip(f"sqlite: {request.module.SQLITE_REASON}")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA made here, a server certificate for "localhost" it signed, and another CA."""
    directory = tmp_path_factory.mktemp("tls")
    authority = make_authority(directory / "ca", "test-ca")
    other: Authority = make_authority(directory / "other", "other-ca")
    certificate, key = make_server_certificate(directory, authority, "localhost")
    return {
        "ca": authority.certificate,
        "other_ca": other.certificate,
        "crt": certificate,
        "key": key,
    }


@pytest.fixture(scope="module")
def tls_server(certificates: dict[str, Path]) -> Iterator[Cluster]:
    """A throwaway cluster with ssl=on that refuses plain-text connections (hostssl only)."""
    settings = {"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"}
    files = {"server.crt": certificates["crt"], "server.key": certificates["key"]}
    yield from available(cluster(settings, hba=TLS_ONLY, files=files))
