"""The checks of check_db.py that talk to the database: connect, pool budget, alembic revision.

SQLAlchemy, the driver and alembic are imported inside the functions, so that check_db.py's
--help and URL checks work where they are not installed.
"""

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _lib.check_db.settings import AppSettings, import_file
from _lib.check_db.tls import describe_tls_error
from _lib.cli import FAIL, OK, SKIP, WARN, Check
from _lib.project import Tool, install_command
from _lib.urls import DbUrl

# SQLAlchemy's own defaults, for a settings class without these fields
POOL_DEFAULTS = {"db_pool_size": 10, "db_max_overflow": 0, "db_pgbouncer": False}
ROUND_TRIPS = 5
LIVE_CHECKS = ("connect", "pool", "migrations")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, then what it wraps: SQLAlchemy's .orig, else __cause__ or __context__."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        wrapped = getattr(current, "orig", None)
        if isinstance(wrapped, BaseException):
            current = wrapped
        else:
            current = current.__cause__ or current.__context__
    return chain


def describe_connect_error(exc: BaseException, url: DbUrl, timeout: float) -> str:
    """One line that names the problem and the fix, from the driver's exception."""
    chain = _causes(exc)
    names = {type(item).__name__ for item in chain}
    text = next((str(item) for item in reversed(chain) if str(item)), type(exc).__name__)
    where, user, database = url.address, url.username or "(default)", url.database
    if names & {"TimeoutError", "CancelledError"}:
        return (
            f"no answer from {where} within {timeout:g} s: the host or port is not a reachable "
            "PostgreSQL server (check them, and any firewall), or raise --timeout"
        )
    if url.backend == "sqlite":
        return f"SQLite cannot open the database ({text}): check the path and its permissions"
    if "ConnectionRefusedError" in names:
        return (
            f"connection refused at {where}: nothing listens there; "
            "start PostgreSQL or fix the host and port in the URL"
        )
    if "gaierror" in names:
        return f"cannot resolve the host {url.host!r}: fix the host name in the URL"
    if "InvalidPasswordError" in names:
        return (
            f"password authentication failed for user {user!r} at {where}: the password is wrong "
            "or the user does not exist; fix the URL (percent-encode special characters)"
        )
    if "InvalidAuthorizationSpecificationError" in names and "does not exist" in text:
        return (
            f"user {user!r} does not exist at {where}: create it "
            f"(CREATE ROLE \"{user}\" LOGIN PASSWORD '...') or fix the user name in the URL"
        )
    if "InvalidCatalogNameError" in names:
        return (
            f"database {database!r} does not exist at {where}: create it "
            f"(createdb -h {url.host or 'localhost'} -p {url.port or 5432} -U {user} {database}) "
            "or fix the database name in the URL"
        )
    if "TooManyConnectionsError" in names:
        return (
            f"the server has no free connection slot ({text}): close some or raise max_connections"
        )
    # asyncpg's TLS errors wrap the ssl module's or the file system's: read them all
    tls = describe_tls_error(" ".join(str(item) for item in chain), url)
    if tls is not None:
        return tls
    return f"{type(chain[-1]).__name__}: {text}"


async def check_connect(conn: Any, url: DbUrl, connect_ms: float, in_memory: bool) -> Check:
    from sqlalchemy import text

    if url.backend == "sqlite":
        version = "SQLite " + str(await conn.scalar(text("select sqlite_version()")))
    else:
        version = "PostgreSQL " + str(await conn.scalar(text("show server_version")))
    samples = []
    for _ in range(ROUND_TRIPS):
        started = time.perf_counter()
        await conn.scalar(text("select 1"))
        samples.append((time.perf_counter() - started) * 1000)
    latency = statistics.median(samples)
    note = " (in memory: the file does not exist yet)" if in_memory else ""
    return Check(
        "connect",
        OK,
        f"{version}{note}: connected in {connect_ms:.0f} ms, "
        f"round trip {latency:.2f} ms (median of {ROUND_TRIPS})",
        {
            "server_version": version,
            "connect_ms": round(connect_ms, 1),
            "latency_ms": round(latency, 3),
        },
    )


