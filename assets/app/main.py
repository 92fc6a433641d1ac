"""The FastAPI application: routers, engine disposal at shutdown, errors answered by cause."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api.routes import health, posts, users
from app.db import engine
from app.errors import add_error_handlers


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # nothing connects at startup: the app starts while the database is down, and
    # /health/ready reports it until it comes back
    yield
    # close the pooled connections while their event loop still runs: each says goodbye to
    # the server now, instead of staying open for as long as this process lives, or being
    # garbage-collected at exit ("unclosed connection" warnings)
    await engine.dispose()


app = FastAPI(title="app", lifespan=lifespan)
app.include_router(users.router)
app.include_router(posts.router)
app.include_router(health.router)
add_error_handlers(app)
