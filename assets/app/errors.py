"""Database failures a client can retry, answered as 503 with Retry-After instead of 500."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger(__name__)

DATABASE_BUSY = "Database busy, retry shortly"
DATABASE_UNAVAILABLE = "Database unavailable, retry shortly"


def _retry_later(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "1"})


async def pool_timeout_handler(_request: Request, exc: Exception) -> JSONResponse:
    # every pooled connection stayed busy for pool_timeout seconds
    logger.warning("database pool exhausted: %s", exc)
    return _retry_later(DATABASE_BUSY)


async def connect_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    # asyncpg raises the socket's own error (ConnectionRefusedError) when the server is down
    logger.warning("database unreachable: %s", exc)
    return _retry_later(DATABASE_UNAVAILABLE)


async def database_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    # a lost connection (server restart, pg_terminate_backend, proxy timeout) or a locked
    # SQLite file is worth a retry; any other database error is a bug and stays a 500
    if not isinstance(exc, DBAPIError):
        raise exc
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        # exc.orig: the driver's message without the SQL and its parameters, which may hold
        # personal data
        logger.warning("database unavailable (%s): %s", type(exc).__name__, exc.orig)
        return _retry_later(DATABASE_UNAVAILABLE)
    raise exc


def add_database_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PoolTimeoutError, pool_timeout_handler)
    app.add_exception_handler(ConnectionError, connect_error_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
