"""Database URLs as the commands show them: parsed like SQLAlchemy, passwords masked.

Standard library only, so a wrong URL is diagnosed, and never printed with its password, where
SQLAlchemy is not installed.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&]*)")

# the same grammar as sqlalchemy.engine.url.make_url
_URL = re.compile(
    r"""
    (?P<scheme>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.VERBOSE,
)
EXAMPLE_URLS = (
    "postgresql+asyncpg://user:password@localhost:5432/app or sqlite+aiosqlite:///./app.db"
)


@dataclass(frozen=True)
class DbUrl:
    """A parsed URL; `masked` is the form to show, with the password as ***."""

    masked: str
    backend: str
    driver: str
    username: str | None
    host: str | None
    port: int | None
    database: str | None
    query: tuple[tuple[str, str], ...]

    def with_scheme(self, scheme: str) -> str:
        return scheme + "://" + self.masked.split("://", 1)[1]

    @property
    def address(self) -> str:
        return f"{self.host or 'localhost'}:{self.port or 5432}"


def _split_userinfo(raw: str) -> tuple[str, str, str | None]:
    """(prefix, username, password-as-written) by the last '@', so an unencoded '@' stays hidden."""
    prefix, sep, rest = raw.partition("://")
    if not sep:
        prefix, rest = "", raw
    else:
        prefix += sep
    userinfo, at, _ = rest.rpartition("@")
    if not at:
        return prefix, "", None
    user, colon, password = userinfo.partition(":")
    return prefix, user, password if colon else None


def mask(raw: str) -> str:
    """The URL with its password replaced by ***; works on strings that do not parse, too."""
    prefix, user, password = _split_userinfo(raw)
    if password is not None:
        raw = f"{prefix}{user}:***@{raw[len(prefix) :].rpartition('@')[2]}"
    return _QUERY_PASSWORD.sub(r"\g<1>***", raw)


def secrets_in(raw: str) -> dict[str, str]:
    """What to replace in a message so that it never shows the URL's password: the URL itself
    by its masked form, and every spelling of the password by ***."""
    passwords = [
        _split_userinfo(raw)[2] or "",
        *(m.group(2) for m in _QUERY_PASSWORD.finditer(raw)),
    ]
    found = dict.fromkeys((s for p in passwords if p for s in (p, unquote(p))), "***")
    return {raw: mask(raw), **found} if found else {}


def redact(text: str, secrets: dict[str, str]) -> str:
    """text with each secret replaced as secrets_in says, the longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, secrets[secret])
    return text


def parse(raw: str) -> DbUrl:
    """Parse like SQLAlchemy does; ValueError names what is wrong."""
    match = _URL.match(raw)
    if raw.strip() != raw:
        raise ValueError("the URL has spaces at its start or end: remove them")
    if raw[:1] in {"'", '"'}:
        raise ValueError("the URL is wrapped in quotes: remove them")
    if not match or not raw.strip():
        raise ValueError(
            f"expected dialect+driver://user:password@host:port/dbname, e.g. {EXAMPLE_URLS}"
        )
    parts = match.groupdict()
    host = parts["ipv6host"] or parts["ipv4host"]
    if host and "@" in host:
        raise ValueError(
            "the host holds an '@', so the password has an '@' that is not percent-encoded: "
            "write it as %40 (urllib.parse.quote(password, safe=''))"
        )
    port = parts["port"]
    if port and not port.isdigit():
        raise ValueError(f"the port {port!r} is not a number")
    backend, _, driver = parts["scheme"].partition("+")
    return DbUrl(
        masked=mask(raw),
        backend=backend,
        driver=driver,
        username=unquote(parts["username"]) if parts["username"] else None,
        host=host,
        port=int(port) if port else None,
        database=unquote(parts["database"]) if parts["database"] else None,
        query=tuple(parse_qsl(parts["query"] or "", keep_blank_values=True)),
    )
