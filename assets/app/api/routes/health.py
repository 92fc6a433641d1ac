"""GET /health: 200 when the database answers, 503 when it does not."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(engine: EngineDep) -> JSONResponse:
    # a connection of its own, not SessionDep: there is no transaction to commit, and a
    # failed connect is the answer here, not an error for the session dependency to handle
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (DBAPIError, OSError):
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
