"""Database settings read from the environment (or a .env file), so one code path serves every
deployment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "sqlite+aiosqlite:///./app.db"


def read_dotenv(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of a .env file (none if it does not exist); # starts a comment line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.strip().removeprefix("export ").partition("=")
        if not sep or key.startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _raw(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    return raw or None


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = _raw(environ, name)
    try:
        return default if raw is None else int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = _raw(environ, name)
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (_raw(environ, name) or "").lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class DatabaseSettings:
    """Connection URL and pool options; the pool options apply to server databases only."""

    url: str = DEFAULT_URL
    pool_size: int = 5
    max_overflow: int = 10
    # seconds a request waits for a pooled connection before the app answers 503
    pool_timeout: float = 10.0
    # seconds after which a connection is replaced, below most server and proxy idle limits
    pool_recycle: int = 1800
    pool_pre_ping: bool = True
    # PgBouncer (transaction or statement pooling) in front of PostgreSQL: no named
    # prepared statements, which another client's transaction could find or lack
    pgbouncer: bool = False
    echo: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "DatabaseSettings":
        """Settings from environ; by default the process environment over ./.env."""
        if environ is None:
            # the app, Alembic and the scripts all read the same place: a variable set in the
            # environment wins, a .env file in the working directory fills in the rest
            environ = {**read_dotenv(Path(".env")), **os.environ}
        return cls(
            url=environ.get("DATABASE_URL") or DEFAULT_URL,
            pool_size=_int(environ, "DB_POOL_SIZE", cls.pool_size),
            max_overflow=_int(environ, "DB_MAX_OVERFLOW", cls.max_overflow),
            pool_timeout=_float(environ, "DB_POOL_TIMEOUT", cls.pool_timeout),
            pool_recycle=_int(environ, "DB_POOL_RECYCLE", cls.pool_recycle),
            pool_pre_ping=_bool(environ, "DB_POOL_PRE_PING", cls.pool_pre_ping),
            pgbouncer=_bool(environ, "DB_PGBOUNCER", cls.pgbouncer),
            echo=_bool(environ, "DB_ECHO", cls.echo),
        )
