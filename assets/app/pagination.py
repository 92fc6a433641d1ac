"""Counting and keyset cursors shared by the repository's list queries."""

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

# the ids a key column holds are a property of its type: Mapped[int] is INTEGER, 4 bytes on
# PostgreSQL (SQLite's INTEGER holds 8, so only PostgreSQL would fail), BigInteger 8 bytes
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1

Key = TypeVar("Key", int, UUID)


class InvalidCursorError(ValueError):
    """The cursor was not produced by encode_cursor."""


async def count_rows(session: AsyncSession, stmt: Select[Any]) -> int:
    """Count the rows stmt would return, ignoring its ORDER BY, LIMIT and OFFSET."""
    # ordering a subquery that is only counted makes the database sort for nothing
    inner = stmt.order_by(None).limit(None).offset(None).subquery()
    return (await session.execute(select(func.count()).select_from(inner))).scalar_one()


def int4_key(text: str) -> int:
    """Parse the id of an Integer key; ValueError outside 1..2**31 - 1."""
    return _int_key(text, INT4_MAX)


def int8_key(text: str) -> int:
    """Parse the id of a BigInteger key; ValueError outside 1..2**63 - 1."""
    return _int_key(text, INT8_MAX)


def _int_key(text: str, maximum: int) -> int:
    value = int(text)
    if not 1 <= value <= maximum:
        raise ValueError(f"id out of range: {value}")
    return value


def encode_cursor(created_at: datetime, key: int | UUID) -> str:
    raw = f"{created_at.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, parse_key: Callable[[str], Key]) -> tuple[datetime, Key]:
    """The (created_at, key) pair of a cursor; parse_key is the key type's parser: int4_key,
    int8_key or uuid.UUID."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, key = raw.split("|")
        created_at = datetime.fromisoformat(stamp)
        position = parse_key(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("cursor is not one this API returned") from None
    if created_at.tzinfo is None:
        raise InvalidCursorError("cursor is not one this API returned")
    return created_at, position
