"""DatabaseSettings: the environment variables and .env lines the asset app reads."""

from pathlib import Path

import pytest

from app.db.config import DEFAULT_URL, DatabaseSettings, SettingsError

NAMES = (
    "APP_ENV",
    "DATABASE_URL",
    "MIGRATIONS_DATABASE_URL",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_POOL_TIMEOUT",
    "DB_POOL_RECYCLE",
    "DB_POOL_PRE_PING",
    "DB_POOL_PING_AFTER_IDLE",
    "DB_PGBOUNCER",
    "DB_ECHO",
    "DB_CONNECT_TIMEOUT",
    "DB_STATEMENT_TIMEOUT",
    "DB_IDLE_IN_TRANSACTION_TIMEOUT",
    "DB_COMMAND_TIMEOUT",
    "DB_MIGRATION_LOCK_TIMEOUT",
    "DB_SQLITE_BUSY_TIMEOUT",
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory and an environment without the app's variables."""
    monkeypatch.chdir(tmp_path)
    for name in (*NAMES, "URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_load_defaults_to_sqlite_file_in_development(env: Path) -> None:
    settings = DatabaseSettings.load()
    assert settings.database_url == DEFAULT_URL
    assert settings.url_is_default
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_pool_pre_ping) == (
        10,
        0,
        True,
    )


def test_load_without_url_in_production_names_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(SettingsError) as excinfo:
        DatabaseSettings.load()
    assert str(excinfo.value) == "DATABASE_URL is not set, and APP_ENV=production needs it"


def test_load_reads_every_variable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql+asyncpg://app@pooler:6432/app",
        "MIGRATIONS_DATABASE_URL": "postgresql+asyncpg://app@db:5432/app",
        "DB_POOL_SIZE": "20",
        "DB_MAX_OVERFLOW": "0",
        "DB_POOL_TIMEOUT": "2.5",
        "DB_POOL_RECYCLE": "300",
        "DB_POOL_PRE_PING": "false",
        "DB_POOL_PING_AFTER_IDLE": "30",
        "DB_PGBOUNCER": "true",
        "DB_ECHO": "1",
        "DB_CONNECT_TIMEOUT": "3",
        "DB_STATEMENT_TIMEOUT": "0",
        "DB_IDLE_IN_TRANSACTION_TIMEOUT": "12",
        "DB_COMMAND_TIMEOUT": "8",
        "DB_MIGRATION_LOCK_TIMEOUT": "2",
        "DB_SQLITE_BUSY_TIMEOUT": "9",
    }
    assert set(values) == set(NAMES)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = DatabaseSettings.load()
    assert settings.model_dump() == {
        "app_env": "production",
        "database_url": "postgresql+asyncpg://app@pooler:6432/app",
        "migrations_database_url": "postgresql+asyncpg://app@db:5432/app",
        "db_pool_size": 20,
        "db_max_overflow": 0,
        "db_pool_timeout": 2.5,
        "db_pool_recycle": 300,
        "db_pool_pre_ping": False,
        "db_pool_ping_after_idle": 30.0,
        "db_pgbouncer": True,
        "db_echo": True,
        "db_connect_timeout": 3.0,
        "db_statement_timeout": 0.0,
        "db_idle_in_transaction_timeout": 12.0,
        "db_command_timeout": 8.0,
        "db_migration_lock_timeout": 2.0,
        "db_sqlite_busy_timeout": 9.0,
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "DB_POOL_SIZE",
            "five",
            "DB_POOL_SIZE: input should be a valid integer, unable to parse string as an "
            "integer, got 'five'",
        ),
        ("DB_POOL_SIZE", "0", "DB_POOL_SIZE: input should be greater than 0, got '0'"),
        ("DB_POOL_TIMEOUT", "-1", "DB_POOL_TIMEOUT: input should be greater than 0, got '-1'"),
        (
            "DB_POOL_PRE_PING",
            "maybe",
            "DB_POOL_PRE_PING: input should be a valid boolean, unable to interpret input, "
            "got 'maybe'",
        ),
        (
            "DB_POOL_PING_AFTER_IDLE",
            "-1",
            "DB_POOL_PING_AFTER_IDLE: input should be greater than or equal to 0, got '-1'",
        ),
        (
            "DB_POOL_PING_AFTER_IDLE",
            "1800",
            "DB_POOL_PING_AFTER_IDLE must be below DB_POOL_RECYCLE, or no connection would ever "
            "be pinged: each is replaced before it has been idle that long",
        ),
        (
            "APP_ENV",
            "prod",
            "APP_ENV: input should be 'development', 'test' or 'production', got 'prod'",
        ),
        (
            "DB_COMMAND_TIMEOUT",
            "10",
            "DB_COMMAND_TIMEOUT must be above DB_STATEMENT_TIMEOUT (or 0), so that the server "
            "cancels a slow statement before the client gives up on the connection",
        ),
        # the value of a URL variable may hold a password: it is never repeated
        ("DATABASE_URL", "postgres ql://app:s3cret@db/app", "DATABASE_URL is not a database URL"),
    ],
)
def test_load_names_the_bad_variable_in_one_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as excinfo:
        DatabaseSettings.load()
    assert str(excinfo.value) == message
    assert "s3cret" not in str(excinfo.value)


def test_load_reads_dotenv_under_environment(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / ".env").write_text(
        "# local settings\n"
        "DATABASE_URL='postgresql+asyncpg://app:p%40ss@127.0.0.1:5432/app'\n"
        "export DB_POOL_SIZE=7\n"
        "DB_MAX_OVERFLOW=3\n"
    )
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    settings = DatabaseSettings.load()
    assert settings.database_url == "postgresql+asyncpg://app:p%40ss@127.0.0.1:5432/app"
    assert settings.db_pool_size == 7
    assert settings.db_max_overflow == 0


def test_load_drops_inline_comments_from_dotenv(env: Path) -> None:
    # a hand-written parser keeps "  # production" as part of the database name
    (env / ".env").write_text(
        "DATABASE_URL=postgresql+asyncpg://app@db/app  # production\nDB_POOL_SIZE=7 # seven\n"
    )
    settings = DatabaseSettings.load()
    assert settings.database_url == "postgresql+asyncpg://app@db/app"
    assert settings.db_pool_size == 7


def test_load_treats_empty_values_as_unset(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / ".env").write_text("DB_POOL_SIZE=\n")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = DatabaseSettings.load()
    assert settings.url_is_default
    assert settings.db_pool_size == 10


def test_load_ignores_other_variables(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a field called database_url must not be fed by a variable called URL
    monkeypatch.setenv("URL", "postgresql+asyncpg://elsewhere/db")
    (env / ".env").write_text("SECRET_KEY=abc\n")
    assert DatabaseSettings.load().database_url == DEFAULT_URL
