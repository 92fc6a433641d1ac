"""The patterns as a user's project holds them: assets/app/db/, assets/app/errors.py and the
modules of assets/patterns/ loaded as one package, `taskapp`, with `app.` renamed in their
imports as an agent renames it.

Their tables live on taskapp.db.Base, never on app.db.Base, so the default app's metadata, its
migrations and the drift checks see users and posts only. Each test runs on both backends,
against a database of its own (a SQLite file, or a PostgreSQL database made for the run).
"""

import importlib.abc
import importlib.util
import re
import sys
from collections.abc import AsyncIterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from tests.databases import BACKENDS, create_database, drop_database
from tests.helpers import ROOT

APP_DB = ROOT / "assets" / "app" / "db"
PATTERNS = ROOT / "assets" / "patterns"
PACKAGE = "taskapp"
# the import lines only: app/errors.py also names its FastAPI argument `app`
_APP_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)app\.", re.MULTILINE)


class _CopiedPackage(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """taskapp.db[.x] is assets/app/db[/x].py, taskapp.errors is assets/app/errors.py and
    taskapp.<m> is assets/patterns/<m>.py, each executed with `app.` renamed `taskapp.`;
    tracebacks still name the asset files."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        parts = fullname.split(".")
        if parts[0] != PACKAGE:
            return None
        if parts[1:2] == ["db"]:
            folder, rest = APP_DB, parts[2:]
        elif parts[1:] == ["errors"]:
            folder, rest = APP_DB.parent, parts[1:]
        else:
            folder, rest = PATTERNS, parts[1:]
        file = folder.joinpath(*rest).with_suffix(".py") if rest else folder / "__init__.py"
        if not file.is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, file, loader=self, submodule_search_locations=None if rest else []
        )

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        origin = str(module.__spec__.origin if module.__spec__ else module.__file__)
        source = _APP_IMPORT.sub(rf"\g<1>{PACKAGE}.", Path(origin).read_text(encoding="utf-8"))
        exec(compile(source, origin, "exec"), module.__dict__)  # noqa: S102


if not any(isinstance(finder, _CopiedPackage) for finder in sys.meta_path):
    sys.meta_path.insert(0, _CopiedPackage())

from taskapp.db import Base  # noqa: E402
from taskapp.db.config import DatabaseSettings  # noqa: E402
from taskapp.db.engine import create_engine  # noqa: E402

import tests.patterns.more_models  # noqa: E402, F401  (registers the tests' other tables)
from tests.patterns.api import create_app  # noqa: E402  (registers the example's tables)
from tests.patterns.support import serve  # noqa: E402


@pytest.fixture(scope="session", params=BACKENDS)
async def pattern_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """The app's engine on a database holding the pattern tables, for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('patterns') / 'patterns.db'}"
    else:
        url = await create_database("skill_patterns")
    engine = create_engine(DatabaseSettings(database_url=url))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()
    if request.param == "postgresql":
        await drop_database(url)


@pytest.fixture
async def pattern_connection(pattern_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with pattern_engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
async def session(pattern_connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits end a SAVEPOINT: everything is rolled back after the test."""
    maker = async_sessionmaker(
        bind=pattern_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with maker() as session:
        yield session


@pytest.fixture
async def maker(pattern_engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that commit for real on connections of their own, for tests of concurrent
    transactions; every pattern table is emptied afterwards."""
    yield async_sessionmaker(pattern_engine, expire_on_commit=False)
    async with pattern_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
async def client(pattern_connection: AsyncConnection) -> AsyncIterator[AsyncClient]:
    """The example's routes on the test's connection: send one request at a time."""
    factory = async_sessionmaker(
        bind=pattern_connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with serve(create_app(), factory) as client:
        yield client


@pytest.fixture
async def committing_client(
    maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncClient]:
    """The example's routes, each request committing on a connection of its own."""
    async with serve(create_app(), maker) as client:
        yield client
