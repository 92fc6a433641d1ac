"""Queries and writes for users and posts; handlers call these and never build SQL."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.errors import unique_violation, violates_foreign_key
from app.models import Post, User
from app.pagination import count_rows, encode_cursor
from app.schemas import PostCreate, UserCreate, UserUpdate
from app.security import hash_password, needs_rehash, verify_dummy, verify_password


class EmailTakenError(Exception):
    """Another user already has this email address."""


# the constraint the naming convention gives User.email's unique=True
EMAIL_UNIQUE = "uq_users_email"


class AuthorNotFoundError(Exception):
    """The post's author does not exist (or was deleted meanwhile)."""


# the constraint the naming convention gives Post.author_id's ForeignKey
AUTHOR_FOREIGN_KEY = "fk_posts_author_id_users"


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def list_users(
    session: AsyncSession, *, q: str | None = None, limit: int = 20, offset: int = 0
) -> tuple[Sequence[User], int]:
    """One page of users (id order) and the number of users matching q."""
    stmt = select(User)
    if q:
        # autoescape=True makes % and _ in the user's text match themselves, not any text
        stmt = stmt.where(
            or_(User.name.icontains(q, autoescape=True), User.email.icontains(q, autoescape=True))
        )
    users = (await session.scalars(stmt.order_by(User.id).limit(limit).offset(offset))).all()
    return users, await count_rows(session, stmt)


async def create_user(session: AsyncSession, user_in: UserCreate) -> User:
    # hashing is slow on purpose; a worker thread keeps the event loop serving other requests
    hashed = await asyncio.to_thread(hash_password, user_in.password)
    user = User(email=user_in.email, name=user_in.name, hashed_password=hashed)
    session.add(user)
    try:
        # flush now, so a duplicate surfaces here as 409 rather than at commit as 500;
        # the unique constraint, not a prior SELECT, is what holds under concurrency
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) != EMAIL_UNIQUE:
            raise
        raise EmailTakenError(user_in.email) from None
    return user


async def authenticate_user(session: AsyncSession, email: str, password: str) -> User | None:
    """The user with this email and password, or None; whether it has is_active is the
    caller's decision."""
    user = await get_user_by_email(session, email)
    if user is None:
        # an unknown email costs a hash too, or the answer would come back early for it
        await asyncio.to_thread(verify_dummy, password)
        return None
    if not await asyncio.to_thread(verify_password, password, user.hashed_password):
        return None
    if needs_rehash(user.hashed_password):
        # the one moment the plain password is at hand: store it with the current parameters
        user.hashed_password = await asyncio.to_thread(hash_password, password)
        await session.flush()
    return user


async def update_user(session: AsyncSession, user: User, user_in: UserUpdate) -> User:
    # exclude_unset: a PATCH changes only the fields the client sent
    for field, value in user_in.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    try:
        await session.flush()
    except IntegrityError as exc:
        if unique_violation(exc) != EMAIL_UNIQUE:
            raise
        raise EmailTakenError(user_in.email) from None
    return user


async def delete_user(session: AsyncSession, user_id: int) -> bool:
    """Delete in one statement; the database's ON DELETE CASCADE removes the posts."""
    result = await session.execute(delete(User).where(User.id == user_id))
    return cast(CursorResult[Any], result).rowcount > 0


async def create_post(session: AsyncSession, author_id: int, post_in: PostCreate) -> Post:
    post = Post(author_id=author_id, **post_in.model_dump())
    session.add(post)
    try:
        await session.flush()
    except IntegrityError as exc:
        # the foreign key, checked by the database, also catches an author deleted meanwhile;
        # any other violation is not a missing author, and reaches the error handlers
        if not violates_foreign_key(exc, AUTHOR_FOREIGN_KEY):
            raise
        raise AuthorNotFoundError(author_id) from None
    return post


async def list_user_posts(
    session: AsyncSession, author_id: int, *, limit: int = 20, offset: int = 0
) -> tuple[Sequence[Post], int]:
    stmt = select(Post).where(Post.author_id == author_id)
    posts = (await session.scalars(stmt.order_by(Post.id).limit(limit).offset(offset))).all()
    return posts, await count_rows(session, stmt)


async def page_posts(
    session: AsyncSession, *, after: tuple[datetime, int] | None = None, limit: int = 20
) -> tuple[Sequence[Post], str | None]:
    """Newest posts first, a page at a time; pass the returned cursor to get the next page."""
    stmt = select(Post).order_by(Post.created_at.desc(), Post.id.desc())
    if after is not None:
        # id breaks ties between equal timestamps, so no row is skipped or repeated; a plain
        # tuple binds each value through its column's type (UTCDateTime turns an offset into
        # UTC), where tuple_(*after) would bind a plain DateTime that SQLite compares as text
        stmt = stmt.where(tuple_(Post.created_at, Post.id) < after)
    posts = (await session.scalars(stmt.limit(limit + 1))).all()
    if len(posts) <= limit:
        return posts, None
    last = posts[limit - 1]
    return posts[:limit], encode_cursor(last.created_at, last.id)
