"""The /posts feed, paged by keyset cursor."""

from fastapi import APIRouter

from app import repository
from app.api.deps import CursorQuery, Limit
from app.db import ReadSessionDep
from app.pagination import decode_cursor, int4_key
from app.schemas import PostPublic, PostsPage

router = APIRouter(prefix="/posts", tags=["posts"])


@router.get("", response_model=PostsPage)
async def read_posts(
    session: ReadSessionDep,
    cursor: CursorQuery = None,
    limit: Limit = 20,
) -> PostsPage:
    # CursorQuery has already refused a malformed cursor with a 422
    after = decode_cursor(cursor, int4_key) if cursor else None
    posts, next_cursor = await repository.page_posts(session, after=after, limit=limit)
    return PostsPage(data=[PostPublic.model_validate(p) for p in posts], next_cursor=next_cursor)
