"""Response models return what is stored: rows the input rules would refuse still read back.

Rows written by raw SQL (a script, a migration, an older version of the rules) are read through
every GET route of the asset app; the input models' rules apply to requests only.
"""

from httpx import AsyncClient
from pydantic import ConfigDict, ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.schemas import UserBase, UserPublic

# each refused (or, the padded one, altered) by UserCreate or PostCreate; storable on both backends
USERS = [
    ("admin@localhost", "Admin"),
    ("Mixed.Case@Example.COM", "  padded  "),
    ("empty-name@example.com", ""),
]
POSTS = [("", "no title"), ("  spaced  ", "x"), ("long content", "y" * 10_001)]
# SQLite stores these too; PostgreSQL refuses NUL in text and a name over VARCHAR(100)
SQLITE_ONLY_USERS = [("nul@example.com", "nul\x00byte"), ("long@example.com", "n" * 150)]


async def seed(session: AsyncSession) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    users = USERS + (SQLITE_ONLY_USERS if session.get_bind().dialect.name == "sqlite" else [])
    for email, name in users:
        await session.execute(
            text("INSERT INTO users (email, name, hashed_password) VALUES (:email, :name, 'x')"),
            {"email": email, "name": name},
        )
    author = await session.scalar(text("SELECT id FROM users WHERE email = 'admin@localhost'"))
    for title, content in POSTS:
        await session.execute(
            text("INSERT INTO posts (title, content, author_id) VALUES (:title, :content, :a)"),
            {"title": title, "content": content, "a": author},
        )
    await session.commit()
    return users, POSTS


async def test_read_users_returns_rows_the_input_rules_refuse(
    client: AsyncClient, session: AsyncSession
) -> None:
    users, _ = await seed(session)
    listed = await client.get("/users", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert [(u["email"], u["name"]) for u in listed.json()["data"]] == users
    for user in listed.json()["data"]:
        one = await client.get(f"/users/{user['id']}")
        assert one.status_code == 200, one.text
        assert one.json() == user
    searched = await client.get("/users", params={"q": "localhost"})
    assert [u["email"] for u in searched.json()["data"]] == ["admin@localhost"]


async def test_read_posts_returns_rows_the_input_rules_refuse(
    client: AsyncClient, session: AsyncSession
) -> None:
    _, posts = await seed(session)
    author = await session.scalar(select(User.id).where(User.email == "admin@localhost"))
    by_author = await client.get(f"/users/{author}/posts")
    assert by_author.status_code == 200, by_author.text
    assert [(p["title"], p["content"]) for p in by_author.json()["data"]] == posts
    feed = await client.get("/posts")
    assert feed.status_code == 200, feed.text
    assert sorted((p["title"], p["content"]) for p in feed.json()["data"]) == sorted(posts)


async def test_output_model_with_input_rules_refuses_stored_rows(session: AsyncSession) -> None:
    class NaiveUserPublic(UserBase):
        # the pattern this replaces: the response model inherits the input rules
        model_config = ConfigDict(from_attributes=True)

        id: int

    users, _ = await seed(session)
    rows = (await session.scalars(select(User).order_by(User.id))).all()
    refused = []
    for row in rows:
        assert (UserPublic.model_validate(row).email, row.name) == (row.email, row.name)
        try:
            NaiveUserPublic.model_validate(row)
        except ValidationError:
            refused.append(row.email)
    # every seeded row but one is refused (a 500 for the whole list), and that one comes
    # back altered, lower-cased and stripped, which no status code would reveal
    assert refused == [email for email, _ in users if email != "Mixed.Case@Example.COM"]
    padded = next(r for r in rows if r.name == "  padded  ")
    altered = NaiveUserPublic.model_validate(padded)
    assert (altered.email, altered.name) == ("mixed.case@example.com", "padded")
