"""A password with %, @ and : reaches the database intact: env.py takes the URL from the app's
settings, never through alembic.ini, whose % interpolation would reject it."""

import asyncio
import contextlib
import os
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url

from tests.databases import create_database, drop_database, dsn, run_sql, server_url
from tests.helpers import load_script
from tests.migrating import alembic_config
from tests.servers import ServerUnavailable, scram_cluster

PASSWORD = "pa%ss@wo:rd%25"


async def fetch(url: str, sql: str) -> list[object]:
    conn = await asyncpg.connect(dsn(url), timeout=5)
    try:
        return [row[0] for row in await conn.fetch(sql)]
    finally:
        await conn.close()


@pytest.mark.postgresql
def test_migrate_with_percent_and_at_in_password_postgresql(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"migrator_{uuid.uuid4().hex[:8]}"
    escaped = PASSWORD.replace("'", "''")
    try:
        asyncio.run(run_sql(server_url(), f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{escaped}'"))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"postgresql: cannot create a role: {exc}")
    database = asyncio.run(create_database(owner=role))
    server = make_url(database)
    url = URL.create(
        "postgresql+asyncpg",
        username=role,
        password=PASSWORD,
        host=server.host,
        port=server.port,
        database=server.database,
    ).render_as_string(hide_password=False)
    try:
        assert make_url(url).password == PASSWORD

        code = load_script("check_migrations").main([str(project), "--url", url])

        captured = capsys.readouterr()
        assert code == 0, captured.out + captured.err
        assert PASSWORD not in captured.out + captured.err

        # the alembic command line path: DATABASE_URL read by env.py, tables owned by the role
        monkeypatch.setenv("DATABASE_URL", url)
        command.upgrade(alembic_config(project), "head")
        owners = asyncio.run(
            fetch(
                database,
                "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename IN ('users', 'posts')",
            )
        )
        assert owners == [role]
    finally:
        asyncio.run(drop_database(database))
        asyncio.run(run_sql(server_url(), f'DROP ROLE IF EXISTS "{role}"'))


def test_alembic_ini_interpolation_rejects_percent_in_url() -> None:
    # the trap env.py avoids: a URL put into alembic's config unescaped
    url = URL.create("postgresql+asyncpg", "app", PASSWORD, "127.0.0.1", 5432, "app")

    with pytest.raises(ValueError, match="invalid interpolation syntax"):
        Config().set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False))


@pytest.mark.postgresql
def test_migrate_on_server_that_checks_percent_and_at_password_postgresql(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the local server trusts any password; this throwaway one checks it (scram-sha-256), so
    # a password mangled on the way (an unescaped %, @ or :) would fail to log in
    with contextlib.ExitStack() as stack:
        try:
            address = stack.enter_context(scram_cluster(PASSWORD))
        except ServerUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"postgresql: {exc}")
            pytest.skip(f"postgresql: {exc}")
        host, port = address.split(":")
        server = URL.create("postgresql+asyncpg", "postgres", PASSWORD, host, int(port), "postgres")
        url = server.set(database="app").render_as_string(hide_password=False)
        asyncio.run(run_sql(server.render_as_string(hide_password=False), "CREATE DATABASE app"))
        wrong = server.set(password=PASSWORD + "x", database="app")

        assert load_script("check_migrations").main([str(project), "--url", url]) == 0
        assert (
            load_script("check_migrations").main(
                [str(project), "--url", wrong.render_as_string(False)]
            )
            == 2
        )
        captured = capsys.readouterr()
        assert "password authentication failed" in captured.err
        assert "fix the user, password or database name in --url" in captured.err
        assert PASSWORD not in captured.out + captured.err

        monkeypatch.setenv("DATABASE_URL", url)
        command.upgrade(alembic_config(project), "head")
        assert asyncio.run(fetch(url, "SELECT version_num FROM alembic_version")) != []
