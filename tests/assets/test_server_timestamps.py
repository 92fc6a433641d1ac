"""Server-side timestamps: readable after INSERT, expired after UPDATE unless eager_defaults.

Proves references/models.md#timestamps: INSERT ... RETURNING brings server defaults back,
an UPDATE's onupdate=func.now() leaves the attribute expired, eager_defaults=True adds
RETURNING to the UPDATE, and the server clock's trade-offs against the asset's utc_now().
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import String, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.base import UTCDateTime, utc_now


class StampBase(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class ServerClock:
    """Timestamps the database computes, on INSERT and on UPDATE."""

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ServerStamped(ServerClock, StampBase):
    __tablename__ = "stamps_server"


class EagerStamped(ServerClock, StampBase):
    __tablename__ = "stamps_eager"
    # fetch server-computed values with RETURNING after UPDATE too (INSERT does by default)
    __mapper_args__ = {"eager_defaults": True}


class PythonStamped(StampBase):
    """The asset's pattern (TimestampMixin): values computed in Python at flush."""

    __tablename__ = "stamps_python"

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(50))
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


@contextmanager
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        # the test session's SAVEPOINTs (join_transaction_mode) are not the app's statements
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            sent.append(" ".join(statement.split()))

    event.listen(connection.sync_connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", record)


def returned(statement: str) -> list[str]:
    """The columns after RETURNING (PostgreSQL qualifies them with the table, SQLite not)."""
    _, columns = statement.split(" RETURNING ")
    return [column.rsplit(".", 1)[-1] for column in columns.split(", ")]


@pytest.fixture
async def stamped(connection: AsyncConnection, session: AsyncSession) -> AsyncSession:
    """The test's session, with the stamp tables created inside its rolled-back transaction."""
    await connection.run_sync(StampBase.metadata.create_all)
    return session


def test_sqlite_supports_returning(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("postgresql: RETURNING has no version condition there")
    # SQLAlchemy turns RETURNING off below SQLite 3.35; then nothing comes back after INSERT
    assert engine.dialect.dbapi.sqlite_version_info >= (3, 35)  # type: ignore[union-attr]
    assert engine.dialect.insert_returning and engine.dialect.update_returning


async def test_server_default_readable_after_insert(
    stamped: AsyncSession, connection: AsyncConnection
) -> None:
    row = ServerStamped(note="a")
    stamped.add(row)
    with statements(connection) as sent:
        await stamped.flush()
        # read without a query: the INSERT's RETURNING brought the values back
        created, updated = row.created_at, row.updated_at
    assert len(sent) == 1
    assert sent[0].startswith("INSERT INTO stamps_server")
    assert returned(sent[0]) == ["id", "created_at", "updated_at"]
    assert created.tzinfo is not None and updated == created


async def test_server_onupdate_expired_after_update(stamped: AsyncSession) -> None:
    row = ServerStamped(note="a")
    stamped.add(row)
    await stamped.flush()
    row.note = "b"
    await stamped.flush()
    # the UPDATE sent now() and kept no result: reading it needs a query, which plain
    # attribute access cannot run under asyncio (MissingGreenlet, references/troubleshooting.md)
    assert inspect(row).expired_attributes == {"updated_at"}
    assert "created_at" not in inspect(row).unloaded


async def test_eager_defaults_returns_server_onupdate_value(
    stamped: AsyncSession, connection: AsyncConnection
) -> None:
    row = EagerStamped(note="a")
    stamped.add(row)
    await stamped.flush()
    row.note = "b"
    with statements(connection) as sent:
        await stamped.flush()
        updated = row.updated_at
    assert len(sent) == 1
    assert sent[0].startswith("UPDATE stamps_eager SET")
    assert returned(sent[0]) == ["updated_at"]
    assert not inspect(row).expired_attributes
    stored = await stamped.scalar(select(EagerStamped.updated_at).where(EagerStamped.id == row.id))
    assert updated == stored


async def test_server_now_is_the_transaction_start_on_postgresql(stamped: AsyncSession) -> None:
    if stamped.get_bind().dialect.name != "postgresql":
        pytest.skip("sqlite: CURRENT_TIMESTAMP is read per statement, not per transaction")
    server, python = EagerStamped(note="a"), PythonStamped(note="a")
    stamped.add_all([server, python])
    await stamped.flush()
    before = server.updated_at, python.updated_at
    await stamped.execute(select(func.pg_sleep(0.01)))
    server.note = python.note = "b"
    await stamped.flush()
    # now() is when the transaction began: every write in it carries the same time
    assert server.updated_at == before[0] == server.created_at
    assert python.updated_at > before[1]


async def test_server_now_has_whole_seconds_on_sqlite(stamped: AsyncSession) -> None:
    if stamped.get_bind().dialect.name != "sqlite":
        pytest.skip("postgresql: now() keeps microseconds")
    server = EagerStamped(note="a")
    stamped.add(server)
    await stamped.flush()
    # CURRENT_TIMESTAMP is 'YYYY-MM-DD HH:MM:SS': writes within one second look simultaneous
    assert server.updated_at.microsecond == 0
    assert server.updated_at.utcoffset() == timedelta(0)


@pytest.fixture
async def stamp_tables(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The stamp tables, committed, for tests of concurrent transactions; dropped afterwards."""
    async with engine.begin() as conn:
        await conn.run_sync(StampBase.metadata.create_all)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(StampBase.metadata.drop_all)


@pytest.mark.parametrize("model", [EagerStamped, PythonStamped], ids=["server", "python"])
async def test_updated_at_order_under_concurrent_updates(
    stamp_tables: AsyncEngine, model: type[EagerStamped] | type[PythonStamped]
) -> None:
    if stamp_tables.dialect.name != "postgresql":
        pytest.skip("sqlite: one writer at a time, and CURRENT_TIMESTAMP is read per statement")
    factory = async_sessionmaker(stamp_tables, expire_on_commit=False)
    async with factory() as session, session.begin():
        session.add(model(id=1, note="created"))
    async with factory() as first, factory() as second:
        # the first PATCH's transaction starts, then the second PATCH runs and commits
        async with first.begin():
            slow: EagerStamped | PythonStamped = await first.get_one(model, 1)
            async with second.begin():
                fast: EagerStamped | PythonStamped = await second.get_one(model, 1)
                fast.note = "second"
            second_time = fast.updated_at
            await first.refresh(slow)
            slow.note = "first, committed last"
        last_time = slow.updated_at
    async with factory() as session:
        stored: EagerStamped | PythonStamped = await session.get_one(model, 1)
    assert stored.note == "first, committed last"
    if model is EagerStamped:
        # the last write carries the earlier time: updated_at went backwards
        assert stored.updated_at == last_time < second_time
    else:
        assert stored.updated_at == last_time > second_time
