"""Database settings from the environment and ./.env, read the same way by the app, Alembic and
the scripts."""

from typing import Literal, Self

from pydantic import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# development only: with APP_ENV=production an unset DATABASE_URL stops the app at start
DEFAULT_URL = "sqlite+aiosqlite:///./app.db"


class SettingsError(ValueError):
    """A setting is missing or impossible; the message is one line that names the variable."""


class DatabaseSettings(BaseSettings):
    """Each field is the environment variable of the same name, in upper case."""

    # a variable in the environment wins over ./.env, which python-dotenv parses (quotes,
    # `export`, inline `# comments`); an empty value counts as unset; other variables are ignored
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_URL
    # the direct connection for Alembic when the app's URL goes through a pooler
    migrations_database_url: str | None = None

    # connections kept open; an overflow connection is closed when it comes back to a full
    # pool, so a steady load above pool_size would connect and disconnect all the time
    db_pool_size: PositiveInt = 10
    db_max_overflow: NonNegativeInt = 0
    # seconds a request waits for a pooled connection before the app answers 503
    db_pool_timeout: PositiveFloat = 5.0
    # seconds after which a connection is replaced, below most server and proxy idle limits
    db_pool_recycle: PositiveInt = 1800
    # a liveness check for pooled connections: a ping at checkout for a connection that sat
    # idle DB_POOL_PING_AFTER_IDLE seconds (0: at every checkout), and one more try for a read
    # whose connection was dropped in use; false turns both off
    db_pool_pre_ping: bool = True
    db_pool_ping_after_idle: NonNegativeFloat = 10.0
    # PgBouncer (transaction or statement pooling) in front of PostgreSQL: no named
    # prepared statements, which another client's transaction could find or lack
    db_pgbouncer: bool = False
    db_echo: bool = False

    # seconds; 0 turns a limit off (for PostgreSQL's server-side timeouts the value set on the
    # role or database then applies, by default none)
    # connecting, and the checkout ping: a server that does not answer in time is unreachable
    db_connect_timeout: PositiveFloat = 5.0
    # PostgreSQL cancels a longer statement (SQLSTATE 57014) and keeps the connection
    db_statement_timeout: NonNegativeFloat = 15.0
    # PostgreSQL ends a session left idle inside a transaction (a handler stuck elsewhere)
    db_idle_in_transaction_timeout: NonNegativeFloat = 30.0
    # the client stops waiting for any one answer (a half-open connection never sends one);
    # above the statement timeout, so that the server's cancel comes first when it can
    db_command_timeout: NonNegativeFloat = 20.0
    # Alembic gives up on a lock instead of queueing every query behind its ALTER
    db_migration_lock_timeout: NonNegativeFloat = 5.0
    # a SQLite writer waits this long for another writer's lock, then fails with "database is
    # locked" (0: fails at once)
    db_sqlite_busy_timeout: NonNegativeFloat = 5.0

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.app_env == "production" and "database_url" not in self.model_fields_set:
            raise ValueError("DATABASE_URL is not set, and APP_ENV=production needs it")
        for name in ("database_url", "migrations_database_url"):
            value = getattr(self, name)
            try:
                if value is not None:
                    make_url(value)
            except ArgumentError:
                # the value itself may hold a password: name the variable, never echo it
                raise ValueError(f"{name.upper()} is not a database URL") from None
        if self.db_pool_ping_after_idle >= self.db_pool_recycle:
            raise ValueError(
                "DB_POOL_PING_AFTER_IDLE must be below DB_POOL_RECYCLE, or no connection would "
                "ever be pinged: each is replaced before it has been idle that long"
            )
        if 0 < self.db_command_timeout <= self.db_statement_timeout:
            raise ValueError(
                "DB_COMMAND_TIMEOUT must be above DB_STATEMENT_TIMEOUT (or 0), so that the server "
                "cancels a slow statement before the client gives up on the connection"
            )
        return self

    @property
    def url_is_default(self) -> bool:
        """True when DATABASE_URL was not set and the development SQLite file is used."""
        return "database_url" not in self.model_fields_set

    @classmethod
    def load(cls) -> Self:
        """Read the settings; a bad or missing value raises SettingsError with one line."""
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return message
    name = str(error["loc"][0]).upper()
    value = "" if name.endswith("_URL") else f", got {error['input']!r}"
    return f"{name}: {message[0].lower()}{message[1:]}{value}"
