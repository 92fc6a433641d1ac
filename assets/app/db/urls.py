"""Database URLs as providers print them, turned into what SQLAlchemy and asyncpg accept."""

import ssl
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

# libpq's names, which provider dashboards print, for what asyncpg takes as one `ssl` argument;
# SQLAlchemy would pass each to asyncpg.connect() as a keyword it does not know (TypeError)
TLS_KEYS = ("sslmode", "sslrootcert", "channel_binding", "sslnegotiation")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
CHANNEL_BINDINGS = ("disable", "prefer", "require")
# SQLAlchemy reads postgres:// as no dialect at all and postgresql:// as the psycopg2 driver
LIBPQ_SCHEMES = ("postgres", "postgresql")
ASYNCPG = "postgresql+asyncpg"


def asyncpg_url(url: str | URL) -> tuple[URL, dict[str, Any]]:
    """Return the URL to give create_async_engine and the connect_args its TLS keys become.

    Other URLs (SQLite, another driver the user chose) come back unchanged, with no arguments.
    """
    url = make_url(url)
    if url.drivername in LIBPQ_SCHEMES:
        # this layer is async and asyncpg is its PostgreSQL driver: a scheme without a
        # driver can only mean asyncpg here
        url = url.set(drivername=ASYNCPG)
    if url.drivername != ASYNCPG or not any(key in url.query for key in TLS_KEYS):
        return url, {}
    if "ssl" in url.query:
        raise ValueError("the URL has both ssl= and sslmode=/sslrootcert=: keep one of them")
    query = dict(url.query)
    tls = {key: _single(key, query.pop(key)) for key in TLS_KEYS if key in query}
    connect_args: dict[str, Any] = {}
    if "sslnegotiation" in tls:
        # PostgreSQL 17's TLS handshake without the plain-text request first (PlanetScale)
        connect_args["direct_tls"] = tls.pop("sslnegotiation") == "direct"
    return url.set(query=query), connect_args | {"ssl": ssl_argument(**tls)}


def ssl_argument(
    sslmode: str | None = None,
    sslrootcert: str | None = None,
    channel_binding: str | None = None,
) -> str | ssl.SSLContext:
    """asyncpg's `ssl` for libpq's sslmode, sslrootcert and channel_binding, meant as libpq means
    them; sslrootcert=system is the operating system's certificate store (libpq 16)."""
    mode = sslmode or ("verify-full" if sslrootcert == "system" else "prefer")
    if mode not in SSLMODES:
        raise ValueError(f"sslmode={mode} is not one of {', '.join(SSLMODES)}")
    if channel_binding is not None and channel_binding not in CHANNEL_BINDINGS:
        choices = ", ".join(CHANNEL_BINDINGS)
        raise ValueError(f"channel_binding={channel_binding} is not one of {choices}")
    if channel_binding == "require":
        if mode in ("disable", "allow"):
            raise ValueError(f"channel_binding=require needs TLS, and sslmode={mode} allows none")
        # asyncpg has no channel binding (SCRAM-SHA-256-PLUS); what binding guards against, a
        # man in the middle, a verified certificate guards against too: check it instead
        if mode != "verify-ca":
            mode = "verify-full"
        sslrootcert = sslrootcert or "system"
    if mode in ("disable", "allow", "prefer") or sslrootcert is None:
        # asyncpg takes the mode itself and, like libpq, looks for ~/.postgresql/root.crt
        return mode
    if sslrootcert == "system":
        context = ssl.create_default_context()
    else:
        path = Path(sslrootcert).expanduser()
        if not path.is_file():
            raise ValueError(f"sslrootcert={sslrootcert} is not a readable file")
        context = ssl.create_default_context(cafile=path)
    # libpq: with a root certificate, require checks the chain as verify-ca does; only
    # verify-full also checks that the certificate names the host connected to
    context.check_hostname = mode == "verify-full"
    return context


def with_query(url: str | URL, **changes: str | None) -> URL:
    """url with query keys set, or removed where the value is None: the fixed URL to print."""
    url = make_url(url)
    query = {key: value for key, value in url.query.items() if key not in changes}
    query |= {key: value for key, value in changes.items() if value is not None}
    return url.set(query=query)


def _single(key: str, value: str | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        raise ValueError(f"the URL gives {key}= more than once")
    return value
