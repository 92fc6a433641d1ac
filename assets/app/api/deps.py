"""Request parameters shared by the routes."""

from typing import Annotated

from fastapi import Path, Query

# the largest INTEGER in both SQLite and PostgreSQL's int4 id columns: a larger id is a 422,
# not a driver overflow (500)
MAX_ID = 2**31 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
