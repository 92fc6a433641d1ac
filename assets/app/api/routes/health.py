"""Health probes: /health/live never touches the database, /health/ready checks it in a bound."""

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.api.deps import EngineDep
from app.db.errors import describe
from app.db.readiness import schema_problems

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

# seconds the readiness check may take, under the 1 s a probe waits by default (Kubernetes'
# timeoutSeconds): a database that answers later counts as not ready
READY_TIMEOUT = 0.8


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)


@router.get("/health/live")
async def live() -> dict[str, str]:
    # no database here: an outage must not make the orchestrator restart every instance
    return {"status": "ok"}


# /health stays as an alias, so probes set up before /health/ready keep working
@router.get("/health", include_in_schema=False)
@router.get("/health/ready")
async def ready(engine: EngineDep) -> JSONResponse:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            problems = await schema_problems(engine)
    except TimeoutError:
        logger.warning("not ready: the database did not answer within %s s", READY_TIMEOUT)
        return _not_ready("no answer in time")
    except PoolTimeoutError:
        return _not_ready("busy")
    except DBAPIError as exc:
        logger.warning("not ready: %s", describe(exc))
        return _not_ready("unreachable")
    if problems:
        reason = "; ".join(problems)
        logger.error("not ready: %s; run the migrations (alembic upgrade head)", reason)
        return _not_ready(reason)
    return JSONResponse({"status": "ok", "database": "ok"})