POOL_QUERY = """
select current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,
       (select count(*) from pg_stat_activity where backend_type = 'client backend'),
       (select rolconnlimit from pg_roles where rolname = current_user),
       (select datconnlimit from pg_database where datname = current_database())
"""


async def check_pool(conn: Any, workers: int, settings: AppSettings) -> Check:
    """workers x (pool_size + max_overflow) against the connections the server allows this user."""
    from sqlalchemy import text

    if settings.values is None:
        return Check("pool", SKIP, "the app's settings do not load: fix settings first")
    values = {**POOL_DEFAULTS, **settings.values}
    pool_size, max_overflow = int(values["db_pool_size"]), int(values["db_max_overflow"])
    max_connections, reserved, in_use, role_limit, db_limit = (
        await conn.execute(text(POOL_QUERY))
    ).one()
    allowed = max_connections - reserved
    limit = f"max_connections {max_connections} - {reserved} reserved"
    for name, cap in (("the user's", role_limit), ("the database's", db_limit)):
        if 0 <= cap < allowed:
            allowed, limit = cap, f"{name} CONNECTION LIMIT {cap}"
    budget = workers * (pool_size + max_overflow)
    need = f"{workers} worker(s) x (pool_size {pool_size} + max_overflow {max_overflow}) = {budget}"
    details = {"budget": budget, "allowed": allowed, "in_use": in_use}
    if values["db_pgbouncer"]:
        message = (
            f"DB_PGBOUNCER is on, so the app's {budget} connections go to PgBouncer "
            f"(max_client_conn); its server-side pools must fit {allowed} ({limit})"
        )
        return Check("pool", SKIP, message, details)
    if budget <= allowed:
        return Check("pool", OK, f"{need} fits {allowed} ({limit}; {in_use} in use now)", details)
    fixes = [f"run at most {allowed // (pool_size + max_overflow)} workers"]
    if allowed // workers:
        fixes.append(f"set DB_POOL_SIZE + DB_MAX_OVERFLOW to at most {allowed // workers}")
    fix = ", ".join(fixes)
    return Check(
        "pool",
        WARN,
        f"{need} is more than the {allowed} the server allows ({limit}): under load the app "
        f"gets 'too many clients'; {fix}, raise max_connections, or put PgBouncer in front",
        details,
    )


def find_alembic_config(project: Path) -> Path | None:
    if (project / "alembic.ini").is_file():
        return project / "alembic.ini"
    pyproject = project / "pyproject.toml"
    if pyproject.is_file() and "[tool.alembic]" in pyproject.read_text(encoding="utf-8"):
        return pyproject
    return None


def _heads(config_path: Path, project: Path) -> tuple[set[str], Any]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    toml = config_path.suffix == ".toml"
    config = Config(toml_file=config_path) if toml else Config(config_path)
    location = str(config.get_alembic_option("script_location") or "")
    # alembic resolves a relative script_location from the working directory: use the project's
    if location and ":" not in location and not Path(location).is_absolute():
        config.set_main_option("script_location", str(project / location))
    saved_path = list(sys.path)
    try:
        script = ScriptDirectory.from_config(config)
        return set(script.get_heads()), script
    finally:
        sys.path[:] = saved_path


