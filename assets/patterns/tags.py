"""Tags shared by many rows: get-or-create that holds under concurrency, and honest updated_at."""

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy import String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utc_now


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Tagged(Protocol):
    """A model with a many-to-many `tags` relationship and TimestampMixin's updated_at."""

    tags: list[Tag]
    updated_at: datetime


async def get_or_create_tags(session: AsyncSession, names: Iterable[str]) -> list[Tag]:
    """The tags with these names, creating the missing ones; safe when requests race."""
    # sorted: concurrent inserts of overlapping names take their row locks in one order,
    # so two requests cannot deadlock on PostgreSQL
    wanted = sorted(set(names))
    if not wanted:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # a name another transaction inserted first is skipped, never an IntegrityError; on
    # PostgreSQL the statement waits for that transaction to commit or roll back
    await session.execute(
        insert(Tag).values([{"name": name} for name in wanted]).on_conflict_do_nothing()
    )
    # a new statement sees rows committed meanwhile (READ COMMITTED, the default)
    return list((await session.scalars(select(Tag).where(Tag.name.in_(wanted)))).all())


async def set_tags(session: AsyncSession, owner: Tagged, names: Iterable[str]) -> None:
    """Replace owner's tags; owner.tags must be loaded (selectinload), as lazy="raise" says."""
    owner.tags = await get_or_create_tags(session, names)
    # rows added to or removed from the link table write no UPDATE to the owner's own row,
    # so its onupdate never runs: move updated_at here
    owner.updated_at = utc_now()
