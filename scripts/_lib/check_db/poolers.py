"""Poolers recognised from a PostgreSQL URL's host and port, and the app settings each needs.

Standard library only: the pooler check runs where SQLAlchemy is not installed, on the URL alone.
"""

from dataclasses import dataclass
from typing import Any

from _lib.cli import FAIL, OK, SKIP, WARN, Check
from _lib.urls import DbUrl, parse


@dataclass(frozen=True)
class Pooler:
    # what it is, as the report names it
    name: str
    # True when it is known to pool by transaction; a bare PgBouncer port may pool by session
    transaction_mode: bool
    # where migrations go instead: the direct host and port
    direct: str


def recognise(url: DbUrl) -> Pooler | None:
    """The pooler a URL points at, by the providers' documented hosts and ports; None for a
    direct connection (or a pooler on a port and host of its own, which no URL can tell)."""
    if url.backend not in {"postgres", "postgresql"}:
        return None
    host = (url.host or "").lower()
    endpoint, _, domain = host.partition(".")
    if url.port == 6543:
        return Pooler(
            "Supabase's Supavisor in transaction mode (port 6543)",
            True,
            "the direct host db.<project-ref>.supabase.co:5432, or the pooler's session mode "
            "on port 5432",
        )
    if endpoint.endswith("-pooler"):
        direct = f"{endpoint.removesuffix('-pooler')}.{domain}" if domain else "the direct host"
        return Pooler("Neon's pooler (a -pooler host: PgBouncer in transaction mode)", True, direct)
    if url.port == 6432:
        return Pooler(
            "PgBouncer (port 6432)", False, "the server's own host and port (5432), not PgBouncer's"
        )
    return None


def check_pooler(url: DbUrl, values: dict[str, Any] | None) -> Check:
    """Behind a recognised pooler: DB_PGBOUNCER on, migrations over the direct connection."""
    if url.backend == "sqlite":
        return Check("pooler", SKIP, "SQLite has no pooler")
    pooler = recognise(url)
    if pooler is None:
        return Check(
            "pooler", OK, f"{url.address} is not a known pooler's port or host: a direct connection"
        )
    details: dict[str, object] = {"pooler": pooler.name, "direct": pooler.direct}
    if values is None:
        return Check(
            "pooler",
            SKIP,
            f"{url.address} is {pooler.name}, but the app's settings do not load: fix settings "
            "first, then DB_PGBOUNCER and MIGRATIONS_DATABASE_URL are checked",
            details,
        )
    missing: list[str] = []
    if not values.get("db_pgbouncer"):
        missing.append(
            "set DB_PGBOUNCER=true (prepared-statement caches off, no server timeouts sent at "
            "connect: set them on the role, ALTER ROLE ... SET statement_timeout)"
        )
    if "db_pgbouncer_prepared_statements" in values and not values.get(
        "db_pgbouncer_prepared_statements"
    ):
        missing.append(
            "with PgBouncer 1.21+ and max_prepared_statements on, "
            "DB_PGBOUNCER_PREPARED_STATEMENTS=true keeps the statement caches"
        )
    migrations = values.get("migrations_database_url")
    if not migrations:
        missing.append(f"set MIGRATIONS_DATABASE_URL to the direct connection ({pooler.direct})")
    else:
        try:
            through = recognise(parse(str(migrations)))
        except ValueError:
            through = None
        if through is not None:
            missing.append(
                f"MIGRATIONS_DATABASE_URL goes through a pooler too ({through.name}): point it "
                f"at the direct connection ({pooler.direct})"
            )
    serverless = (
        "on serverless platforms (a process per request) build the engine with "
        "poolclass=NullPool, as the pooler pools already"
    )
    if not missing:
        message = (
            f"{url.address} is {pooler.name}: DB_PGBOUNCER is on and MIGRATIONS_DATABASE_URL "
            f"goes direct; {serverless}"
        )
        return Check("pooler", OK, message, details)
    status = FAIL if pooler.transaction_mode and not values.get("db_pgbouncer") else WARN
    details["missing"] = missing
    message = f"{url.address} is {pooler.name}: {'; '.join(missing)}; {serverless}"
    return Check("pooler", status, message, details)
