"""Request parameters and dependencies shared by the routes."""

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import engine
from app.pagination import INT4_MAX, decode_cursor, int4_key

# an id is bounded by its key column's type, so a larger one is a 422, not a driver overflow
# (500): Mapped[int] keys are INTEGER (int4); a BigInteger key takes le=INT8_MAX, a UUID key
# the type uuid.UUID, which has no bound to check
IdPath = Annotated[int, Path(ge=1, le=INT4_MAX)]
Limit = Annotated[int, Query(ge=1, le=100)]
# skipping more rows than this is a scan no list should ask for: page by cursor instead
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _valid_cursor(cursor: str | None) -> str | None:
    # InvalidCursorError is a ValueError: pydantic reports it as a 422 in the same shape as
    # every other invalid parameter, the shape the OpenAPI schema documents
    if cursor:
        # the posts feed's cursor: a timestamp and an Integer id
        decode_cursor(cursor, int4_key)
    return cursor


CursorQuery = Annotated[str | None, Query(max_length=200), AfterValidator(_valid_cursor)]


def get_engine() -> AsyncEngine:
    """The application's engine, as a dependency that tests can override."""
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
