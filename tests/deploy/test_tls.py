"""TLS: a provider's URL (sslmode=, sslrootcert=, channel_binding=) works through the asset engine.

A throwaway cluster with ssl=on, a certificate for "localhost" signed by a certificate authority
made here, and pg_hba.conf lines that accept TLS only (hostssl), as managed services do
(tls_server and certificates, in conftest.py).
"""

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from tests.servers import Cluster

SQLITE_REASON = "a database file has no TLS"
pytestmark = pytest.mark.usefixtures("postgresql_only")


async def encrypted(url: str) -> bool:
    """Connect through the asset engine; True when the server sees the connection as TLS."""
    engine = create_engine(DatabaseSettings(database_url=url))
    try:
        async with engine.connect() as conn:
            query = text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            return bool(await conn.scalar(query))
    finally:
        await engine.dispose()


def socket_error(error: BaseException) -> BaseException:
    """The OSError (a TLS or socket failure) behind a failure to connect, which the asset
    engine reports as asyncpg's SQLSTATE 08001 error raised from it; error itself otherwise."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__
    return cause or error


async def failure(url: str) -> str:
    """The first line of the error connecting through the asset engine raises."""
    with pytest.raises(Exception) as raised:
        await encrypted(url)
    return str(socket_error(raised.value)).splitlines()[0]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
async def test_connect_with_provider_url_as_given(tls_server: Cluster, scheme: str) -> None:
    url = tls_server.url(query="sslmode=require").replace("postgresql+asyncpg", scheme)
    assert await encrypted(url)


async def test_connect_with_sslmode_fails_without_translation(tls_server: Cluster) -> None:
    # what SQLAlchemy does with libpq's key on its own: passes it to asyncpg.connect()
    engine = create_async_engine(tls_server.url(query="sslmode=require"))
    try:
        with pytest.raises(TypeError, match="unexpected keyword argument 'sslmode'"):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()


async def test_connect_without_sslmode_encrypts_unverified(tls_server: Cluster) -> None:
    # no sslmode is libpq's (and asyncpg's) prefer: TLS when offered, no certificate check
    assert await encrypted(tls_server.url())


async def test_connect_verify_ca_by_address(
    tls_server: Cluster, certificates: dict[str, Path]
) -> None:
    # verify-ca checks who signed the certificate, not the name in it
    query = f"sslmode=verify-ca&sslrootcert={certificates['ca']}"
    assert await encrypted(tls_server.url(query=query))


async def test_connect_verify_full_by_certificate_host(
    tls_server: Cluster, certificates: dict[str, Path]
) -> None:
    query = f"sslmode=verify-full&sslrootcert={certificates['ca']}"
    assert await encrypted(tls_server.url(host="localhost", query=query))


async def test_refuse_verify_full_by_other_host_name(
    tls_server: Cluster, certificates: dict[str, Path]
) -> None:
    # the certificate names localhost; 127.0.0.1 is the same server but not the same name
    query = f"sslmode=verify-full&sslrootcert={certificates['ca']}"
    assert await failure(tls_server.url(query=query)) == (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: IP address mismatch, "
        "certificate is not valid for '127.0.0.1'. (_ssl.c:1006)"
    )


@pytest.mark.parametrize("sslmode", ["require", "verify-ca", "verify-full"])
async def test_refuse_certificate_from_other_authority(
    tls_server: Cluster, certificates: dict[str, Path], sslmode: str
) -> None:
    # with a root certificate, libpq's require checks the chain too
    query = f"sslmode={sslmode}&sslrootcert={certificates['other_ca']}"
    assert await failure(tls_server.url(host="localhost", query=query)) == (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate (_ssl.c:1006)"
    )


async def test_refuse_plain_text_where_server_wants_tls(tls_server: Cluster) -> None:
    with pytest.raises(DBAPIError) as raised:
        await encrypted(tls_server.url(query="sslmode=disable"))
    assert str(raised.value).splitlines()[0] == (
        "(sqlalchemy.dialects.postgresql.asyncpg.Error) "
        'no pg_hba.conf entry for host "127.0.0.1", user "postgres", database "postgres", '
        "no encryption"
    )


async def test_refuse_verify_full_without_root_certificate(
    tls_server: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without sslrootcert=, asyncpg looks where libpq does: ~/.postgresql/root.crt
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    message = await failure(tls_server.url(host="localhost", query="sslmode=verify-full"))
    assert message == (
        "(sqlalchemy.dialects.postgresql.asyncpg.InterfaceError) "
        f'root certificate file "{tmp_path}/.postgresql/root.crt" does not exist '
        "or cannot be accessed"
    )


async def test_connect_neon_style_channel_binding_with_root_certificate(
    tls_server: Cluster, certificates: dict[str, Path]
) -> None:
    # asyncpg cannot bind the channel, so the certificate is verified in full instead
    query = f"sslmode=require&channel_binding=require&sslrootcert={certificates['ca']}"
    assert await encrypted(tls_server.url(host="localhost", query=query))
    assert re.search(
        "IP address mismatch", await failure(tls_server.url(host="127.0.0.1", query=query))
    )


async def test_refuse_channel_binding_when_system_store_lacks_authority(
    tls_server: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the system store trusts public authorities (Neon's); this test's own is not one of them
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    query = "sslmode=require&channel_binding=require"
    assert await failure(tls_server.url(host="localhost", query=query)) == (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
        "unable to get local issuer certificate (_ssl.c:1006)"
    )


async def test_refuse_sslmode_require_where_server_has_no_tls(postgresql_url: str) -> None:
    # the suite's own server runs with ssl=off, as many development servers do
    with pytest.raises(DBAPIError) as raised:
        await encrypted(f"{postgresql_url}?sslmode=require")
    refused = socket_error(raised.value)
    assert isinstance(refused, ConnectionError)
    assert re.fullmatch(r'PostgreSQL server at "[\d.:]+" rejected SSL upgrade', str(refused))
