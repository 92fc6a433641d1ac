"""The checks of check_db.py that need no connection: settings, URL, driver, options, SQLite path,
installed libraries.

All but the settings need only the standard library: a wrong URL is diagnosed even where
SQLAlchemy is not installed. Every URL they show is masked; a message never holds the password.
"""

import getpass
import importlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from _lib.check_db.settings import AppSettings
from _lib.cli import FAIL, OK, SKIP, Check
from _lib.project import Tool, install_command, requirement, skill_requirements
from _lib.urls import EXAMPLE_URLS, DbUrl, mask, parse

SUPPORTED = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
SYNC_DRIVERS = {
    "postgresql": {"", "psycopg2", "psycopg2cffi", "pg8000", "pygresql"},
    "sqlite": {"", "pysqlite", "pysqlcipher"},
}
# asyncpg.connect() options that work as URL query strings (SQLAlchemy converts port and
# prepared_statement_cache_size, asyncpg converts command_timeout)
ASYNCPG_URL_OPTIONS = {
    "host", "port", "password", "passfile", "service", "servicefile", "command_timeout", "ssl",
    "target_session_attrs", "krbsrvname", "gsslib", "prepared_statement_cache_size",
}  # fmt: skip
# asyncpg.connect() options that fail as strings ("0", "false"): they go in connect_args
ASYNCPG_TYPED_OPTIONS = {
    "timeout", "statement_cache_size", "max_cached_statement_lifetime",
    "max_cacheable_statement_size", "direct_tls",
}  # fmt: skip
# libpq (psycopg) options and where asyncpg takes them
LIBPQ_TO_URL = {"sslmode": "ssl"}
LIBPQ_TO_CONNECT_ARGS = {"connect_timeout": "timeout"}
# the TLS options a provider prints, which the skill's db/urls.py turns into asyncpg's arguments
TLS_KEYS = ("sslmode", "sslrootcert", "channel_binding", "sslnegotiation")


def _asyncpg_options(url: DbUrl) -> tuple[list[str], list[tuple[str, str]], dict[str, Any]]:
    """What is wrong with the query for asyncpg, the query that is right, and the connect_args."""
    problems: list[str] = []
    kept: list[tuple[str, str]] = []
    connect_args: dict[str, Any] = {}
    for key, value in url.query:
        if key in LIBPQ_TO_URL:
            problems.append(f"{key}= is libpq's name; asyncpg takes {LIBPQ_TO_URL[key]}=")
            kept.append((LIBPQ_TO_URL[key], value))
        elif key in LIBPQ_TO_CONNECT_ARGS:
            name = LIBPQ_TO_CONNECT_ARGS[key]
            problems.append(f"{key}= is libpq's name; asyncpg takes {name} as a number")
            connect_args[name] = _typed(value)
        elif key in ASYNCPG_TYPED_OPTIONS:
            problems.append(f"{key}= reaches asyncpg as the string {value!r}, which it cannot use")
            connect_args[key] = _typed(value)
        elif key == "sslrootcert":
            problems.append(
                "sslrootcert= is libpq's name; asyncpg reads the CA file from the environment: "
                f"export PGSSLROOTCERT={value}"
            )
            connect_args.setdefault("environment", {})["PGSSLROOTCERT"] = value
        elif key == "channel_binding":
            problems.append(
                "asyncpg cannot bind the channel (channel_binding=); verify the certificate "
                "instead with ssl=verify-full"
            )
        elif key == "sslnegotiation":
            problems.append("asyncpg takes sslnegotiation=direct as direct_tls=True")
            connect_args["direct_tls"] = value == "direct"
        elif key == "application_name":
            problems.append("asyncpg takes application_name as a server setting")
            connect_args.setdefault("server_settings", {})[key] = value
        elif key not in ASYNCPG_URL_OPTIONS:
            problems.append(f"{key}= is not an option of asyncpg.connect()")
        else:
            kept.append((key, value))
    return problems, kept, connect_args


def _typed(value: str) -> Any:
    if value.lower() in {"true", "false"}:
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def corrected_url(url: DbUrl) -> str:
    """The masked URL with the supported driver and only the query options asyncpg takes."""
    if url.backend not in {"postgres", "postgresql"}:
        return url.with_scheme(f"{url.backend}+{SUPPORTED.get(url.backend, url.driver)}")
    fixed = url.with_scheme("postgresql+asyncpg").split("?", 1)[0]
    kept = [(key, "***" if key == "password" else value) for key, value in _asyncpg_options(url)[1]]
    return fixed + ("?" + urlencode(kept, safe="/:*") if kept else "")


def check_url(raw: str, source: str) -> tuple[Check, DbUrl | None]:
    if not raw:
        return Check(
            "url", FAIL, f"the URL from {source} is empty: set it, e.g. {EXAMPLE_URLS}"
        ), None
    try:
        url = parse(raw)
    except ValueError as exc:
        return Check("url", FAIL, f"cannot parse {mask(raw)!r} ({origin(source)}): {exc}"), None
    return Check("url", OK, f"{url.masked} ({origin(source)})", {"url": url.masked}), url


