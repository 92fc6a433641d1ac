"""Concurrent writers: optimistic locking with a version column and ETag / If-Match, and row
locks (SELECT ... FOR UPDATE) where a transaction must read and write one row alone."""

from typing import Annotated, Any, TypeVar

from fastapi import Header, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

M = TypeVar("M")

VERSION_MISMATCH = "The resource was changed by someone else; GET it again"
IF_MATCH_REQUIRED = "Send If-Match with the ETag of the version you changed"


class Versioned:
    """Mixin: every UPDATE says WHERE version = <the version loaded> and sets version + 1.

    An UPDATE that matches no row (another transaction changed it first) raises StaleDataError
    at flush, instead of silently overwriting the other change.
    """

    # default=1 for INSERTs that bypass the unit of work (insert(), upserts)
    version: Mapped[int] = mapped_column(default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


def etag(version: int) -> str:
    """The ETag header of a version: a strong validator, quoted as RFC 9110 wants."""
    return f'"{version}"'


IfMatch = Annotated[str | None, Header()]


def check_if_match(if_match: str | None, version: int) -> None:
    """428 without If-Match, 412 when it names another version than the stored one."""
    if if_match is None:
        raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED, IF_MATCH_REQUIRED)
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" not in tags and etag(version) not in tags:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, VERSION_MISMATCH)


async def get_for_update(session: AsyncSession, model: type[M], ident: Any) -> M | None:
    """Load a row and lock it until the transaction ends.

    PostgreSQL: SELECT ... FOR UPDATE; another transaction's FOR UPDATE of the row waits here.
    SQLite has no row locks and the clause renders nothing: the engine's BEGIN IMMEDIATE has
    already given this transaction the database's only write lock.
    """
    # populate_existing: an object already in the session is refreshed with the locked row
    return await session.get(model, ident, with_for_update=True, populate_existing=True)
