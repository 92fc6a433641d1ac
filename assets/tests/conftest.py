"""Fixtures that run each test on SQLite and on PostgreSQL, every test rolled back afterwards.

TEST_POSTGRES_URL picks the PostgreSQL database (default: the local server's "test" database).
Without a reachable server the PostgreSQL tests are skipped, or fail when CI=true.
Run one backend with `pytest -m sqlite` or `pytest -m postgresql`.
TEST_SCHEMA=migrations builds the tables with the Alembic migrations instead of create_all.
"""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import NullPool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# create_all sees only the models imported so far: import them all, as migrations/env.py does
import app.models  # noqa: F401
from app.api.deps import get_engine
from app.db import Base, get_read_session, get_session
from app.db.config import DatabaseSettings
from app.db.engine import create_engine
from app.db.reads import read_sessionmaker
from app.main import app

try:
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from app import security

    CHEAP_HASHER = PasswordHasher.from_parameters(CHEAPEST)
except ImportError:  # a project scaffolded without the examples hashes no passwords
    security = None

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite: runs against SQLite (aiosqlite)")
    config.addinivalue_line("markers", "postgresql: runs against PostgreSQL (asyncpg)")
    config.addinivalue_line(
        "markers", "production_hashing: hashes passwords at the app's real cost, not the cheapest"
    )


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords at argon2's cheapest setting: at the app's real cost each user a test
    creates adds tens of milliseconds, and some tests create dozens. A test marked
    production_hashing keeps the real cost."""
    if security is not None and request.node.get_closest_marker("production_hashing") is None:
        monkeypatch.setattr(security, "hasher", CHEAP_HASHER)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    # a file, not :memory:, so that several connections see the same database
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"


@pytest.fixture(scope="session")
def postgresql_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


def upgrade_to_head(connection: Connection) -> None:
    """Build the schema with the migrations, on a connection handed to env.py: code inside
    a running event loop cannot let env.py call asyncio.run()."""
    config = Config(ALEMBIC_INI)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def drop_schema(connection: Connection) -> None:
    Base.metadata.drop_all(connection)
    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


async def create_schema(engine: AsyncEngine) -> None:
    """Drop and rebuild the tables: create_all, or the migrations with TEST_SCHEMA=migrations."""
    async with engine.begin() as conn:
        await conn.run_sync(drop_schema)
        if os.environ.get("TEST_SCHEMA") != "migrations":
            # the faster default; the skill's own tests check that both give the same schema
            await conn.run_sync(Base.metadata.create_all)
            return
    # an engine of their own: on SQLite the app's engine turns foreign keys on, and batch
    # mode's table copies would then delete referencing rows (env.py refuses such a connection)
    migrator = create_async_engine(engine.url, poolclass=NullPool)
    try:
        async with migrator.begin() as conn:
            await conn.run_sync(upgrade_to_head)
    finally:
        await migrator.dispose()


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite_url", id="sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgresql_url", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """One engine per backend for the whole run, on a freshly created schema."""
    url = request.getfixturevalue(request.param)
    engine = create_engine(DatabaseSettings(database_url=url))
    try:
        await create_schema(engine)
    except (DBAPIError, OSError) as exc:
        await engine.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        reason = f"{request.param.removesuffix('_url')}: cannot reach {where}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(drop_schema)
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def session_maker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # create_savepoint: the code under test may commit or roll back; it only ends a
    # SAVEPOINT, and the outer transaction still undoes everything after the test
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_maker() as session:
        yield session


@asynccontextmanager
async def _client(
    engine: AsyncEngine,
    factory: async_sessionmaker[AsyncSession],
    read_factory: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[AsyncClient]:
    def override(
        maker: async_sessionmaker[AsyncSession],
    ) -> Callable[[], AsyncIterator[AsyncSession]]:
        async def get_test_session() -> AsyncIterator[AsyncSession]:
            async with maker() as session, session.begin():
                yield session

        return get_test_session

    app.dependency_overrides[get_session] = override(factory)
    app.dependency_overrides[get_read_session] = override(read_factory or factory)
    # /health/ready checks the test's database, not the one in DATABASE_URL
    app.dependency_overrides[get_engine] = lambda: engine
    try:
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
            yield client
    finally:
        app.dependency_overrides.clear()


@pytest.fixture
async def client(
    engine: AsyncEngine, session_maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AsyncClient]:
    """An HTTP client whose requests share the test's connection: send one at a time."""
    async with _client(engine, session_maker) as client:
        yield client


@pytest.fixture
async def committing_client(engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """An HTTP client whose requests commit for real on their own connections, for tests of
    concurrent requests; every table is emptied afterwards."""
    try:
        writes = async_sessionmaker(engine, expire_on_commit=False)
        reads = read_sessionmaker(engine)
        async with _client(engine, writes, reads) as client:
            yield client
    finally:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
