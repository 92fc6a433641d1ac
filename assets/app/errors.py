"""Errors answered in one place: database errors by cause (503 with Retry-After when a retry
can succeed, 500 when it cannot, logged without the statement's values), and 422s that render
whatever the client sent."""

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.db.errors import Cause, cause, describe

logger = logging.getLogger(__name__)

DATABASE_BUSY = "Database busy, retry shortly"
DATABASE_TIMEOUT = "Database did not answer in time, retry shortly"
DATABASE_UNAVAILABLE = "Database unavailable, retry shortly"
RETRY_LATER = {
    Cause.BUSY: DATABASE_BUSY,
    Cause.TIMEOUT: DATABASE_TIMEOUT,
    Cause.UNAVAILABLE: DATABASE_UNAVAILABLE,
}
INTERNAL_ERROR = "Internal Server Error"


def _retry_later(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def pool_timeout_handler(_request: Request, exc: Exception) -> JSONResponse:
    # every pooled connection stayed busy for pool_timeout seconds
    logger.warning("database pool exhausted: %s", exc)
    return _retry_later(DATABASE_BUSY)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    found = cause(exc)
    where = f"{request.method} {request.url.path}"
    if found in RETRY_LATER:
        logger.warning("%s: database %s: %s", where, found.value, describe(exc))
        return _retry_later(RETRY_LATER[found])
    if found is Cause.SCHEMA:
        # a deploy that started the new code before migrating; /health/ready reports it too
        logger.error(
            "%s: the database lacks a table or column the code uses, run the migrations "
            "(alembic upgrade head): %s",
            where,
            describe(exc),
        )
    else:
        # a bug: answered here, so that the server does not log the exception chain, whose
        # PostgreSQL DETAIL repeats the row's values
        logger.error("%s: database error %s [SQL: %s]", where, describe(exc), exc.statement)
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)


def _renderable(value: Any) -> Any:
    # JSONResponse refuses NaN and Infinity (allow_nan=False) and cannot encode a lone
    # surrogate as UTF-8: either would turn the 422 into a 500
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_renderable(key): _renderable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_renderable(item) for item in value]
    return value


async def request_validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, rendered safely: the default handler echoes the invalid input, and a NaN
    or a lone surrogate in it fails to render (a 500); here they are echoed as text."""
    assert isinstance(exc, RequestValidationError)
    errors = _renderable(jsonable_encoder(exc.errors()))
    return JSONResponse({"detail": errors}, status_code=422)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    # only SQLAlchemy's errors: a socket error from any other client is not the database's
    app.add_exception_handler(PoolTimeoutError, pool_timeout_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
