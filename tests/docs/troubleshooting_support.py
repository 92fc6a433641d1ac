"""Helpers for tests/docs/test_troubleshooting.py: backends, loops, leftovers, small apps.

The wrong patterns themselves stay in the test module, where the document's diffs point.
"""

import asyncio
import gc
import io
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from app.db.base import NAMING_CONVENTION
from app.models import User

POSTGRESQL_ONLY = pytest.mark.parametrize(
    "engine",
    [pytest.param("postgresql_url", id="postgresql", marks=pytest.mark.postgresql)],
    indirect=True,
)


SQLITE_ONLY = pytest.mark.parametrize(
    "engine",
    [pytest.param("sqlite_url", id="sqlite", marks=pytest.mark.sqlite)],
    indirect=True,
)


@contextmanager
def garbage_collected() -> Iterator[list[str]]:
    """Collect, inside the test, what the failure leaves behind for the garbage collector.

    A MissingGreenlet leaves a driver coroutine never awaited, a dead event loop leaves an
    unclosed socket; the user sees them as RuntimeWarning and ResourceWarning. Here they would
    surface in whichever later test the collector happens to run.
    """
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(repr(unraisable.object))
    try:
        yield seen
    finally:
        gc.collect()
        sys.unraisablehook = previous


@contextmanager
def logged_text(name: str) -> Iterator[io.StringIO]:
    """What logger name prints, as text only: pytest's log capture would keep the records,
    and with them the dead connection the test wants collected."""
    logger = logging.getLogger(name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.propagate = True
        logger.removeHandler(handler)


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run_in_new_loop(
    make: Callable[[], Coroutine[Any, Any, Any]],
) -> tuple[asyncio.AbstractEventLoop, Any]:
    """What asyncio.run does, but the loop stays open so the test decides when it closes."""
    loop = asyncio.new_event_loop()
    return loop, loop.run_until_complete(make())


# a model with a default (lazy="select") relationship, the pattern the assets avoid
class LazyBase(DeclarativeBase):
    pass


class Shelf(LazyBase):
    __tablename__ = "troubleshooting_shelves"
    id: Mapped[int] = mapped_column(primary_key=True)
    books: Mapped[list["Book"]] = relationship()


class Book(LazyBase):
    __tablename__ = "troubleshooting_books"
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("troubleshooting_shelves.id"))


def new_user(email: str = "ada@example.com") -> User:
    return User(email=email, name="Ada", hashed_password="not-a-real-hash")


def select_one(engine: AsyncEngine) -> Callable[[], Coroutine[Any, Any, Any]]:
    async def use() -> Any:
        async with engine.connect() as conn:
            return await conn.scalar(text("SELECT 1"))

    return use


PYTEST_PROJECT = {
    "conftest.py": """
        import os

        import pytest
        from sqlalchemy.ext.asyncio import create_async_engine


        @pytest.fixture(scope="session")
        async def engine():
            engine = create_async_engine(os.environ["TEST_URL"])
            yield engine
            await engine.dispose()
    """,
    "test_queries.py": """
        from sqlalchemy import text


        async def test_first(engine):
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1


        async def test_second(engine):
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
    """,
}


def run_pytest_project(tmp_path: Path, url: str, ini: str) -> subprocess.CompletedProcess[str]:
    for name, source in {**PYTEST_PROJECT, "pytest.ini": ini}.items():
        (tmp_path / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "pytest_asyncio.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=tmp_path,
        # only pytest-asyncio: the other plugins installed here would only slow the run down
        env={**os.environ, "TEST_URL": url, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def drop_unique_constraint(conn: Connection, name: str | None, naming: bool) -> None:
    """Create a table with a unique constraint, then drop the constraint as a migration would."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION) if naming else MetaData()
    table = Table(
        "troubleshooting_accounts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", String(50)),
        UniqueConstraint("email"),
    )
    table.create(conn)
    batch = conn.dialect.name == "sqlite"
    op = Operations(MigrationContext.configure(conn, opts={"render_as_batch": batch}))
    # name=None is what autogenerate writes in downgrade() for a constraint the database named
    if batch:
        with op.batch_alter_table(table.name) as batch_op:
            batch_op.drop_constraint(name, type_="unique")  # type: ignore[arg-type]
    else:
        op.drop_constraint(name, table.name, type_="unique")  # type: ignore[arg-type]


def sqlite_engine(path: Path, begin: str | None) -> AsyncEngine:
    """An aiosqlite engine; begin=None is the default driver, else the SAVEPOINT recipe."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    if begin is not None:

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql(begin)

    return engine


async def create_counter_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counters (id INTEGER PRIMARY KEY)"))


async def count_counters(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.scalar(text("SELECT count(*) FROM counters"))) or 0)


async def commit_in_savepoint_then_roll_back(engine: AsyncEngine) -> None:
    """The test fixture pattern: an outer transaction, the code under test commits inside it."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        factory = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
        async with factory() as session:
            await session.execute(text("INSERT INTO counters (id) VALUES (1)"))
            await session.commit()
        await outer.rollback()


class FailingCommitSession(Session):
    """A session whose commit fails, as a deferred constraint or a lost connection would."""


@event.listens_for(FailingCommitSession, "before_commit")
def _fail_commit(_session: Session) -> None:
    raise RuntimeError("commit failed")


def failing_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine, expire_on_commit=False, sync_session_class=FailingCommitSession
    )


def user_body() -> dict[str, str]:
    return {"email": "ada@example.com", "name": "Ada", "password": "correct horse battery"}


async def post_user(app: FastAPI) -> int:
    # raise_app_exceptions=False: the client sees what a server sends, not the server's error
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        return (await client.post("/users", json=user_body())).status_code
