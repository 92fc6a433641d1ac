"""The tests' other tables: an association object, a BIGINT key, and the naive forms (plain
JSON, no version, a plain unique constraint) the patterns are compared with."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from taskapp.db import Base, TimestampMixin
from taskapp.keys import BigIntKey

from tests.patterns.models import Task


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Assignment(Base):
    """An association object: the link between a task and a person carries columns of its own."""

    __tablename__ = "assignments"

    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime]

    task: Mapped[Task] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class Event(BigIntKey, Base):
    """A table that may pass 2**31 rows: BIGINT identity key."""

    __tablename__ = "events"

    name: Mapped[str] = mapped_column(String(50))


class Memo(TimestampMixin, Base):
    """The naive forms: a plain JSON column (no change tracking) and no version column."""

    __tablename__ = "memos"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counter: Mapped[int] = mapped_column(default=0)
    # marked by hand, without the filter or the partial index
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
