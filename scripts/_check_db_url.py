"""The checks of check_db.py that need only the standard library: URL, driver, options, SQLite path.

They run before SQLAlchemy is imported, so a wrong URL is diagnosed even where it is not installed.
Every URL they show is masked; a message never holds the password.
"""

import getpass
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
SUPPORTED = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
EXAMPLE_URLS = (
    "postgresql+asyncpg://user:password@localhost:5432/app or sqlite+aiosqlite:///./app.db"
)
SYNC_DRIVERS = {
    "postgresql": {"", "psycopg2", "psycopg2cffi", "pg8000", "pygresql"},
    "sqlite": {"", "pysqlite", "pysqlcipher"},
}
# the query options asyncpg.connect() accepts as keywords, plus the one SQLAlchemy's dialect takes
ASYNCPG_OPTIONS = {
    "host", "port", "passfile", "service", "servicefile", "timeout", "statement_cache_size",
    "max_cached_statement_lifetime", "max_cacheable_statement_size", "command_timeout", "ssl",
    "direct_tls", "target_session_attrs", "krbsrvname", "gsslib",
    "prepared_statement_cache_size",
}  # fmt: skip
# libpq (psycopg) names that asyncpg spells differently
LIBPQ_RENAMES = {"sslmode": "ssl", "connect_timeout": "timeout"}

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


@dataclass
class Check:
    """One line of the report: which check, how it went, and what to do."""

    name: str
    status: str
    message: str
    details: dict[str, object] = field(default_factory=dict)


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
    if password is None:
        return raw
    host_and_rest = raw[len(prefix) :].rpartition("@")[2]
    return f"{prefix}{user}:***@{host_and_rest}"


def secrets_in(raw: str) -> set[str]:
    """Every spelling of the password that a message might carry."""
    password = _split_userinfo(raw)[2]
    if not password:
        return set()
    return {raw, password, unquote(password)}


