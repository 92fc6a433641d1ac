"""scripts/check_db.py: one line per check, the fix for each common mistake, never a password."""

import asyncio
import importlib.util
import json
import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.scripts.check_db_cluster import ClusterUnavailable, free_port, scram_cluster
from tests.scripts.pipes import run_with_closed_stdout

ROOT = Path(__file__).resolve().parents[2]
CHECK_DB = ROOT / "scripts" / "check_db.py"
PASSWORD = "Zq7-sw0rdfish"
CHECKS = ["url", "driver", "options", "sqlite-path", "installed", "connect", "pool", "migrations"]
PG = f"app:{PASSWORD}@127.0.0.1:5432/app"


def _load_main() -> Callable[[list[str]], int]:
    spec = importlib.util.spec_from_file_location("check_db_script", CHECK_DB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main: Callable[[list[str]], int] = module.main
    return main


main = _load_main()
# loaded by check_db.py from its own folder
url_checks: Any = sys.modules["_check_db_url"]
live_checks: Any = sys.modules["_check_db_live"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the script reads these and the working directory's .env; the tests choose them
    for name in (
        "DATABASE_URL",
        "DB_POOL_SIZE",
        "DB_MAX_OVERFLOW",
        "DB_PGBOUNCER",
        "WEB_CONCURRENCY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    return code, out + err


def line(output: str, check: str) -> str:
    found = re.search(rf"^(OK|WARN|FAIL|SKIP) +{re.escape(check)}: .*$", output, re.MULTILINE)
    assert found, f"no {check} line in:\n{output}"
    return found.group(0)


def with_password(url: str, password: str = PASSWORD) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def stamp(url: str, *revisions: str) -> None:
    """Write alembic's version table by hand, as if the database had been migrated."""

    async def write() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.begin() as conn:
            await conn.execute(
                text("create table alembic_version (version_num varchar(32) primary key)")
            )
            for revision in revisions:
                await conn.execute(text("insert into alembic_version values (:r)"), {"r": revision})
        await engine.dispose()

    asyncio.run(write())


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def scram_server() -> Iterator[str]:
    """127.0.0.1:PORT of a cluster that checks passwords; PASSWORD is the postgres user's."""
    try:
        with scram_cluster(PASSWORD) as address:
            yield address
    except ClusterUnavailable as exc:
        skip_or_fail(f"postgresql: {exc}")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port where the kernel accepts connections that nothing ever answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


BAD_URLS = [
    pytest.param(
        "", "url", "the URL from --url is empty: set it, e.g. postgresql+asyncpg://", id="empty"
    ),
    pytest.param(
        f"postgresql+asyncpg//app:{PASSWORD}@127.0.0.1/app",
        "url",
        "cannot parse 'postgresql+asyncpg//app:***@127.0.0.1/app' (from --url): expected "
        "dialect+driver://user:password@host:port/dbname",
        id="garbage",
    ),
    pytest.param(
        f"postgresql+asyncpg://app:p@{PASSWORD}@127.0.0.1/app",
        "url",
        "the host holds an '@', so the password has an '@' that is not percent-encoded: "
        "write it as %40",
        id="unencoded-at-in-password",
    ),
    pytest.param(
        f'"postgresql+asyncpg://{PG}"',
        "url",
        "(from --url): the URL is wrapped in quotes: remove them",
        id="quoted",
    ),
    pytest.param(
        f"postgresql+asyncpg://app@127.0.0.1/app?password={PASSWORD}&sslmode=require",
        "options",
        "use postgresql+asyncpg://app@127.0.0.1/app?password=***&ssl=require",
        id="password-in-query",
    ),
    pytest.param(
        f"postgresql+asyncpg://{PG}?ssl=prefer&sslrootcert=/etc/ca.pem",
        "options",
        "sslrootcert= is not an option of asyncpg.connect(): "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=prefer",
        id="unknown-option",
    ),
    pytest.param(
        f"mysql+aiomysql://{PG}",
        "driver",
        "dialect 'mysql' is not one this skill supports (PostgreSQL with asyncpg, "
        "SQLite with aiosqlite)",
        id="unknown-dialect",
    ),
    pytest.param(
        f"postgresql+psycopg2://{PG}",
        "driver",
        "psycopg2 is a sync driver and create_async_engine needs an async one: "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app",
        id="sync-driver-psycopg2",
    ),
    pytest.param(
        "sqlite+pysqlite:///./app.db",
        "driver",
        "pysqlite is a sync driver and create_async_engine needs an async one: "
        "use sqlite+aiosqlite:///./app.db",
        id="sync-driver-pysqlite",
    ),
    pytest.param(
        f"postgres://{PG}",
        "driver",
        "postgres:// is not a SQLAlchemy dialect name (Heroku and others print it): "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app",
        id="postgres-scheme",
    ),
    pytest.param(
        f"postgresql://{PG}",
        "driver",
        "postgresql:// names no driver, so SQLAlchemy 2.1 loads psycopg (2.0 loaded psycopg2), "
        "not asyncpg: use postgresql+asyncpg://app:***@127.0.0.1:5432/app",
        id="postgresql-without-driver",
    ),
    pytest.param(
        f"postgresql+asyncpg://{PG}?sslmode=require",
        "options",
        "sslmode= is libpq's name; asyncpg takes ssl=: "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=require",
        id="sslmode",
    ),
]


@pytest.mark.parametrize(("url", "check", "message"), BAD_URLS)
def test_report_url_mistake_with_fix(
    capsys: pytest.CaptureFixture[str], url: str, check: str, message: str
) -> None:
    code, output = run(capsys, "--url", url)
    assert code == 1
    assert line(output, check).startswith(f"FAIL {check}: ")
    assert message in line(output, check)
    assert "SKIP connect:" in output


@pytest.mark.postgresql
def test_connect_with_corrected_url_and_connect_args(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    # the URL a hosting provider prints, with libpq's options and numbers asyncpg gets as strings
    query = "sslmode=disable&connect_timeout=10&statement_cache_size=0&application_name=check_db"
    given = (
        with_password(postgresql_url).replace("postgresql+asyncpg://", "postgres://") + "?" + query
    )
    code, output = run(capsys, "--url", given, "--json")
    assert code == 1
    checks = {check["name"]: check for check in json.loads(output)["checks"]}
    assert checks["driver"]["status"] == checks["options"]["status"] == "fail"
    assert checks["options"]["message"].startswith(
        "sslmode= is libpq's name; asyncpg takes ssl=; "
        "connect_timeout= is libpq's name; asyncpg takes timeout as a number; "
        "statement_cache_size= reaches asyncpg as the string '0', which it cannot use; "
        "asyncpg takes application_name as a server setting: use postgresql+asyncpg://"
    )
    fixed, connect_args = checks["options"]["corrected_url"], checks["options"]["connect_args"]
    assert fixed == checks["driver"]["corrected_url"]
    assert connect_args == {
        "timeout": 10,
        "statement_cache_size": 0,
        "server_settings": {"application_name": "check_db"},
    }

    async def connect(url: str, **kwargs: Any) -> str:
        engine = create_async_engine(url, poolclass=NullPool, **kwargs)
        try:
            async with engine.connect() as conn:
                return str(await conn.scalar(text("show application_name")))
        finally:
            await engine.dispose()

    # the local server trusts every password, so the masked one connects too
    assert asyncio.run(connect(fixed, connect_args=connect_args)) == "check_db"
    fixed_scheme_only = given.replace("postgres://", "postgresql+asyncpg://")
    with pytest.raises(TypeError):
        asyncio.run(connect(fixed_scheme_only))


def test_report_missing_driver_with_install_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import asyncpg` fail as it does where it is not installed
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    code, output = run(capsys, "--url", f"postgresql+asyncpg://{PG}")
    assert code == 1
    assert "FAIL installed: asyncpg not installed for " in output
    assert "run `uv add asyncpg` in the project" in line(output, "installed")


def test_report_sqlalchemy_older_than_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy

    monkeypatch.setattr(sqlalchemy, "__version__", "1.4.54")
    code, output = run(capsys, "--url", f"postgresql+asyncpg://{PG}")
    assert code == 1
    assert line(output, "installed") == (
        "FAIL installed: SQLAlchemy 1.4.54 is older than the 2.0 this layer needs: "
        'run `uv add "sqlalchemy[asyncio]>=2.0.38"`'
    )


@pytest.mark.sqlite
def test_report_sqlite_directory_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "data"
    code, output = run(capsys, "--url", f"sqlite+aiosqlite:///{missing}/app.db")
    assert code == 1
    assert line(output, "sqlite-path") == (
        f"FAIL sqlite-path: directory {missing} does not exist: "
        f"create it (mkdir -p {missing}) or fix the path in the URL"
    )
    assert not missing.exists()


@pytest.mark.sqlite
def test_suggest_four_slashes_for_absolute_sqlite_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(capsys, "--url", "sqlite+aiosqlite:///tmp/app.db")
    assert code == 1
    assert (
        "for the absolute path /tmp/app.db write four slashes: sqlite+aiosqlite:////tmp/app.db"
        in (line(output, "sqlite-path"))
    )


@pytest.mark.sqlite
def test_report_sqlite_path_that_is_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(capsys, "--url", f"sqlite+aiosqlite:///{tmp_path}")
    assert code == 1
    assert line(output, "sqlite-path") == (
        f"FAIL sqlite-path: {tmp_path} is a directory, not a database file: "
        f"name a file in it, e.g. {tmp_path}/app.db"
    )


@pytest.fixture
def readonly_sqlite() -> Iterator[Path]:
    """A directory and a database file owned by root that the `nobody` user cannot write."""
    if os.geteuid() != 0 or not shutil.which("runuser") or not Path("/usr/bin/python3").exists():
        skip_or_fail("sqlite: needs root, runuser and /usr/bin/python3 to run as nobody")
    base = Path(tempfile.mkdtemp(prefix="check_db_ro_"))
    try:
        base.chmod(0o755)
        for name in ("check_db.py", "_check_db_url.py", "_check_db_live.py", "_cli.py"):
            shutil.copy(CHECK_DB.parent / name, base / name)
        sqlite3.connect(base / "app.db").close()
        (base / "app.db").chmod(0o644)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.sqlite
def test_report_sqlite_file_not_writable_by_user(readonly_sqlite: Path) -> None:
    def as_nobody(name: str) -> str:
        # the system python without site-packages: the path checks need only the standard library
        command = ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-S"]
        url = f"sqlite+aiosqlite:///{readonly_sqlite / name}"
        result = subprocess.run(
            [*command, str(readonly_sqlite / "check_db.py"), "--url", url],
            cwd=readonly_sqlite,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        return line(result.stdout, "sqlite-path")

    assert as_nobody("app.db") == (
        f"FAIL sqlite-path: {readonly_sqlite}/app.db is not writable by nobody: "
        "chown or chmod u+rw the file"
    )
    assert as_nobody("new.db") == (
        f"FAIL sqlite-path: directory {readonly_sqlite} is not writable by nobody: SQLite creates "
        "the database and its journal there; chown or chmod u+w the directory"
    )


@pytest.mark.postgresql
def test_report_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code, output = run(capsys, "--url", f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:{port}/app")
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
    code, output = run(capsys, "--url", url, "--timeout", "0.3")
    assert code == 1
    assert line(output, "connect").startswith(
        f"FAIL connect: no answer from 127.0.0.1:{silent_server} within 0.3 s: "
    )


@pytest.mark.postgresql
def test_report_wrong_password(capsys: pytest.CaptureFixture[str], scram_server: str) -> None:
    # the right password is the one the output must never show, so the URL carries a wrong one
    # that contains it
    code, output = run(
        capsys, "--url", f"postgresql+asyncpg://postgres:{PASSWORD}x@{scram_server}/postgres"
    )
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
    code, output = run(capsys, "--url", url)
    assert code == 1
    assert line(output, "connect").startswith(
        "FAIL connect: password authentication failed for user 'nobody_here'"
    )


@pytest.mark.postgresql
def test_connect_with_right_password_never_shows_it(
    capsys: pytest.CaptureFixture[str], scram_server: str
) -> None:
    url = f"postgresql+asyncpg://postgres:{PASSWORD}@{scram_server}/postgres"
    code, output = run(capsys, "--url", url, "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["url"] == f"postgresql+asyncpg://postgres:***@{scram_server}/postgres"


@pytest.mark.postgresql
def test_report_unknown_user_on_trusting_server(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    url = make_url(with_password(postgresql_url)).set(username="check_db_no_such_user")
    code, output = run(capsys, "--url", url.render_as_string(hide_password=False))
    assert code == 1
    assert line(output, "connect").startswith(
        "FAIL connect: user 'check_db_no_such_user' does not exist at "
    )
    assert "create it (CREATE ROLE \"check_db_no_such_user\" LOGIN PASSWORD '...')" in output


@pytest.mark.postgresql
def test_report_unknown_database(capsys: pytest.CaptureFixture[str], postgresql_url: str) -> None:
    url = make_url(with_password(postgresql_url)).set(database="check_db_no_such_db")
    code, output = run(capsys, "--url", url.render_as_string(hide_password=False))
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
    code, output = run(capsys, "--url", url)
    assert code == 1
    assert line(output, "connect") == (
        f"FAIL connect: {scram_server} does not offer SSL but the URL asks for it: "
        "remove ssl= or use ssl=prefer"
    )


@pytest.mark.postgresql
def test_warn_when_pool_budget_exceeds_max_connections(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    code, output = run(capsys, "--url", with_password(postgresql_url), "--workers", "1000")
    assert code == 1
    pool = line(output, "pool")
    assert pool.startswith(
        "WARN pool: 1000 worker(s) x (pool_size 5 + max_overflow 10) = 15000 is more than the "
    )
    assert "'too many clients'" in pool
    assert re.search(r"; run at most \d+ workers, raise max_connections, or put PgBouncer", pool)
    assert "OK   connect: PostgreSQL " in output


@pytest.mark.postgresql
def test_leave_pool_budget_to_pgbouncer_when_enabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_PGBOUNCER", "true")
    code, output = run(capsys, "--url", with_password(postgresql_url), "--workers", "1000")
    assert code == 0, output
    assert line(output, "pool").startswith(
        "SKIP pool: DB_PGBOUNCER is on, so the app's 15000 connections go to PgBouncer "
        "(max_client_conn); its server-side pools must fit "
    )


@pytest.mark.postgresql
def test_read_pool_settings_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "1")
    code, output = run(capsys, "--url", with_password(postgresql_url), "--workers", "3")
    assert code == 0, output
    assert line(output, "pool").startswith(
        "OK   pool: 3 worker(s) x (pool_size 2 + max_overflow 1) = 9 fits "
    )


@pytest.mark.postgresql
def test_report_pool_setting_that_is_not_a_number(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgresql_url: str
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "five")
    code, output = run(capsys, "--url", with_password(postgresql_url))
    assert code == 1
    assert line(output, "pool") == (
        "FAIL pool: DB_POOL_SIZE must be a whole number, got 'five': the app would not start"
    )


@pytest.mark.sqlite
def test_fall_back_to_app_default_url_without_any_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(capsys)
    assert code == 0, output
    assert line(output, "url") == (
        "OK   url: sqlite+aiosqlite:///./app.db (app default: DATABASE_URL is not set); for "
        "another database set DATABASE_URL, or add a DATABASE_URL=... line to "
        f"{tmp_path.resolve()}/.env (the app reads .env, and resolves a relative SQLite path, "
        "from the folder it is started in)"
    )
    assert f"OK   sqlite-path: {tmp_path.resolve()}/app.db does not exist yet" in output
    assert not (tmp_path / "app.db").exists()


@pytest.mark.sqlite
def test_fall_back_to_project_config_default_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    config = project / "src" / "shop" / "db" / "config.py"
    config.parent.mkdir(parents=True)
    config.write_text('"""settings"""\n\nDEFAULT_URL = "sqlite+aiosqlite:///./shop.db"\n')
    code = main(["--project", str(project), "--json"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (code, err) == (0, "")
    assert document["url"] == "sqlite+aiosqlite:///./shop.db"
    assert document["source"] == "app default: DATABASE_URL is not set"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "0"], "check_db: --timeout must be more than 0 seconds, got 0"),
        (["--workers", "0"], "check_db: --workers must be 1 or more, got 0"),
        (["--project", "no/such/dir"], "check_db: --project no/such/dir is not a directory"),
        (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ],
    ids=["timeout", "workers", "project", "unknown-flag"],
)
def test_exit_2_on_bad_usage(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, output = run(capsys, "--url", "sqlite+aiosqlite://", *args)
    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_read_url_from_project_dotenv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(
        f"# settings\nexport DATABASE_URL='postgres://app:{PASSWORD}@127.0.0.1/app'\n",
        encoding="utf-8",
    )
    code, output = run(capsys, "--project", str(project))
    assert code == 1
    assert line(output, "url") == (
        f"OK   url: postgres://app:***@127.0.0.1/app (from DATABASE_URL in {project}/.env)"
    )


def test_prefer_environment_over_dotenv(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://from-dotenv/app\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite://")
    code, output = run(capsys)
    assert code == 0, output
    assert line(output, "url") == "OK   url: sqlite+aiosqlite:// (from DATABASE_URL)"


def test_pass_every_check(capsys: pytest.CaptureFixture[str], empty_database_url: str) -> None:
    sqlite = empty_database_url.startswith("sqlite")
    if sqlite:
        database = make_url(empty_database_url).database
        assert database
        sqlite3.connect(database).close()
        url = empty_database_url
    else:
        url = with_password(empty_database_url)
    code, output = run(capsys, "--url", url)
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
    assert output.rstrip().endswith("check_db: all checks passed (6 ok, 2 skip)")


@pytest.mark.sqlite
def test_leave_absent_sqlite_file_uncreated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, output = run(capsys, "--url", "sqlite+aiosqlite:///./app.db")
    assert code == 0, output
    assert f"OK   sqlite-path: {tmp_path.resolve()}/app.db does not exist yet" in output
    assert "(in memory: the file does not exist yet)" in line(output, "connect")
    assert not (tmp_path / "app.db").exists()


def test_print_one_json_document_with_entry_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--url", f"postgresql://{PG}?sslmode=require", "--json"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (code, err) == (1, "")
    assert [check["name"] for check in document["checks"]] == CHECKS
    assert document["exit_code"] == 1 and document["ok"] is False
    driver = document["checks"][1]
    assert driver["status"] == "fail"
    assert driver["corrected_url"] == "postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=require"
    assert PASSWORD not in out


MIGRATION = 'revision = "{rev}"\ndown_revision = {down}\n\n\ndef upgrade() -> None:\n    pass\n'


@pytest.fixture
def alembic_project(tmp_path: Path) -> Path:
    """Two revisions, 0001 then 0002, with a relative script_location like `alembic init` writes."""
    project = tmp_path / "project"
    (project / "migrations" / "versions").mkdir(parents=True)
    (project / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n", encoding="utf-8"
    )
    for rev, down in (("0001", "None"), ("0002", '"0001"')):
        source = MIGRATION.format(rev=rev, down=down)
        (project / "migrations" / "versions" / f"{rev}.py").write_text(source, encoding="utf-8")
    return project


@pytest.mark.parametrize(
    ("revisions", "status", "message"),
    [
        ((), "FAIL", "the database has no alembic revision (head is 0002): run `uv run alembic "),
        (
            ("0001",),
            "FAIL",
            "the database is at 0001, behind head 0002: run `uv run alembic upgrade head` in ",
        ),
        (("0002",), "OK  ", "the database is at head 0002"),
        (("9999",), "FAIL", "the database is at 9999, a revision the migrations in "),
    ],
    ids=["unmigrated", "behind", "at-head", "unknown-revision"],
)
def test_compare_database_revision_with_migrations_head(
    capsys: pytest.CaptureFixture[str],
    empty_database_url: str,
    alembic_project: Path,
    revisions: tuple[str, ...],
    status: str,
    message: str,
) -> None:
    if revisions:
        stamp(empty_database_url, *revisions)
    url = (
        with_password(empty_database_url)
        if "postgresql" in empty_database_url
        else empty_database_url
    )
    code, output = run(capsys, "--url", url, "--project", str(alembic_project))
    assert code == (0 if status == "OK  " else 1), output
    assert line(output, "migrations").startswith(f"{status} migrations: {message}")


def test_compare_asset_migrations_after_upgrade(
    capsys: pytest.CaptureFixture[str], empty_database_url: str
) -> None:
    assets = ROOT / "assets"
    code, output = run(capsys, "--url", empty_database_url, "--project", str(assets))
    assert code == 1
    assert "FAIL migrations: the database has no alembic revision" in output
    upgrade = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=assets,
        env={**os.environ, "DATABASE_URL": empty_database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    code, output = run(capsys, "--url", empty_database_url, "--project", str(assets))
    assert code == 0, output
    assert line(output, "migrations").startswith("OK   migrations: the database is at head ")


@pytest.mark.sqlite
def test_run_from_another_directory(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = tmp_path / "app.db"
    sqlite3.connect(database).close()
    result = subprocess.run(
        [sys.executable, str(CHECK_DB), "--url", f"sqlite+aiosqlite:///{database}", "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True


def test_run_help_and_url_checks_without_sqlalchemy(tmp_path: Path) -> None:
    # -S leaves out site-packages, so neither SQLAlchemy nor any driver can be imported
    def bare(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-S", str(CHECK_DB), *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    help_run = bare("--help")
    assert help_run.returncode == 0
    assert "Usage:" in help_run.stdout and "Examples:" in help_run.stdout
    result = bare("--url", f"postgres://{PG}")
    assert result.returncode == 1
    assert "use postgresql+asyncpg://app:***@127.0.0.1:5432/app" in line(result.stdout, "driver")
    assert line(result.stdout, "installed").startswith(
        "FAIL installed: sqlalchemy, greenlet, asyncpg not installed for "
    )
    assert '`uv add "sqlalchemy[asyncio]" asyncpg`' in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://app:p%40ss%2Fw@db.example:5433/app?ssl=require&command_timeout=30",
        "postgresql+asyncpg://app@[::1]:5432/app",
        "postgresql+asyncpg:///app?host=/var/run/postgresql",
        "postgres://app:secret@localhost/app",
        "sqlite+aiosqlite:///./app.db",
        "sqlite+aiosqlite:////var/lib/app/app.db",
        "sqlite+aiosqlite://",
    ],
)
def test_parse_url_like_sqlalchemy(url: str) -> None:
    ours, theirs = url_checks.parse(url), make_url(url)
    assert f"{ours.backend}+{ours.driver}".rstrip("+") == theirs.drivername
    assert (ours.username, ours.host, ours.port, ours.database) == (
        theirs.username,
        theirs.host,
        theirs.port,
        theirs.database,
    )
    assert dict(ours.query) == dict(theirs.query)
    shown = make_url(ours.masked).render_as_string(hide_password=True)
    assert shown == theirs.render_as_string(hide_password=True)


@given(password=st.text(min_size=1).filter(lambda p: not p.isspace()), encode=st.booleans())
def test_mask_any_password(password: str, encode: bool) -> None:
    written = quote(password, safe="") if encode else password
    url = f"postgresql+asyncpg://app:{written}@127.0.0.1:5432/app"
    assert url_checks.mask(url) == "postgresql+asyncpg://app:***@127.0.0.1:5432/app"
    message = f"server said: {password} / {written} / {url}"
    assert written not in url_checks.redact(message, url_checks.secrets_in(url))


def test_accept_only_options_asyncpg_connect_takes() -> None:
    import inspect

    taken = set(inspect.signature(asyncpg.connect).parameters) | {"prepared_statement_cache_size"}
    assert url_checks.ASYNCPG_URL_OPTIONS | url_checks.ASYNCPG_TYPED_OPTIONS <= taken


def test_match_pool_defaults_to_asset_settings() -> None:
    from app.db.config import DatabaseSettings

    settings = DatabaseSettings()
    assert (live_checks.DEFAULT_POOL_SIZE, live_checks.DEFAULT_MAX_OVERFLOW) == (
        settings.db_pool_size,
        settings.db_max_overflow,
    )


def test_closed_stdout_pipe_prints_no_traceback(tmp_path: Path) -> None:
    # the reader end is closed before the script starts, as when `| head` has already left
    result = run_with_closed_stdout(
        [sys.executable, str(CHECK_DB), "--url", "postgres://app@127.0.0.1:1/app"], cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr == ""
