"""Keyset cursors: values bound through the column types, and bounds that follow the key type."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest
from httpx import AsyncClient
from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app import repository
from app.models import Post, User
from app.pagination import (
    INT4_MAX,
    INT8_MAX,
    InvalidCursorError,
    decode_cursor,
    encode_cursor,
    int4_key,
    int8_key,
)

NOON = datetime(2024, 1, 1, 12, 30, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


async def three_posts(session: AsyncSession) -> None:
    author = User(email="keyset@example.com", name="K", hashed_password="x")
    session.add(author)
    await session.flush()
    rows = [
        {"author_id": author.id, "title": str(h), "content": "", "created_at": NOON.replace(hour=h)}
        for h in (11, 12, 13)
    ]
    await session.execute(insert(Post), rows)


async def test_page_posts_cursor_offset_does_not_change_the_page(session: AsyncSession) -> None:
    await three_posts(session)
    # 12:30Z and 14:30+02:00 are one instant: the page after it holds the 12:30 and 11:30 posts
    utc_page, _ = await repository.page_posts(session, after=(NOON, INT4_MAX), limit=10)
    local_page, _ = await repository.page_posts(
        session, after=(NOON.astimezone(PLUS_TWO), INT4_MAX), limit=10
    )
    assert [p.title for p in utc_page] == ["12", "11"]
    assert [p.title for p in local_page] == ["12", "11"]


async def test_tuple_of_bound_values_compares_cursor_offset_as_text_on_sqlite(
    session: AsyncSession,
) -> None:
    """The naive comparison, tuple_(*after): its DateTime bind keeps the cursor's own offset."""
    await three_posts(session)
    after = (NOON.astimezone(PLUS_TWO), INT4_MAX)
    stmt = (
        select(Post.title)
        .where(tuple_(Post.created_at, Post.id) < tuple_(*after))
        .order_by(Post.created_at.desc())
    )
    titles = (await session.scalars(stmt)).all()
    if session.get_bind().dialect.name != "sqlite":
        # PostgreSQL compares timestamptz values as instants, whatever the offset
        assert titles == ["12", "11"]
        return
    # 14:30 compared as text with the stored UTC times: the 13:30 post leaks into the page
    assert titles == ["13", "12", "11"]


async def test_read_posts_cursor_round_trips_with_other_offsets(
    client: AsyncClient, session: AsyncSession
) -> None:
    await three_posts(session)
    await session.commit()
    cursor = encode_cursor(NOON.astimezone(PLUS_TWO), INT4_MAX)
    response = await client.get("/posts", params={"cursor": cursor})
    assert response.status_code == 200
    assert [p["title"] for p in response.json()["data"]] == ["12", "11"]


@pytest.mark.parametrize(
    ("parse", "good", "bad"),
    [(int4_key, INT4_MAX, INT4_MAX + 1), (int8_key, INT8_MAX, INT8_MAX + 1)],
    ids=["int4", "int8"],
)
def test_decode_cursor_bounds_follow_the_key_type(
    parse: Callable[[str], int], good: int, bad: int
) -> None:
    assert decode_cursor(encode_cursor(NOON, good), parse) == (NOON, good)
    for key in (bad, 0, -1):
        with pytest.raises(InvalidCursorError):
            decode_cursor(encode_cursor(NOON, key), parse)


def test_decode_cursor_with_uuid_keys() -> None:
    key = uuid4()
    assert decode_cursor(encode_cursor(NOON, key), UUID) == (NOON, key)
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(NOON, 7), UUID)
    # an int4 cursor refuses a UUID, and the other way round
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(NOON, key), int4_key)


async def test_read_posts_cursor_beyond_int4_is_422(client: AsyncClient) -> None:
    cursor = encode_cursor(NOON, INT4_MAX + 1)
    assert (await client.get("/posts", params={"cursor": cursor})).status_code == 422
    assert (await client.get(f"/users/{INT4_MAX + 1}")).status_code == 422
    assert (await client.get(f"/users/{INT4_MAX}")).status_code == 404


async def test_keyset_on_timestamp_alone_skips_tied_rows(session: AsyncSession) -> None:
    author = User(email="ties@example.com", name="T", hashed_password="x")
    session.add(author)
    await session.flush()
    # five posts, the last four created in the same instant
    stamps = [NOON.replace(hour=11)] + [NOON] * 4
    rows = [
        {"author_id": author.id, "title": str(i), "content": "", "created_at": stamp}
        for i, stamp in enumerate(stamps)
    ]
    await session.execute(insert(Post), rows)

    # wrong: order and compare on created_at alone; the next page starts after the cursor's
    # timestamp, so the tied rows the first page did not reach are never shown
    seen: list[str] = []
    after: datetime | None = None
    while True:
        stmt = select(Post).order_by(Post.created_at.desc()).limit(2)
        if after is not None:
            stmt = stmt.where(Post.created_at < after)
        page = (await session.scalars(stmt)).all()
        if not page:
            break
        seen += [p.title for p in page]
        after = page[-1].created_at
    assert len(seen) == 3  # two of the four tied posts never shown

    # taught: (created_at, id) in the order and in the cursor: every row once, in order
    titles: list[str] = []
    cursor: tuple[datetime, int] | None = None
    while True:
        posts, next_cursor = await repository.page_posts(session, after=cursor, limit=2)
        titles += [p.title for p in posts]
        if next_cursor is None:
            break
        cursor = decode_cursor(next_cursor, int4_key)
    assert titles == ["4", "3", "2", "1", "0"]
