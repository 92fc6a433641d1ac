"""Helpers for the script tests: run a command's main() and read its report."""

import asyncio
import re
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# a password no output may show
PASSWORD = "Zq7-sw0rdfish"
PG = f"app:{PASSWORD}@127.0.0.1:5432/app"
CHECK_DB_CHECKS = [
    "settings",
    "url",
    "driver",
    "options",
    "pooler",
    "sqlite-path",
    "installed",
    "connect",
    "pool",
    "migrations",
]


def run(
    main: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """main(args), then stdout and stderr together; fails if PASSWORD shows in either."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err
    return code, out + err


def line(output: str, check: str) -> str:
    """The report's line for one check."""
    found = re.search(rf"^(OK  |WARN|FAIL|SKIP) {re.escape(check)}: .*$", output, re.MULTILINE)
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
