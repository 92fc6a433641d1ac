"""The reference server: the asset app's GET /users/{id} and POST /users on a raw asyncpg pool.

Same path validation, request and response models, and password hashing as the asset app,
so the difference between the two servers is the database layer. GET /ping is the ceiling.
Run: DATABASE_URL=postgresql://... uvicorn bench.servers.raw:app
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
from fastapi import FastAPI, HTTPException, Request, status

from app.api.deps import IdPath
from app.db import utc_now
from app.schemas import UserCreate, UserPublic
from app.security import hash_password

COLUMNS = "id, email, name, is_active, created_at, updated_at"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    app.state.pool = await asyncpg.create_pool(dsn, min_size=5, max_size=15)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/users/{user_id}", response_model=UserPublic)
async def read_user(request: Request, user_id: IdPath) -> Any:
    row = await request.app.state.pool.fetchrow(
        f"SELECT {COLUMNS} FROM users WHERE id = $1", user_id
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "User not found")
    return dict(row)


@app.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(request: Request, user_in: UserCreate) -> Any:
    hashed = await asyncio.to_thread(hash_password, user_in.password)
    now = utc_now()
    try:
        row = await request.app.state.pool.fetchrow(
            "INSERT INTO users (email, name, hashed_password, is_active, created_at, updated_at)"
            f" VALUES ($1, $2, $3, true, $4, $4) RETURNING {COLUMNS}",
            user_in.email,
            user_in.name,
            hashed,
            now,
        )
    except asyncpg.UniqueViolationError:
        raise HTTPException(status.HTTP_409_CONFLICT, "Email taken") from None
    return dict(row)