def redact(text: str, secrets: set[str]) -> str:
    """One line, with every secret replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return " ".join(text.split())


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


def check_url(raw: str, source: str) -> tuple[Check, DbUrl | None]:
    if not raw:
        return Check(
            "url", FAIL, f"the URL from {source} is empty: set it, e.g. {EXAMPLE_URLS}"
        ), None
    try:
        url = parse(raw)
    except ValueError as exc:
        return Check("url", FAIL, f"cannot parse {mask(raw)!r} (from {source}): {exc}"), None
    return Check("url", OK, f"{url.masked} (from {source})", {"url": url.masked}), url


def check_driver(url: DbUrl) -> Check:
    """The dialect and driver: an async pair this skill supports, or the URL that is."""
    wanted = SUPPORTED.get(url.backend)
    if url.backend == "postgres":
        fixed = url.with_scheme("postgresql+asyncpg")
        problem = "postgres:// is not a SQLAlchemy dialect name (Heroku and others print it)"
    elif wanted is None:
        return Check(
            "driver",
            FAIL,
            f"dialect {url.backend!r} is not one this skill supports "
            f"(PostgreSQL with asyncpg, SQLite with aiosqlite): use e.g. {EXAMPLE_URLS}",
        )
    elif url.driver == wanted:
        return Check(
            "driver", OK, f"{url.backend}+{url.driver} is an async driver this skill supports"
        )
    else:
        fixed = url.with_scheme(f"{url.backend}+{wanted}")
        if url.driver == "" and url.backend == "postgresql":
            problem = (
                "postgresql:// names no driver, so SQLAlchemy 2.1 loads psycopg "
                "(2.0 loaded psycopg2), not asyncpg"
            )
        elif url.driver == "":
            problem = "sqlite:// names no driver, so SQLAlchemy loads the sync pysqlite"
        elif url.driver in SYNC_DRIVERS[url.backend]:
            problem = f"{url.driver} is a sync driver and create_async_engine needs an async one"
        elif url.driver in {"psycopg", "psycopg_async"}:
            problem = "psycopg can run async, but this skill's layer and tests use asyncpg"
        else:
            problem = f"{url.driver!r} is not a driver this skill supports for {url.backend}"
    return Check("driver", FAIL, f"{problem}: use {fixed}", {"corrected_url": fixed})


def check_options(url: DbUrl) -> Check:
    """Query options that the asyncpg driver would reject with a TypeError."""
    if (url.backend, url.driver) != ("postgresql", "asyncpg") or not url.query:
        return Check("options", OK, "no query options" if not url.query else "not checked")
    keys = [key for key, _ in url.query]
    renames = {key: LIBPQ_RENAMES[key] for key in keys if key in LIBPQ_RENAMES}
    if renames:
        fixed = url.masked
        for old, new in renames.items():
            fixed = re.sub(rf"([?&]){old}=", rf"\g<1>{new}=", fixed)
        names = ", ".join(
            f"{old}= is libpq's name; asyncpg takes {new}=" for old, new in renames.items()
        )
        return Check("options", FAIL, f"{names}: use {fixed}", {"corrected_url": fixed})
    unknown = [key for key in keys if key not in ASYNCPG_OPTIONS]
    if unknown:
        return Check(
            "options",
            FAIL,
            f"asyncpg.connect() takes no option {', '.join(unknown)}: remove it from the URL "
            "and pass it in create_async_engine(connect_args=...) in the form asyncpg expects",
        )
    return Check("options", OK, f"asyncpg accepts {', '.join(keys)}")


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return getpass.getuser()


def sqlite_file(url: DbUrl, project: Path) -> Path | None:
    """The database file a SQLite URL names, relative paths taken from the project directory."""
    name = url.database or ""
    if url.backend != "sqlite" or name in {"", ":memory:"} or name.startswith("file:"):
        return None
    return (project / name).resolve()


def check_sqlite_path(url: DbUrl, project: Path) -> Check:
    """The SQLite file: its directory exists, and the file and directory are writable."""
    if url.backend != "sqlite":
        return Check("sqlite-path", SKIP, f"not SQLite ({url.backend})")
    path = sqlite_file(url, project)
    if path is None:
        what = "a SQLite URI filename" if url.database else "an in-memory database"
        return Check("sqlite-path", OK, f"{what}: no file to check")
    user, directory = _user(), path.parent
    try:
        directory_exists, file_exists = directory.is_dir(), path.exists()
    except PermissionError:
        return Check("sqlite-path", FAIL, f"{path}: permission denied for {user} on its directory")
    if not directory_exists:
        hint = f"create it (mkdir -p {directory}) or fix the path in the URL"
        name = url.database or ""
        if not name.startswith("/") and (Path("/") / name).parent.is_dir():
            fixed = url.masked.replace(":///", ":////", 1)
            hint = f"for the absolute path /{name} write four slashes: {fixed}"
        return Check("sqlite-path", FAIL, f"directory {directory} does not exist: {hint}")
    if path.is_dir():
        return Check(
            "sqlite-path",
            FAIL,
            f"{path} is a directory, not a database file: name a file in it, e.g. {path}/app.db",
        )
    if file_exists and not os.access(path, os.R_OK | os.W_OK):
        return Check(
            "sqlite-path", FAIL, f"{path} is not writable by {user}: chown or chmod u+rw the file"
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        # sqlite creates the file, and its -journal or -wal file beside it, in this directory
        return Check(
            "sqlite-path",
            FAIL,
            f"directory {directory} is not writable by {user}: SQLite creates the database "
            "and its journal there; chown or chmod u+w the directory",
        )
    if not file_exists:
        return Check(
            "sqlite-path", OK, f"{path} does not exist yet; the first connection creates it"
        )
    return Check("sqlite-path", OK, f"{path} exists and is writable by {user}")


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; comments, blank lines and `export ` prefixes allowed."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values
