"""The FastAPI application: routers, engine disposal at shutdown, and database errors as 503."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.api.routes import health, posts, users
from app.db import engine


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    # close pooled connections so the server does not keep them until its own timeout
    await engine.dispose()


app = FastAPI(title="app", lifespan=lifespan)
app.include_router(users.router)
app.include_router(posts.router)
app.include_router(health.router)


@app.exception_handler(PoolTimeoutError)
async def pool_timeout_handler(_request: Request, _exc: PoolTimeoutError) -> JSONResponse:
    # every pooled connection stayed busy for pool_timeout seconds: ask the client to retry
    return JSONResponse(
        {"detail": "Database busy, retry shortly"}, status_code=503, headers={"Retry-After": "1"}
    )