async def check_migrations(conn: Any, project: Path, tool: Tool) -> Check:
    """The database's alembic revision against the head of the project's migrations."""
    config_path = find_alembic_config(project)
    if config_path is None:
        return Check("migrations", SKIP, f"no alembic.ini in {project}")
    try:
        from alembic.runtime.migration import MigrationContext
    except ImportError:
        return Check(
            "migrations",
            FAIL,
            f"alembic is not installed: run `{install_command(tool, ['alembic'])}`",
        )
    try:
        heads, script = _heads(config_path, project)
    except Exception as exc:
        return Check("migrations", FAIL, f"cannot read the migrations of {config_path}: {exc}")
    current: set[str] = set(
        await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
    )
    shown_heads = ", ".join(sorted(heads)) or "(none)"
    details: dict[str, object] = {"current": sorted(current), "heads": sorted(heads)}
    upgrade = f"run `{tool.run}alembic upgrade head` in {project}"
    if len(heads) > 1:
        message = (
            f"the migrations have {len(heads)} heads ({shown_heads}): "
            f"run `{tool.run}alembic merge heads`"
        )
        return Check("migrations", FAIL, message, details)
    if not heads:
        message = (
            "the migrations have no revision yet: "
            f"run `{tool.run}alembic revision --autogenerate -m init`"
        )
        return Check("migrations", WARN, message, details)
    if current == heads:
        return Check("migrations", OK, f"the database is at head {shown_heads}", details)
    if not current:
        message = (
            f"the database has no alembic revision (head is {shown_heads}): {upgrade}, "
            f"or `{tool.run}alembic stamp head` if create_all() made its tables"
        )
        return Check("migrations", FAIL, message, details)
    unknown = sorted(rev for rev in current if _lookup(script, rev) is None)
    shown_current = ", ".join(sorted(current))
    if unknown:
        message = (
            f"the database is at {', '.join(unknown)}, a revision the migrations in {project} "
            "do not have: it was migrated by other code (another branch or checkout)"
        )
        return Check("migrations", FAIL, message, details)
    message = f"the database is at {shown_current}, behind head {shown_heads}: {upgrade}"
    return Check("migrations", FAIL, message, details)


def _lookup(script: Any, revision: str) -> Any:
    try:
        return script.get_revision(revision)
    except Exception:
        return None


async def live_checks(
    connect_url: str,
    url: DbUrl,
    *,
    in_memory: bool,
    timeout: float,
    workers: int,
    settings: AppSettings,
    project: Path,
    tool: Tool,
    layer: Path | None = None,
) -> list[Check]:
    """connect, pool and migrations; the connection and each check wait at most timeout seconds.
    With the project's db/urls.py (layer) the URL is translated first, as the app does."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    names = list(LIVE_CHECKS)
    server = url.backend != "sqlite"
    target: Any = connect_url
    connect_args: dict[str, Any] = {"timeout": timeout} if server else {}
    if layer is not None and server:
        try:
            target, tls_args = import_file(layer).asyncpg_url(connect_url)
        except ValueError as exc:
            failed = Check("connect", FAIL, f"the URL's TLS options: {exc}: fix them in the URL")
            return [failed] + [Check(name, SKIP, "no connection") for name in names[1:]]
        connect_args |= tls_args
    engine = create_async_engine(target, poolclass=NullPool, connect_args=connect_args)
    checks: list[Check] = []
    if not server:
        checks.append(Check("pool", SKIP, "SQLite has no server connection limit"))
    try:
        started = time.perf_counter()
        try:
            conn = await asyncio.wait_for(engine.connect(), timeout)
        except Exception as exc:
            checks.append(Check("connect", FAIL, describe_connect_error(exc, url, timeout)))
        else:
            connect_ms = (time.perf_counter() - started) * 1000
            steps: list[tuple[str, Callable[[], Awaitable[Check]]]] = [
                ("connect", lambda: check_connect(conn, url, connect_ms, in_memory)),
                ("pool", lambda: check_pool(conn, workers, settings)),
                ("migrations", lambda: check_migrations(conn, project, tool)),
            ]
            try:
                for name, step in steps:
                    if any(check.name == name for check in checks):
                        continue
                    try:
                        checks.append(await asyncio.wait_for(step(), timeout))
                    except Exception as exc:
                        message = describe_connect_error(exc, url, timeout)
                        checks.append(Check(name, FAIL, f"a query failed: {message}"))
                        break
            finally:
                try:
                    await asyncio.wait_for(conn.close(), timeout)
                except Exception:
                    pass  # the report already says what went wrong on this connection
    finally:
        await engine.dispose()
    done = {check.name for check in checks}
    checks += [Check(name, SKIP, "no connection") for name in names if name not in done]
    return sorted(checks, key=lambda check: names.index(check.name))
