"""Each error the references quote (outside troubleshooting.md, which has its own tests) is
reproduced here with the wrong pattern, and its first line matches the quote exactly."""

import gc
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, lazyload, mapped_column

from app.models import Post, User
from tests.helpers import ROOT
from tests.markdown import blocks

# an exception line, or MissingGreenlet's message, whose class differs by backend (SQLite wraps
# it in StatementError)
_EXCEPTION_LINE = re.compile(
    r"^((sqlalchemy\.exc\.\w+|[A-Z]\w*(Error|Exception)): |greenlet_spawn has not been called)"
)

Reproducer = Callable[[AsyncEngine, AsyncConnection], Awaitable[None]]


def shown(exc: BaseException) -> str:
    """The first line of the exception as a traceback ends with it."""
    module = type(exc).__module__
    name = type(exc).__qualname__ if module == "builtins" else f"{module}.{type(exc).__qualname__}"
    return f"{name}: {exc}".splitlines()[0]


def quoted_errors() -> dict[tuple[str, str], str]:
    """(file name, first line) of every ```text block that quotes an exception."""
    found = {}
    for path in sorted((ROOT / "references").glob("*.md")):
        if path.name == "troubleshooting.md":
            continue
        for block in blocks(path):
            first = block.code.splitlines()[0] if block.code.strip() else ""
            if block.language == "text" and _EXCEPTION_LINE.match(first):
                found[(path.name, first)] = block.id
    return found


def _user(email: str = "ada@example.com") -> User:
    return User(email=email, name="Ada", hashed_password="x")


async def expired_after_commit(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    # the default expire_on_commit=True
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        user = _user()
        session.add(user)
        await session.commit()
        _ = user.name


async def lazy_load(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        session.add(_user())
        await session.flush()
        session.expunge_all()
        stmt = select(User).options(lazyload(User.posts))
        user = (await session.scalars(stmt)).one()
        _ = user.posts


async def lazy_raise(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        session.add(_user())
        await session.flush()
        session.expunge_all()
        user = (await session.scalars(select(User))).one()
        _ = user.posts


async def joined_collection_without_unique(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        user = _user()
        session.add(user)
        await session.flush()
        session.add(Post(author_id=user.id, title="t", content=""))
        await session.flush()
        (await session.scalars(select(User).options(joinedload(User.posts)))).all()


class _ServerStampBase(DeclarativeBase):
    pass


class ServerStamped(_ServerStampBase):
    """The wrong timestamp: computed by the database only, on INSERT and on UPDATE."""

    __tablename__ = "docs_server_stamped"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str]
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.current_timestamp(), onupdate=func.current_timestamp()
    )


async def server_onupdate(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    await conn.run_sync(_ServerStampBase.metadata.create_all)
    maker = async_sessionmaker(
        bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with maker() as session:
        row = ServerStamped(note="a")
        session.add(row)
        await session.flush()
        await session.refresh(row)
        row.note = "b"
        await session.flush()
        _ = row.updated_at


async def flush_after_integrity_error(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        session.add(_user())
        await session.flush()
        session.add(_user())
        try:
            await session.flush()
        except SQLAlchemyError:
            pass
        await session.get(User, 1)


async def id_out_of_int32(_engine: AsyncEngine, conn: AsyncConnection) -> None:
    maker = async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")
    async with maker() as session:
        await session.get(User, 2**31)


async def exhausted_pool(engine: AsyncEngine, _conn: AsyncConnection) -> None:
    small = create_async_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        async with small.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            async with small.connect():
                pass
    finally:
        await small.dispose()


async def pool_options_on_memory(_engine: AsyncEngine, _conn: AsyncConnection) -> None:
    create_async_engine("sqlite+aiosqlite:///:memory:", pool_size=5, max_overflow=10)


# name -> (file, the backend whose text the quote shows or None for both, reproducer)
REPRODUCERS: dict[str, tuple[str, str | None, Reproducer]] = {
    "engine-and-sessions.md:greenlet": (
        "engine-and-sessions.md",
        None,
        expired_after_commit,
    ),
    "engine-and-sessions.md:TypeError": (
        "engine-and-sessions.md",
        "sqlite",
        pool_options_on_memory,
    ),
    "models.md:greenlet": ("models.md", None, server_onupdate),
    "loading.md:greenlet": ("loading.md", None, lazy_load),
    "loading.md:lazy=raise": ("loading.md", None, lazy_raise),
    "loading.md:unique": ("loading.md", None, joined_collection_without_unique),
    "crud.md:PendingRollbackError": ("crud.md", "postgresql", flush_after_integrity_error),
    "queries-and-pagination.md:int32": ("queries-and-pagination.md", "postgresql", id_out_of_int32),
    "pooling.md:QueuePool": ("pooling.md", None, exhausted_pool),
}


def _quote_for(key: str) -> str:
    """The one quoted line of that file the reproducer is named after."""
    file_name, _, hint = key.partition(":")
    hint = {
        "lazy=raise": "lazy='raise'",
        "unique": "unique()",
        "greenlet": "greenlet_spawn",
    }.get(hint, hint)
    matches = [line for (name, line) in quoted_errors() if name == file_name and hint in line]
    assert len(matches) == 1, f"{key}: expected one quoted error with {hint!r}, found {matches}"
    return matches[0]


def test_reproduce_every_quoted_error() -> None:
    reproduced = {_quote_for(key) for key in REPRODUCERS}
    quoted = {line for (_name, line) in quoted_errors()}
    missing = sorted(quoted - reproduced)
    assert not missing, f"quoted in references/ but reproduced by no test: {missing}"


@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("key", sorted(REPRODUCERS))
async def test_quoted_error_matches_reproduction(
    key: str, engine: AsyncEngine, connection: AsyncConnection
) -> None:
    _file, backend, reproduce = REPRODUCERS[key]
    if backend is not None and engine.dialect.name != backend:
        pytest.skip(f"{engine.dialect.name}: the quote shows {backend}'s text")
    quote = _quote_for(key)
    try:
        await reproduce(engine, connection)
    except Exception as exc:  # noqa: BLE001 - any exception is compared with the quote
        got = shown(exc)
    else:
        pytest.fail(f"{key}: the wrong pattern raised nothing")
    finally:
        # an interrupted lazy load leaves an unawaited coroutine; collect it inside this test
        gc.collect()
    # a quote may leave out the class (MissingGreenlet) or the "(Background on this error at:
    # ...)" link at the end, never change the text
    assert quote in got, got
