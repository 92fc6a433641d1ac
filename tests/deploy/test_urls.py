"""The URL translation of assets/app/db/urls.py, without a server: what provider URLs become."""

import ssl
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.db.urls import asyncpg_url, ssl_argument, with_query
from tests.deploy.certificates import make_authority

HOST = "u:secret@db.example.com:5432/app"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        (f"postgres://{HOST}", f"postgresql+asyncpg://{HOST}"),
        (f"postgresql://{HOST}", f"postgresql+asyncpg://{HOST}"),
        (f"postgresql+asyncpg://{HOST}", f"postgresql+asyncpg://{HOST}"),
        # a driver the user chose stays theirs, and so does SQLite
        (
            f"postgresql+psycopg://{HOST}?sslmode=require",
            f"postgresql+psycopg://{HOST}?sslmode=require",
        ),
        ("sqlite+aiosqlite:///./app.db", "sqlite+aiosqlite:///./app.db"),
        # asyncpg's own ssl= passes through untouched
        (f"postgresql+asyncpg://{HOST}?ssl=require", f"postgresql+asyncpg://{HOST}?ssl=require"),
    ],
)
def test_translate_scheme_only_where_driver_missing(given: str, url: str) -> None:
    translated, connect_args = asyncpg_url(given)
    assert translated.render_as_string(hide_password=False) == url
    assert connect_args == {}


@pytest.mark.parametrize(
    ("query", "ssl_arg"),
    [
        ("sslmode=disable", "disable"),
        ("sslmode=prefer", "prefer"),
        ("sslmode=require", "require"),
        ("sslmode=verify-ca", "verify-ca"),
        ("sslmode=verify-full", "verify-full"),
        ("sslmode=require&channel_binding=disable", "require"),
        ("sslmode=require&channel_binding=prefer", "require"),
        ("sslmode=prefer&sslrootcert=/nonexistent/ca.pem", "prefer"),
    ],
)
def test_translate_sslmode_to_asyncpg_mode(query: str, ssl_arg: str) -> None:
    url, connect_args = asyncpg_url(f"postgres://{HOST}?{query}&application_name=web")
    assert connect_args == {"ssl": ssl_arg}
    # the other query keys stay for asyncpg (application_name becomes a server setting)
    assert dict(url.query) == {"application_name": "web"}


@pytest.mark.parametrize(
    ("sslmode", "checks_host"), [("require", False), ("verify-ca", False), ("verify-full", True)]
)
def test_translate_root_certificate_to_context(
    tmp_path: Path, sslmode: str, checks_host: bool
) -> None:
    authority = make_authority(tmp_path, "ca")
    url, connect_args = asyncpg_url(
        f"postgres://{HOST}?sslmode={sslmode}&sslrootcert={authority.certificate}"
    )
    context = connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    # libpq: with a root certificate, require checks the chain as verify-ca does
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is checks_host
    assert [cert["subject"] for cert in context.get_ca_certs()] == [((("commonName", "ca"),),)]
    assert dict(url.query) == {}


def test_default_sslmode_with_system_store_is_verify_full() -> None:
    # libpq 16: sslrootcert=system alone means verify-full
    context = ssl_argument(sslrootcert="system")
    assert isinstance(context, ssl.SSLContext) and context.check_hostname


def test_verify_certificate_instead_of_channel_binding() -> None:
    context = ssl_argument("require", channel_binding="require")
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    chain = ssl_argument("verify-ca", channel_binding="require")
    assert isinstance(chain, ssl.SSLContext) and not chain.check_hostname


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "sslmode=required",
            "sslmode=required is not one of disable, allow, prefer, require, "
            "verify-ca, verify-full",
        ),
        (
            "sslmode=require&channel_binding=yes",
            "channel_binding=yes is not one of disable, prefer, require",
        ),
        (
            "sslmode=disable&channel_binding=require",
            "channel_binding=require needs TLS, and sslmode=disable allows none",
        ),
        (
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            "sslrootcert=/nonexistent/ca.pem is not a readable file",
        ),
        (
            "sslmode=require&ssl=require",
            "the URL has both ssl= and sslmode=/sslrootcert=: keep one of them",
        ),
        ("sslmode=require&sslmode=disable", "the URL gives sslmode= more than once"),
    ],
)
def test_refuse_impossible_tls_keys_in_one_line(query: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        asyncpg_url(f"postgresql://{HOST}?{query}")
    assert str(raised.value) == message
    assert "secret" not in str(raised.value)


def test_with_query_sets_and_removes_keys() -> None:
    url = make_url(f"postgres://{HOST}?sslmode=disable&channel_binding=require&x=1")
    fixed = with_query(url, sslmode="require", channel_binding=None, sslrootcert="system")
    assert fixed.render_as_string(hide_password=True) == (
        "postgres://u:***@db.example.com:5432/app?sslmode=require&sslrootcert=system&x=1"
    )


def test_translate_planetscale_direct_tls() -> None:
    query = "sslmode=verify-full&sslrootcert=system&sslnegotiation=direct"
    url, connect_args = asyncpg_url(f"postgresql://{HOST}?{query}")
    assert connect_args["direct_tls"] is True
    assert isinstance(connect_args["ssl"], ssl.SSLContext) and connect_args["ssl"].check_hostname
    assert dict(url.query) == {}
