"""check_db.py names each common URL mistake and the URL that fixes it, without SQLAlchemy's help
and without ever showing the password."""

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import check_db
from _lib import urls
from _lib.check_db import local
from tests.scripts.support import CHECK_DB_CHECKS, PASSWORD, PG, line, run, with_password

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
        f"postgresql+asyncpg://{PG}?ssl=prefer&sslcompression=1",
        "options",
        "sslcompression= is not an option of asyncpg.connect(): "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=prefer",
        id="unknown-option",
    ),
    pytest.param(
        f"postgresql+asyncpg://{PG}?ssl=verify-full&sslrootcert=/etc/ca.pem",
        "options",
        "sslrootcert= is libpq's name; asyncpg reads the CA file from the environment: "
        "export PGSSLROOTCERT=/etc/ca.pem: "
        "use postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=verify-full",
        id="sslrootcert-without-the-apps-translation",
    ),
    pytest.param(
        f"postgresql+asyncpg://{PG}?sslmode=require&channel_binding=require",
        "options",
        "asyncpg cannot bind the channel (channel_binding=); verify the certificate instead "
        "with ssl=verify-full",
        id="channel-binding-without-the-apps-translation",
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
    code, output = run(check_db.main, capsys, "--url", url)
    assert code == 1
    assert line(output, check).startswith(f"FAIL {check}: ")
    assert message in line(output, check)
    assert "SKIP connect:" in output


def test_print_one_json_document_with_entry_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = check_db.main(["--url", f"postgresql://{PG}?sslmode=require", "--json"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (code, err) == (1, "")
    assert [check["name"] for check in document["checks"]] == CHECK_DB_CHECKS
    assert document["exit_code"] == 1 and document["ok"] is False
    driver = document["checks"][2]
    assert driver["status"] == "fail"
    assert driver["corrected_url"] == "postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=require"
    assert PASSWORD not in out


@pytest.mark.postgresql
def test_connect_with_corrected_url_and_connect_args(
    capsys: pytest.CaptureFixture[str], postgresql_url: str
) -> None:
    # the URL a hosting provider prints, with libpq's options and numbers asyncpg gets as strings
    query = "sslmode=disable&connect_timeout=10&statement_cache_size=0&application_name=check_db"
    given = (
        with_password(postgresql_url).replace("postgresql+asyncpg://", "postgres://") + "?" + query
    )
    code, output = run(check_db.main, capsys, "--url", given, "--json")
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
    ours, theirs = urls.parse(url), make_url(url)
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
    assert urls.mask(url) == "postgresql+asyncpg://app:***@127.0.0.1:5432/app"
    message = f"server said: {password} / {written} / {url}"
    assert written not in urls.redact(message, urls.secrets_in(url))


def test_accept_only_options_asyncpg_connect_takes() -> None:
    taken = set(inspect.signature(asyncpg.connect).parameters) | {"prepared_statement_cache_size"}
    assert local.ASYNCPG_URL_OPTIONS | local.ASYNCPG_TYPED_OPTIONS <= taken


def test_accept_provider_url_the_projects_urls_py_translates(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    """A project with the skill's app/db/urls.py connects with the URL as the provider prints it;
    the report still shows the URL a create_async_engine() of one's own needs."""
    given = f"postgres://{PG}?sslmode=require&channel_binding=require"
    code, output = run(
        check_db.main, capsys, "--url", given, "--project", str(project), "--timeout", "1"
    )
    fixed = "postgresql+asyncpg://app:***@127.0.0.1:5432/app?ssl=require"
    assert line(output, "driver") == (
        "OK   driver: postgres:// is turned into postgresql+asyncpg by app/db/urls.py as the app "
        f"connects; a create_async_engine() of your own needs {fixed}"
    )
    assert line(output, "options").startswith(
        "OK   options: sslmode=, channel_binding= become asyncpg's ssl argument in "
        f"app/db/urls.py as the app connects; a create_async_engine() of your own needs {fixed}"
    )
    both = f"postgresql+asyncpg://{PG}?ssl=require&sslmode=require"
    code, output = run(check_db.main, capsys, "--url", both, "--project", str(project))
    assert code == 1
    assert line(output, "options") == (
        "FAIL options: the URL has both ssl= and sslmode=: keep one of them"
    )
