"""check_db.py connects within --timeout and turns each way a connection fails into the fix:
nothing listening, no answer, a wrong password or user, a missing database, SSL not offered."""

import json
import os
import pwd
import re
import sqlite3

import pytest
from sqlalchemy.engine import make_url

import check_db
from tests.helpers import free_port
from tests.scripts.support import PASSWORD, line, run, with_password


@pytest.mark.postgresql
def test_report_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    url = f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{port}/app"
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 1
    assert line(output, "connect") == (
        f"FAIL connect: connection refused at 127.0.0.1:{port}: nothing listens there; "
        "start PostgreSQL or fix the host and port in the URL"
    )


@pytest.mark.postgresql
def test_report_server_that_never_answers_within_timeout(
    capsys: pytest.CaptureFixture[str], silent_server: int
) -> None:
    url = f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{silent_server}/app"
    code, output = run(check_db.main, capsys, "--url", url, "--timeout", "0.3")
    assert code == 1
    assert line(output, "connect").startswith(
        f"FAIL connect: no answer from 127.0.0.1:{silent_server} within 0.3 s: "
    )


@pytest.mark.postgresql
def test_report_wrong_password(capsys: pytest.CaptureFixture[str], scram_server: str) -> None:
    # the right password is the one the output must never show, so the URL carries a wrong one
    # that contains it
    url = f"postgresql+asyncpg://postgres:{PASSWORD}x@{scram_server}/postgres"
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 1
    assert line(output, "connect") == (
        f"FAIL connect: password authentication failed for user 'postgres' at {scram_server}: "
        "the password is wrong or the user does not exist; "
        "fix the URL (percent-encode special characters)"
    )


@pytest.mark.postgresql
def test_report_unknown_user_on_server_that_checks_passwords(
    capsys: pytest.CaptureFixture[str], scram_server: str
) -> None:
    # with scram-sha-256 the server does not say whether the user exists
    url = f"postgresql+asyncpg://nobody_here:{PASSWORD}@{scram_server}/postgres"
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 1
    assert line(output, "connect").startswith(
        "FAIL connect: password authentication failed for user 'nobody_here'"
    )


@pytest.mark.postgresql
def test_connect_with_right_password_never_shows_it(
    capsys: pytest.CaptureFixture[str], scram_server: str
) -> None:
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@{scram_server}/postgres"
    code, output = run(check_db.main, capsys, "--url", url, "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["url"] == f"postgresql+asyncpg://postgres:***@{scram_server}/postgres"


@pytest.mark.postgresql
def test_report_unknown_user_on_trusting_server(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    url = make_url(with_password(postgresql_url)).set(username="check_db_no_such_user")
    code, output = run(check_db.main, capsys, "--url", url.render_as_string(hide_password=False))
    assert code == 1
    assert line(output, "connect").startswith(
        "FAIL connect: user 'check_db_no_such_user' does not exist at "
    )
    assert "create it (CREATE ROLE \"check_db_no_such_user\" LOGIN PASSWORD '...')" in output


@pytest.mark.postgresql
def test_report_unknown_database(capsys: pytest.CaptureFixture[str], postgresql_url: str) -> None:
    url = make_url(with_password(postgresql_url)).set(database="check_db_no_such_db")
    code, output = run(check_db.main, capsys, "--url", url.render_as_string(hide_password=False))
    assert code == 1
    assert line(output, "connect").startswith(
        "FAIL connect: database 'check_db_no_such_db' does not exist at "
    )
    assert "(createdb -h 127.0.0.1 -p 5432 -U postgres check_db_no_such_db)" in output


@pytest.mark.postgresql
def test_report_ssl_that_server_does_not_offer(
    capsys: pytest.CaptureFixture[str], scram_server: str
) -> None:
    # initdb leaves SSL off, as on many development servers
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@{scram_server}/postgres?ssl=require"
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 1
    assert line(output, "connect") == (
        f"FAIL connect: {scram_server} does not offer SSL but the URL asks for it: "
        "remove ssl= or use ssl=prefer"
    )


def test_pass_every_check(capsys: pytest.CaptureFixture[str], empty_database_url: str) -> None:
    sqlite = empty_database_url.startswith("sqlite")
    if sqlite:
        database = make_url(empty_database_url).database
        assert database
        sqlite3.connect(database).close()
        url = empty_database_url
    else:
        url = with_password(empty_database_url)
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 0, output
    server = r"SQLite 3\.\d+\.\d+" if sqlite else r"PostgreSQL 1\d\.\d+ .*"
    assert re.fullmatch(
        rf"OK   connect: {server}: connected in \d+ ms, round trip \d+\.\d\d ms \(median of 5\)",
        line(output, "connect"),
    )
    if sqlite:
        user = pwd.getpwuid(os.geteuid()).pw_name
        assert (
            line(output, "sqlite-path")
            == f"OK   sqlite-path: {database} exists and is writable by {user}"
        )
        assert line(output, "pool") == "SKIP pool: SQLite has no server connection limit"
    else:
        assert re.fullmatch(
            r"OK   pool: 1 worker\(s\) x \(pool_size 5 \+ max_overflow 10\) = 15 fits \d+ "
            r"\(max_connections \d+ - \d+ reserved; \d+ in use now\)",
            line(output, "pool"),
        )
    assert output.rstrip().endswith("check_db.py: all checks passed (7 ok, 2 skip)")