def origin(source: str) -> str:
    """Where the URL came from, as the report says it: "from --url", "app default: ..."."""
    return source if source.startswith("app default") else f"from {source}"


def _shown(layer: Path, project: Path) -> str:
    return layer.relative_to(project).as_posix() if layer.is_relative_to(project) else str(layer)


def check_driver(url: DbUrl, layer: Path | None = None, project: Path = Path(".")) -> Check:
    """The dialect and driver: an async pair this skill supports, or the URL that is."""
    wanted = SUPPORTED.get(url.backend)
    fixed = corrected_url(url)
    if layer is not None and url.backend in {"postgres", "postgresql"} and url.driver == "":
        return Check(
            "driver",
            OK,
            f"{url.backend}:// is turned into postgresql+asyncpg by {_shown(layer, project)} as "
            f"the app connects; a create_async_engine() of your own needs {fixed}",
            {"corrected_url": fixed},
        )
    if url.backend == "postgres":
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


def check_options(url: DbUrl, layer: Path | None = None, project: Path = Path(".")) -> Check:
    """The URL's query options, which SQLAlchemy hands to asyncpg.connect() as strings, unless
    the project's db/urls.py translates a provider's TLS options first."""
    if url.backend not in {"postgres", "postgresql"} or not url.query:
        return Check("options", OK, "no query options" if not url.query else "not checked")
    keys = [key for key, _ in url.query]
    tls = [key for key in keys if key in TLS_KEYS] if layer is not None else []
    if tls and "ssl" in keys:
        return Check(
            "options", FAIL, f"the URL has both ssl= and {'=, '.join(tls)}=: keep one of them"
        )
    rest = replace(url, query=tuple((k, v) for k, v in url.query if k not in tls))
    problems, _, connect_args = _asyncpg_options(rest)
    fixed = corrected_url(url)
    environment = connect_args.pop("environment", None)
    details: dict[str, object] = {"corrected_url": fixed, "connect_args": connect_args}
    if environment:
        details["environment"] = environment
    if not problems:
        if not tls:
            return Check("options", OK, f"asyncpg accepts {', '.join(keys)}")
        assert layer is not None
        own = _asyncpg_options(url)[2].get("environment", {})
        extra = "".join(f" with {name}={value} in the environment" for name, value in own.items())
        message = (
            f"{'=, '.join(tls)}= become asyncpg's ssl argument in {_shown(layer, project)} as "
            f"the app connects; a create_async_engine() of your own needs {fixed}{extra}"
        )
        return Check("options", OK, message, details)
    message = f"{'; '.join(problems)}: use {fixed}"
    if connect_args:
        message += f" with create_async_engine(url, connect_args={connect_args!r})"
    return Check("options", FAIL, message, details)


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


def check_settings(settings: AppSettings) -> Check:
    """The app's settings load from the environment and .env, as the app itself loads them."""
    details: dict[str, object] = {"origin": settings.origin, "settings": settings.values}
    if settings.problem:
        return Check("settings", SKIP, f"cannot read them: {settings.problem}", details)
    if settings.error is not None:
        return Check("settings", FAIL, settings.error, details)
    return Check("settings", OK, f"they load, read by {settings.origin}", details)


# module to import -> the package that installs it
NEEDED = {"sqlalchemy": "sqlalchemy[asyncio]", "greenlet": "sqlalchemy[asyncio]"}
SETTINGS_MODULE = ("pydantic_settings", "pydantic-settings")


def check_installed(url: DbUrl, tool: Tool) -> Check:
    """SQLAlchemy 2, greenlet, pydantic-settings and the driver for the URL's database import."""
    driver = SUPPORTED.get("postgresql" if url.backend == "postgres" else url.backend)
    if driver is None:
        return Check("installed", SKIP, f"no supported driver for {url.backend}")
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for module, package in [*NEEDED.items(), (driver, driver), SETTINGS_MODULE]:
        try:
            found[module] = str(getattr(importlib.import_module(module), "__version__", ""))
        except ImportError:
            missing[module] = package
    known = skill_requirements()
    if missing:
        packages = [requirement(name, known) for name in dict.fromkeys(missing.values())]
        return Check(
            "installed",
            FAIL,
            f"{', '.join(missing)} not installed for {sys.executable}: run "
            f"`{install_command(tool, packages)}` in the project, then run this script with "
            f"the project's Python (`{tool.python()} .../check_db.py`)",
        )
    major = found["sqlalchemy"].split(".")[0]
    if not major.isdigit() or int(major) < 2:
        command = install_command(tool, [requirement("sqlalchemy[asyncio]", known)])
        return Check(
            "installed",
            FAIL,
            f"SQLAlchemy {found['sqlalchemy']} is older than the 2.0 this layer needs: "
            f"run `{command}`",
        )
    return Check("installed", OK, ", ".join(f"{name} {version}" for name, version in found.items()))
