"""DatabaseSettings.from_env: the environment variables the asset app reads."""

from pathlib import Path

import pytest

from app.db.config import DEFAULT_URL, DatabaseSettings, read_dotenv


def test_from_env_defaults_to_sqlite_file() -> None:
    settings = DatabaseSettings.from_env({})
    assert settings.url == DEFAULT_URL
    assert (settings.pool_size, settings.max_overflow, settings.pool_pre_ping) == (5, 10, True)


def test_from_env_reads_pool_options() -> None:
    settings = DatabaseSettings.from_env(
        {
            "DATABASE_URL": "postgresql+asyncpg://app@db/app",
            "DB_POOL_SIZE": "20",
            "DB_MAX_OVERFLOW": "0",
            "DB_POOL_TIMEOUT": "2.5",
            "DB_POOL_RECYCLE": "300",
            "DB_POOL_PRE_PING": "false",
            "DB_ECHO": "1",
        }
    )
    assert settings == DatabaseSettings(
        url="postgresql+asyncpg://app@db/app",
        pool_size=20,
        max_overflow=0,
        pool_timeout=2.5,
        pool_recycle=300,
        pool_pre_ping=False,
        echo=True,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_POOL_SIZE", "five", "DB_POOL_SIZE must be a whole number, got 'five'"),
        ("DB_POOL_TIMEOUT", "soon", "DB_POOL_TIMEOUT must be a number of seconds, got 'soon'"),
        ("DB_POOL_PRE_PING", "maybe", "DB_POOL_PRE_PING must be true or false, got 'maybe'"),
    ],
)
def test_from_env_names_the_bad_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        DatabaseSettings.from_env({name: value})
    assert str(excinfo.value) == message


def test_from_env_reads_dotenv_under_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "# local settings\n"
        "DATABASE_URL='postgresql+asyncpg://app:p%40ss@127.0.0.1:5432/app'\n"
        "export DB_POOL_SIZE=7\n"
        "DB_MAX_OVERFLOW=3\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_POOL_SIZE", raising=False)
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    settings = DatabaseSettings.from_env()
    assert settings.url == "postgresql+asyncpg://app:p%40ss@127.0.0.1:5432/app"
    assert settings.pool_size == 7
    assert settings.max_overflow == 0


def test_from_env_without_dotenv_uses_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert read_dotenv(tmp_path / ".env") == {}
    assert DatabaseSettings.from_env().url == DEFAULT_URL
