"""Counting and keyset cursors shared by the repository's list queries."""

import base64
import binascii
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


class InvalidCursorError(ValueError):
    """The cursor was not produced by encode_cursor."""


async def count_rows(session: AsyncSession, stmt: Select[Any]) -> int:
    """Count the rows stmt would return, ignoring its ORDER BY, LIMIT and OFFSET."""
    # ordering a subquery that is only counted makes the database sort for nothing
    inner = stmt.order_by(None).limit(None).offset(None).subquery()
    return (await session.execute(select(func.count()).select_from(inner))).scalar_one()


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|")
        created_at = datetime.fromisoformat(stamp)
        position = int(row_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("cursor is not one this API returned") from None
    if created_at.tzinfo is None or not 0 < position < 2**31:
        raise InvalidCursorError("cursor is not one this API returned")
    return created_at, position
