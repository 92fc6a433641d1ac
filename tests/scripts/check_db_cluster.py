"""A throwaway PostgreSQL cluster that checks passwords (scram-sha-256), for the tests that need
a wrong password to fail: the local server trusts every password."""

from collections.abc import Iterator
from contextlib import contextmanager

from tests.servers import PG_BIN, ServerUnavailable, as_postgres, cluster

ClusterUnavailable = ServerUnavailable
# the socket trusts the postgres OS user (to set the password); TCP asks for the password
PASSWORD_HBA = ("local all all trust", "host all all 127.0.0.1/32 scram-sha-256")


@contextmanager
def scram_cluster(password: str) -> Iterator[str]:
    """Start a cluster whose superuser `postgres` has `password`; yield "127.0.0.1:PORT"."""
    with cluster(hba=PASSWORD_HBA) as server:
        quoted = password.replace("'", "''")
        as_postgres(
            PG_BIN / "psql", "--no-psqlrc", "--host", server.base, "--port", str(server.port),
            "--username", "postgres", "--command", f"ALTER ROLE postgres PASSWORD '{quoted}'",
            cwd=server.base,
        )  # fmt: skip
        yield f"127.0.0.1:{server.port}"
