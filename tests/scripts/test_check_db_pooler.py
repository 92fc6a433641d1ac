"""check_db.py recognises a managed pooler by its port or host and names the settings the app
lacks behind it: DB_PGBOUNCER, and MIGRATIONS_DATABASE_URL on the direct connection."""

import pytest

import check_db
from _lib.check_db.poolers import check_pooler, recognise
from _lib.urls import parse
from tests.scripts.support import PASSWORD, line, run

NEON_POOLER = f"postgresql://app:{PASSWORD}@ep-cool-123-pooler.eu-central-1.aws.neon.tech/app"
NEON_DIRECT = f"postgresql://app:{PASSWORD}@ep-cool-123.eu-central-1.aws.neon.tech/app"
SUPAVISOR = f"postgresql://app.ref:{PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
PGBOUNCER = f"postgresql+asyncpg://app:{PASSWORD}@db.internal:6432/app"


@pytest.mark.parametrize(
    ("url", "expected", "direct"),
    [
        (SUPAVISOR, "Supabase's Supavisor in transaction mode (port 6543)", "supabase.co:5432"),
        (NEON_POOLER, "Neon's pooler", "ep-cool-123.eu-central-1.aws.neon.tech"),
        (PGBOUNCER, "PgBouncer (port 6432)", "(5432)"),
    ],
    ids=["supavisor", "neon", "pgbouncer"],
)
def test_recognise_pooler_by_port_or_host(url: str, expected: str, direct: str) -> None:
    pooler = recognise(parse(url))
    assert pooler is not None
    assert pooler.name.startswith(expected)
    assert direct in pooler.direct


@pytest.mark.parametrize(
    "url",
    [
        NEON_DIRECT,
        f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:5432/app",
        "sqlite+aiosqlite:///./app.db",
        # Supavisor's session mode keeps one server connection per client
        f"postgresql://app.ref:{PASSWORD}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
    ],
    ids=["neon-direct", "local", "sqlite", "supavisor-session-mode"],
)
def test_recognise_direct_connection_as_no_pooler(url: str) -> None:
    assert recognise(parse(url)) is None


@pytest.mark.parametrize(
    ("url", "values", "status", "names"),
    [
        pytest.param(
            NEON_POOLER,
            {"db_pgbouncer": False, "migrations_database_url": None},
            "fail",
            [
                "set DB_PGBOUNCER=true",
                "set MIGRATIONS_DATABASE_URL to the direct connection "
                "(ep-cool-123.eu-central-1.aws.neon.tech)",
                "poolclass=NullPool",
            ],
            id="neon-nothing-set",
        ),
        pytest.param(
            SUPAVISOR,
            {"db_pgbouncer": True, "migrations_database_url": None},
            "warn",
            ["set MIGRATIONS_DATABASE_URL to the direct connection (the direct host db."],
            id="supavisor-no-migrations-url",
        ),
        pytest.param(
            NEON_POOLER,
            {"db_pgbouncer": True, "migrations_database_url": NEON_POOLER},
            "warn",
            ["MIGRATIONS_DATABASE_URL goes through a pooler too (Neon's pooler"],
            id="migrations-through-pooler",
        ),
        pytest.param(
            PGBOUNCER,
            {"db_pgbouncer": False, "migrations_database_url": NEON_DIRECT},
            # a bare PgBouncer port may pool by session, where the caches are safe
            "warn",
            ["set DB_PGBOUNCER=true"],
            id="pgbouncer-port-without-setting",
        ),
        pytest.param(
            PGBOUNCER,
            {
                "db_pgbouncer": True,
                "db_pgbouncer_prepared_statements": False,
                "migrations_database_url": NEON_DIRECT,
            },
            "warn",
            ["DB_PGBOUNCER_PREPARED_STATEMENTS=true keeps the statement caches"],
            id="prepared-statements-setting-when-present",
        ),
        pytest.param(
            NEON_POOLER,
            {"db_pgbouncer": True, "migrations_database_url": NEON_DIRECT},
            "ok",
            ["DB_PGBOUNCER is on and MIGRATIONS_DATABASE_URL goes direct"],
            id="neon-set-up",
        ),
        pytest.param(
            NEON_POOLER, None, "skip", ["the app's settings do not load"], id="no-settings"
        ),
        pytest.param(NEON_DIRECT, {}, "ok", ["not a known pooler"], id="direct"),
    ],
)
def test_check_pooler_names_missing_settings(
    url: str, values: dict[str, object] | None, status: str, names: list[str]
) -> None:
    check = check_pooler(parse(url), values)
    assert check.status.strip().lower() == status
    for name in names:
        assert name in check.message
    assert PASSWORD not in check.message


def test_report_pooler_line_from_the_apps_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Supavisor's port on this machine: the pooler line comes from the URL and the settings,
    # whatever the connection does (nothing listens, so it is refused at once)
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:6543/app")
    monkeypatch.setenv(
        "MIGRATIONS_DATABASE_URL", f"postgresql+asyncpg://app:{PASSWORD}@127.0.0.1:6543/app"
    )
    code, output = run(check_db.main, capsys, "--timeout", "1")
    assert code == 1
    assert line(output, "pooler").startswith(
        "FAIL pooler: 127.0.0.1:6543 is Supabase's Supavisor in transaction mode (port 6543): "
        "set DB_PGBOUNCER=true"
    )
    assert "MIGRATIONS_DATABASE_URL goes through a pooler too" in line(output, "pooler")
    # a pooler's missing settings do not stop the connection check
    assert line(output, "connect").startswith("FAIL connect: connection refused")
