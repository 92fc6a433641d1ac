"""The second example, as a user's models.py would compose the patterns: tasks with UUID keys,
an enum status, a JSON column, shared tags, soft delete and a version (tests/patterns/
test_migrations.py copies this file into a project as app/tasks.py)."""

import enum
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from taskapp.db import Base, TimestampMixin
from taskapp.enums import enum_type
from taskapp.json_columns import MutableJSONDocument
from taskapp.keys import UUIDKey
from taskapp.locking import Versioned
from taskapp.soft_delete import SoftDelete, unique_among_live
from taskapp.tags import Tag


class TaskStatus(enum.StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


task_tags = Table(
    "task_tags",
    Base.metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Task(UUIDKey, SoftDelete, Versioned, TimestampMixin, Base):
    __tablename__ = "tasks"
    # a deleted task's slug can be taken again
    __table_args__ = (unique_among_live("uq_tasks_slug_live", "slug"),)

    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[TaskStatus] = mapped_column(
        enum_type(TaskStatus, "task_status"), default=TaskStatus.TODO
    )
    details: Mapped[dict[str, Any]] = mapped_column(MutableJSONDocument, default=dict)

    tags: Mapped[list[Tag]] = relationship(secondary=task_tags, lazy="raise")
