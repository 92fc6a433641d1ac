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
from tests.scripts.support import PASSWORD, line, run, with_password
from tests.servers import free_port

# case: (server, URL with {address} and {password}, extra arguments, the connect line's start)
CONNECT_FAILURES = {
    "refused": (
        "closed",
        "postgresql+asyncpg://app:{password}@{address}/app",
        (),
        "FAIL connect: connection refused at {address}: nothing listens there; "
        "start PostgreSQL or fix the host and port in the URL",
    ),
    "no-answer-within-timeout": (
        "silent",
        "postgresql+asyncpg://app:{password}@{address}/app",
        ("--timeout", "0.3"),
        "FAIL connect: no answer from {address} within 0.3 s: ",
    ),
    # the right password is the one the output must never show: the URL's wrong one contains it
    "wrong-password": (
        "scram",
        "postgresql+asyncpg://postgres:{password}x@{address}/postgres",
        (),
        "FAIL connect: password authentication failed for user 'postgres' at {address}: "
        "the password is wrong or the user does not exist; "
        "fix the URL (percent-encode special characters)",
    ),
    # with scram-sha-256 the server does not say whether the user exists
    "unknown-user-password-checked": (
        "scram",
        "postgresql+asyncpg://nobody_here:{password}@{address}/postgres",
        (),
        "FAIL connect: password authentication failed for user 'nobody_here'",
    ),
    "unknown-user-trusted": (
        "local",
        "postgresql+asyncpg://check_db_no_such_user:{password}@{address}/postgres",
        (),
        "FAIL connect: user 'check_db_no_such_user' does not exist at {address}: create it "
        "(CREATE ROLE \"check_db_no_such_user\" LOGIN PASSWORD '...')",
    ),
    "unknown-database": (
        "local",
        "postgresql+asyncpg://postgres:{password}@{address}/check_db_no_such_db",
        (),
        "FAIL connect: database 'check_db_no_such_db' does not exist at {address}: create it "
        "(createdb -h 127.0.0.1 -p 5432 -U postgres check_db_no_such_db)",
    ),
    # initdb leaves SSL off, as on many development servers
    "ssl-not-offered": (
        "scram",
        "postgresql+asyncpg://postgres:{password}@{address}/postgres?ssl=require",
        (),
        "FAIL connect: {address} does not offer SSL but the URL asks for it: "
        "remove ssl=/sslmode= or set it to prefer (postgresql+asyncpg://postgres:***@{address}"
        "/postgres?ssl=prefer), or turn ssl on in the server",
    ),
}


def server_address(kind: str, request: pytest.FixtureRequest) -> str:
    if kind == "closed":
        return f"127.0.0.1:{free_port()}"
    if kind == "silent":
        return f"127.0.0.1:{request.getfixturevalue('silent_server')}"
    if kind == "scram":
        return str(request.getfixturevalue("scram_server"))
    url = make_url(request.getfixturevalue("postgresql_url"))
    return f"{url.host}:{url.port or 5432}"


@pytest.mark.postgresql
@pytest.mark.parametrize("case", list(CONNECT_FAILURES))
def test_report_connection_failure_with_fix(
    case: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    server, url, args, expected = CONNECT_FAILURES[case]
    address = server_address(server, request)
    given = url.format(address=address, password=PASSWORD)
    code, output = run(check_db.main, capsys, "--url", given, *args)
    assert code == 1
    assert line(output, "connect").startswith(expected.format(address=address))


@pytest.mark.postgresql
def test_connect_with_right_password_never_shows_it(
    capsys: pytest.CaptureFixture[str], scram_server: str
) -> None:
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@{scram_server}/postgres"
    code, output = run(check_db.main, capsys, "--url", url, "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["url"] == f"postgresql+asyncpg://postgres:***@{scram_server}/postgres"


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
            r"OK   pool: 1 worker\(s\) x \(pool_size 10 \+ max_overflow 0\) = 10 fits \d+ "
            r"\(max_connections \d+ - \d+ reserved; \d+ in use now\)",
            line(output, "pool"),
        )
    # SQLite skips pool and pooler, PostgreSQL sqlite-path; both skip migrations (no alembic.ini)
    summary = "7 ok, 3 skip" if sqlite else "8 ok, 2 skip"
    assert output.rstrip().endswith(f"check_db.py: all checks passed ({summary})")
