"""check_db.py compares workers x (pool_size + max_overflow), as the app's settings say, with the
connections the server allows."""

import re

import pytest

import check_db
from tests.scripts.support import line, run, with_password

pytestmark = pytest.mark.postgresql


def test_warn_when_pool_budget_exceeds_max_connections(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    code, output = run(
        check_db.main, capsys, "--url", with_password(postgresql_url), "--workers", "1000"
    )
    assert code == 1
    pool = line(output, "pool")
    assert pool.startswith(
        "WARN pool: 1000 worker(s) x (pool_size 5 + max_overflow 10) = 15000 is more than the "
    )
    assert "'too many clients'" in pool
    assert re.search(r"; run at most \d+ workers, raise max_connections, or put PgBouncer", pool)
    assert "OK   connect: PostgreSQL " in output


def test_leave_pool_budget_to_pgbouncer_when_enabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_PGBOUNCER", "true")
    code, output = run(
        check_db.main, capsys, "--url", with_password(postgresql_url), "--workers", "1000"
    )
    assert code == 0, output
    assert line(output, "pool").startswith(
        "SKIP pool: DB_PGBOUNCER is on, so the app's 15000 connections go to PgBouncer "
        "(max_client_conn); its server-side pools must fit "
    )


def test_read_pool_settings_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "1")
    code, output = run(
        check_db.main, capsys, "--url", with_password(postgresql_url), "--workers", "3"
    )
    assert code == 0, output
    assert line(output, "pool").startswith(
        "OK   pool: 3 worker(s) x (pool_size 2 + max_overflow 1) = 9 fits "
    )


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
