"""The /users endpoints."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from app import repository
from app.api.deps import IdPath, Limit, Offset
from app.db import ReadSessionDep, SessionDep
from app.models import Post, User
from app.schemas import (
    PostCreate,
    PostPublic,
    PostsPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)

router = APIRouter(prefix="/users", tags=["users"])

EMAIL_TAKEN = "A user with this email already exists"
USER_NOT_FOUND = "User not found"

# NUL is refused here: PostgreSQL cannot compare text containing it
SearchText = Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(session: SessionDep, user_in: UserCreate) -> User:
    try:
        return await repository.create_user(session, user_in)
    except repository.EmailTakenError:
        raise HTTPException(status.HTTP_409_CONFLICT, EMAIL_TAKEN) from None


@router.get("", response_model=UsersPublic)
async def read_users(
    session: ReadSessionDep, q: SearchText = None, limit: Limit = 20, offset: Offset = 0
) -> UsersPublic:
    users, count = await repository.list_users(session, q=q, limit=limit, offset=offset)
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count)


@router.get("/{user_id}", response_model=UserPublic)
async def read_user(session: ReadSessionDep, user_id: IdPath) -> User:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    return user


@router.patch("/{user_id}", response_model=UserPublic)
async def update_user(session: SessionDep, user_id: IdPath, user_in: UserUpdate) -> User:
    user = await repository.get_user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    try:
        return await repository.update_user(session, user, user_in)
    except repository.EmailTakenError:
        raise HTTPException(status.HTTP_409_CONFLICT, EMAIL_TAKEN) from None


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(session: SessionDep, user_id: IdPath) -> Response:
    if not await repository.delete_user(session, user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{user_id}/posts", response_model=PostPublic, status_code=status.HTTP_201_CREATED)
async def create_user_post(session: SessionDep, user_id: IdPath, post_in: PostCreate) -> Post:
    try:
        return await repository.create_post(session, user_id, post_in)
    except repository.AuthorNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND) from None


@router.get("/{user_id}/posts", response_model=PostsPublic)
async def read_user_posts(
    session: ReadSessionDep, user_id: IdPath, limit: Limit = 20, offset: Offset = 0
) -> PostsPublic:
    if await repository.get_user(session, user_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, USER_NOT_FOUND)
    posts, count = await repository.list_user_posts(session, user_id, limit=limit, offset=offset)
    return PostsPublic(data=[PostPublic.model_validate(p) for p in posts], count=count)
