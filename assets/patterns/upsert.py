"""Insert or update by a unique key through each dialect's INSERT ... ON CONFLICT."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, inspect, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

M = TypeVar("M", bound=DeclarativeBase)


def _insert(session: AsyncSession) -> Callable[[Any], Any]:
    # on_conflict_do_* exists only on the dialects' own insert(); both build the same SQL here
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def upsert(
    session: AsyncSession,
    model: type[M],
    values: dict[str, Any],
    *,
    key: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> tuple[M, bool]:
    """Insert values, or update the row whose key columns hold the same values.

    Returns the row and True when it was created (201) or False when updated (200). key names
    the columns of a unique constraint or index; where is a partial index's WHERE clause.
    """
    stmt = (
        _insert(session)(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=key, index_where=where)
        .returning(model)
    )
    matches = [getattr(model, column) == values[column] for column in key]
    changes: dict[str, Any] = {name: value for name, value in values.items() if name not in key}
    # an UPDATE statement bypasses version_id_col: bump the version here, or ETags stay stale
    version = inspect(model).version_id_col
    if version is not None:
        changes[version.name] = version + 1
    # two statements, because one INSERT ... DO UPDATE cannot tell created from updated on
    # SQLite; the INSERT waits for a racing INSERT of the same key and then does nothing
    for _ in range(3):
        created = (await session.scalars(stmt)).one_or_none()
        if created is not None:
            return created, True
        updated = (
            await session.scalars(
                update(model)
                .where(*matches, *([where] if where is not None else []))
                .values(**changes)
                .returning(model)
                .execution_options(populate_existing=True)
            )
        ).one_or_none()
        if updated is not None:
            return updated, False
        # the conflicting row was deleted between the two statements: insert again
    raise RuntimeError(f"upsert of {model.__name__} kept conflicting with deleted rows")


async def upsert_many(
    session: AsyncSession,
    model: type[M],
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    where: ColumnElement[bool] | None = None,
) -> int:
    """Insert or update many rows in one statement; returns how many rows it touched."""
    # one statement may not touch a row twice (PostgreSQL: "ON CONFLICT DO UPDATE command
    # cannot affect row a second time"): the last row of each key wins
    unique = list({tuple(row[column] for column in key): row for row in rows}.values())
    if not unique:
        return 0
    stmt = _insert(session)(model).values(unique)
    mapper = inspect(model)
    # DO UPDATE's SET skips onupdate (updated_at): take those columns from the proposed row,
    # where the INSERT's own defaults (utc_now) filled them
    columns = {name for row in unique for name in row} | {
        column.name for column in mapper.columns if column.onupdate is not None
    }
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in sorted(columns - set(key))}
    if mapper.version_id_col is not None:
        changes[mapper.version_id_col.name] = mapper.version_id_col + 1
    stmt = stmt.on_conflict_do_update(index_elements=key, index_where=where, set_=changes)
    result = await session.execute(stmt.returning(mapper.primary_key[0]))
    return len(result.all())
