"""Properties: search matches text literally; keyset pages never skip or repeat."""

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import Post, User
from app.schemas import UserCreate

EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# SQL's wildcards and quotes, SQLAlchemy's autoescape character "/", and letters in both cases
ASCII_TEXT = st.text(alphabet="aAbBzZ%_\\/'\";-* ", min_size=1, max_size=12)
# any storable text: no NUL, no lone surrogates (the schemas refuse both with 422)
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1)


async def insert_users(connection: AsyncConnection, names: list[str]) -> list[str]:
    """Insert users as the API would store them (validated, stripped); return the names."""
    stored = []
    for i, name in enumerate(names):
        user_in = UserCreate(email=f"user{i}@example.com", name=name, password="long-enough")
        values = user_in.model_dump(exclude={"password"}) | {"hashed_password": "scrypt$test"}
        await connection.execute(insert(User).values(values))
        stored.append(user_in.name)
    return stored


async def insert_author(connection: AsyncConnection) -> int:
    values = {"email": "author@example.com", "name": "Author", "hashed_password": "scrypt$test"}
    result = await connection.execute(insert(User).values(values).returning(User.id))
    author_id: int = result.scalar_one()
    return author_id


async def search(client: AsyncClient, q: str) -> list[str]:
    response = await client.get("/users", params={"q": q, "limit": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return sorted(user["name"] for user in body["data"])


@EXAMPLES
@given(names=st.lists(ASCII_TEXT.filter(str.strip), min_size=1, max_size=6), q=ASCII_TEXT)
async def test_search_users_matches_ascii_text_like_python(
    client: AsyncClient, connection: AsyncConnection, names: list[str], q: str
) -> None:
    """Case-insensitive substring search equals Python's, for ASCII text: SQLite's lower()
    folds ASCII letters only, PostgreSQL's folds all of Unicode, so beyond ASCII the two
    backends (and Python) differ."""
    example = await connection.begin_nested()
    try:
        stored = await insert_users(connection, names)
        expected = sorted(
            name
            for i, name in enumerate(stored)
            if q.lower() in name.lower() or q.lower() in f"user{i}@example.com"
        )
        assert await search(client, q) == expected
    finally:
        await example.rollback()


@EXAMPLES
@given(name=ANY_TEXT.filter(lambda s: len(s.strip()) <= 100 and s.strip()), data=st.data())
async def test_search_users_finds_any_substring_of_name(
    client: AsyncClient, connection: AsyncConnection, name: str, data: st.DataObject
) -> None:
    example = await connection.begin_nested()
    try:
        [stored] = await insert_users(connection, [name])
        start = data.draw(st.integers(0, len(stored) - 1))
        q = stored[start : data.draw(st.integers(start + 1, len(stored)))]
        assert await search(client, q[:100]) == [stored]
    finally:
        await example.rollback()


BASE = datetime(2026, 1, 1, tzinfo=UTC)


@EXAMPLES
@given(
    # few distinct timestamps for many rows: most rows tie on created_at
    stamps=st.lists(st.integers(0, 2), min_size=0, max_size=30),
    limit=st.integers(1, 7),
)
async def test_page_posts_returns_every_row_once_in_order(
    client: AsyncClient, connection: AsyncConnection, stamps: list[int], limit: int
) -> None:
    example = await connection.begin_nested()
    try:
        author_id = await insert_author(connection)
        rows = []
        for stamp in stamps:
            created_at = BASE + timedelta(microseconds=stamp)
            post_id = (
                await connection.execute(
                    insert(Post)
                    .values(title="t", content="", author_id=author_id, created_at=created_at)
                    .returning(Post.id)
                )
            ).scalar_one()
            rows.append((created_at, post_id))
        expected = [post_id for _, post_id in sorted(rows, reverse=True)]
        seen: list[int] = []
        cursor = None
        # one page more than the rows can fill: a cursor that loops fails the bound
        for _ in range(len(stamps) // limit + 2):
            params: dict[str, str | int] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/posts", params=params)).json()
            seen += [post["id"] for post in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert cursor is None
        assert seen == expected
    finally:
        await example.rollback()
