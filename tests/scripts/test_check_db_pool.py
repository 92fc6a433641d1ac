"""check_db.py compares workers x (pool_size + max_overflow), as the app's settings say, with the
connections the server allows."""

import re

import pytest

import check_db
from tests.scripts.support import line, run, with_password

pytestmark = pytest.mark.postgresql


@pytest.mark.parametrize(
    ("environment", "workers", "code", "expected"),
    [
        pytest.param(
            {},
            "1000",
            1,
            r"WARN pool: 1000 worker\(s\) x \(pool_size 10 \+ max_overflow 0\) = 10000 is more "
            r"than the \d+ the server allows \(.+\): under load the app gets 'too many clients'; "
            r"run at most \d+ workers, raise max_connections, or put PgBouncer in front",
            id="budget-over-max-connections",
        ),
        pytest.param(
            {"DB_PGBOUNCER": "true"},
            "1000",
            0,
            r"SKIP pool: DB_PGBOUNCER is on, so the app's 10000 connections go to PgBouncer "
            r"\(max_client_conn\); its server-side pools must fit \d+ .*",
            id="left-to-pgbouncer",
        ),
        pytest.param(
            {"DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1"},
            "3",
            0,
            r"OK   pool: 3 worker\(s\) x \(pool_size 2 \+ max_overflow 1\) = 9 fits \d+ .*",
            id="settings-from-environment",
        ),
    ],
)
def test_compare_pool_budget_with_server_limit(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgresql_url: str,
    environment: dict[str, str],
    workers: str,
    code: int,
    expected: str,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    url = with_password(postgresql_url)
    result, output = run(check_db.main, capsys, "--url", url, "--workers", workers)
    assert result == code, output
    assert re.fullmatch(expected, line(output, "pool")), line(output, "pool")
    assert "OK   connect: PostgreSQL " in output


def test_skip_pool_budget_when_settings_do_not_load(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "five")
    code, output = run(check_db.main, capsys, "--url", with_password(postgresql_url))
    assert code == 1
    assert line(output, "settings").startswith(
        "FAIL settings: DB_POOL_SIZE: input should be a valid integer"
    )
    assert "the app would not start" in line(output, "settings")
    assert line(output, "pool") == "SKIP pool: the app's settings do not load: fix settings first"
    assert line(output, "connect").startswith("OK   connect: PostgreSQL")
