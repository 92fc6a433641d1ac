"""Soft delete: deleted rows get a deleted_at, every ORM query skips them, and their unique
values can be used again."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Index, event, inspect, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from app.db import utc_now

# session.execute(stmt.execution_options(include_deleted=True)) sees deleted rows too
INCLUDE_DELETED = "include_deleted"


class SoftDelete:
    """Mixin: a deleted_at timestamp, NULL while the row is live."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


@event.listens_for(Session, "do_orm_execute")
def _skip_deleted_rows(state: ORMExecuteState) -> None:
    # every ORM SELECT of a SoftDelete model, including the ones that load relationships
    # (selectinload, joins), gets WHERE deleted_at IS NULL; Core statements and UPDATEs do not
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_DELETED, False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDelete, lambda cls: cls.deleted_at.is_(None), include_aliases=True
            )
        )


def unique_among_live(name: str, *columns: str) -> Index:
    """A unique index over the rows not deleted: a deleted row's values can be used again."""
    live = text("deleted_at IS NULL")
    return Index(name, *columns, unique=True, sqlite_where=live, postgresql_where=live)


async def soft_delete(session: AsyncSession, model: type[SoftDelete], ident: Any) -> bool:
    """Mark one live row deleted; False when there is none (never existed or deleted already)."""
    [key] = inspect(model).primary_key
    # an object of this row already loaded in the session gets the new deleted_at too
    stmt = update(model).where(key == ident, model.deleted_at.is_(None))
    result = await session.execute(stmt.values(deleted_at=utc_now()))
    return cast(CursorResult[Any], result).rowcount > 0
