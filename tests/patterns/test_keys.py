"""UUIDv7 and BIGINT identity keys on both backends, and bounds that follow the key type."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from taskapp.keys import INT8_MAX, uuid7

from tests.patterns.models import Task
from tests.patterns.more_models import Event


def test_uuid7_is_version_7_and_time_ordered() -> None:
    keys = [uuid7() for _ in range(200)]
    assert {key.version for key in keys} == {7}
    assert {key.variant for key in keys} == {uuid.RFC_4122}
    # the first 48 bits are the creation millisecond: later keys never sort before earlier ones
    millis = [key.int >> 80 for key in keys]
    assert millis == sorted(millis)
    now = datetime.now(UTC).timestamp() * 1000
    assert abs(millis[-1] - now) < 60_000
    assert len(set(keys)) == len(keys)


async def test_uuid_key_round_trips(session: AsyncSession) -> None:
    task = Task(slug="k", title="Key")
    session.add(task)
    await session.flush()
    assert isinstance(task.id, uuid.UUID) and task.id.version == 7
    session.expunge_all()
    loaded = await session.get(Task, task.id)
    assert loaded is not None and loaded.id == task.id


async def test_bigint_key_holds_ids_past_int4(session: AsyncSession) -> None:
    session.add(Event(name="first"))
    await session.flush()
    # move the sequence past 2**31, as a busy table eventually does
    big = 2**31 + 5
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"ALTER TABLE events ALTER COLUMN id RESTART WITH {big}"))
    else:
        await session.execute(text(f"INSERT INTO events (id, name) VALUES ({big - 1}, 'x')"))
    event = Event(name="late")
    session.add(event)
    await session.flush()
    assert event.id == big
    assert await session.scalar(select(func.max(Event.id))) == big
    assert INT8_MAX == 2**63 - 1
