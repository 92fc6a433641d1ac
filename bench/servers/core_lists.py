"""The asset app with GET /users served from Core rows (`mappings()`) instead of ORM objects.

Run: DATABASE_URL=postgresql+asyncpg://... uvicorn bench.servers.core_lists:app
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app import repository
from app.main import app
from app.models import User
from app.pagination import count_rows

__all__ = ["app"]

# the columns UserPublic shows: a list endpoint never needs the password hash
PUBLIC_USER_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    User.id,
    User.email,
    User.name,
    User.is_active,
    User.created_at,
    User.updated_at,
)


async def core_list_users(
    session: AsyncSession, *, q: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[Sequence[RowMapping], int]:
    """repository.list_users as Core rows: no identity map, no ORM object per row."""
    stmt = select(*PUBLIC_USER_COLUMNS)
    if q:
        stmt = stmt.where(
            or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True))
        )
    page = await session.execute(stmt.order_by(User.id).limit(limit).offset(offset))
    return page.mappings().all(), await count_rows(session, stmt)


# the route calls repository.list_users through the module, so it now gets Core rows, which
# UserPublic.model_validate takes as mappings
repository.list_users = core_list_users  # type: ignore[assignment]
