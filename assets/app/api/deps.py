"""Request parameters and dependencies shared by the routes."""

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import engine
from app.pagination import decode_cursor

# the largest INTEGER in both SQLite and PostgreSQL's int4 id columns: a larger id is a 422,
# not a driver overflow (500)
MAX_ID = 2**31 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


def _valid_cursor(cursor: str | None) -> str | None:
    # InvalidCursorError is a ValueError: pydantic reports it as a 422 in the same shape as
    # every other invalid parameter, the shape the OpenAPI schema documents
    if cursor:
        decode_cursor(cursor)
    return cursor


CursorQuery = Annotated[str | None, Query(max_length=200), AfterValidator(_valid_cursor)]


def get_engine() -> AsyncEngine:
    """The application's engine, as a dependency that tests can override."""
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
