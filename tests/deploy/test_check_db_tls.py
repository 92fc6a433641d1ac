"""check_db.py on a provider's URL: each way TLS fails, against the TLS-only throwaway cluster,
gives one line with the fix and the URL that has it, translated as the app translates it."""

import json
from pathlib import Path

import pytest

import check_db
from tests.helpers import copy_asset_project
from tests.servers import Cluster

SQLITE_REASON = "a database file has no TLS"
pytestmark = pytest.mark.usefixtures("postgresql_only")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The asset project, whose app/db/urls.py translates sslmode= as the app connects."""
    for name in ("DATABASE_URL", "MIGRATIONS_DATABASE_URL", "DB_PGBOUNCER", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    return copy_asset_project(tmp_path / "project")


def connect_line(
    project: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, dict[str, str]]]:
    code = check_db.main(["--url", url, "--project", str(project), "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, {check["name"]: check for check in json.loads(out)["checks"]}


def test_report_provider_url_translated_and_connect(
    project: Path,
    tls_server: Cluster,
    certificates: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    ca = certificates["ca"]
    url = tls_server.url(host="localhost", query=f"sslmode=verify-full&sslrootcert={ca}")
    code, checks = connect_line(project, url.replace("postgresql+asyncpg", "postgres"), capsys)
    assert checks["connect"]["status"] == "ok", checks["connect"]
    assert checks["driver"]["status"] == checks["options"]["status"] == "ok"
    # the URL a create_async_engine() of one's own needs, without the app's translation
    fixed = f"postgresql+asyncpg://postgres@localhost:{tls_server.port}/postgres?ssl=verify-full"
    assert checks["options"]["corrected_url"] == fixed
    assert checks["options"]["message"].startswith(
        "sslmode=, sslrootcert= become asyncpg's ssl argument in app/db/urls.py as the app "
        f"connects; a create_async_engine() of your own needs {fixed} with PGSSLROOTCERT={ca} "
        "in the environment"
    )
    assert code == 1  # no alembic revision in the throwaway cluster: migrations fails


@pytest.mark.parametrize(
    ("host", "query", "expected"),
    [
        pytest.param(
            "localhost",
            "sslmode=verify-full&sslrootcert={other_ca}",
            "the certificate of localhost:{port} is not signed by a CA the URL trusts "
            "(sslrootcert=, else the system store): download the provider's CA bundle and pass "
            "it, postgresql+asyncpg://postgres@localhost:{port}/postgres?sslmode=verify-full"
            "&sslrootcert=/path/to/ca.pem",
            id="wrong-ca",
        ),
        pytest.param(
            "127.0.0.1",
            "sslmode=verify-full&sslrootcert={ca}",
            "the server's certificate does not name '127.0.0.1', and sslmode=verify-full checks "
            "the name: connect to the host name the certificate names (the provider's, not an "
            "IP address or an alias), or check the CA only: postgresql+asyncpg://postgres@"
            "127.0.0.1:{port}/postgres?sslrootcert={ca}&sslmode=verify-ca",
            id="host-name-mismatch",
        ),
        pytest.param(
            "127.0.0.1",
            "sslmode=disable",
            "127.0.0.1:{port} accepts TLS connections only (pg_hba.conf hostssl) and the URL "
            "connects in plain text: use postgresql+asyncpg://postgres@127.0.0.1:{port}/"
            "postgres?sslmode=require, or verify-full with the provider's CA as sslrootcert=",
            id="plain-text-refused",
        ),
    ],
)
def test_report_tls_failure_in_one_line_with_fix(
    project: Path,
    tls_server: Cluster,
    certificates: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    host: str,
    query: str,
    expected: str,
) -> None:
    query = query.format(**certificates)
    code, checks = connect_line(project, tls_server.url(host=host, query=query), capsys)
    assert code == 1
    assert checks["connect"]["status"] == "fail"
    assert checks["connect"]["message"] == expected.format(
        port=tls_server.port, ca=certificates["ca"]
    )


def test_report_missing_root_certificate(
    project: Path,
    tls_server: Cluster,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # without sslrootcert=, asyncpg looks where libpq does: ~/.postgresql/root.crt
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    url = tls_server.url(host="localhost", query="sslmode=verify-full")
    code, checks = connect_line(project, url, capsys)
    assert code == 1
    assert checks["connect"]["message"] == (
        "verify-ca and verify-full need the server's CA, and none was given: add sslrootcert= "
        f"(postgresql+asyncpg://postgres@localhost:{tls_server.port}/postgres?sslmode=verify-full"
        "&sslrootcert=/path/to/ca.pem), or put it at ~/.postgresql/root.crt"
    )


def test_report_server_without_tls(
    project: Path, postgresql_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the suite's own server runs with ssl=off, as many development servers do
    code, checks = connect_line(project, f"{postgresql_url}?sslmode=require", capsys)
    assert code == 1
    assert checks["connect"]["message"].endswith(
        "does not offer SSL but the URL asks for it: remove ssl=/sslmode= or set it to prefer "
        f"({postgresql_url}?sslmode=prefer), or turn ssl on in the server"
    )


def test_report_unreadable_root_certificate_before_connecting(
    project: Path, tls_server: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    url = tls_server.url(host="localhost", query=f"sslmode=verify-full&sslrootcert={missing}")
    code, checks = connect_line(project, url, capsys)
    assert code == 1
    assert checks["connect"]["message"] == (
        f"the URL's TLS options: sslrootcert={missing} is not a readable file: fix them in the URL"
    )
