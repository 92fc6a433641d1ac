"""Example tests of the posts endpoints and the keyset-paged feed; each runs on both backends."""

from datetime import UTC, datetime

import pytest
from httpx import AsyncClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Post, User


async def make_author(client: AsyncClient) -> int:
    body = {"email": "author@example.com", "name": "Author", "password": "correct horse"}
    response = await client.post("/users", json=body)
    assert response.status_code == 201, response.text
    user_id: int = response.json()["id"]
    return user_id


async def test_create_user_post(client: AsyncClient) -> None:
    author_id = await make_author(client)
    response = await client.post(
        f"/users/{author_id}/posts", json={"title": "First", "content": "Hello"}
    )
    assert response.status_code == 201
    post = response.json()
    assert post["author_id"] == author_id
    assert post["title"] == "First"
    assert datetime.fromisoformat(post["created_at"]).utcoffset() is not None


async def test_create_user_post_missing_author(client: AsyncClient) -> None:
    response = await client.post("/users/424242/posts", json={"title": "Orphan"})
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.parametrize("body", [{"title": ""}, {"title": "x" * 201}, {"title": "t", "x": 1}])
async def test_create_user_post_invalid_body(client: AsyncClient, body: dict[str, object]) -> None:
    author_id = await make_author(client)
    response = await client.post(f"/users/{author_id}/posts", json=body)
    assert response.status_code == 422


async def test_read_user_posts(client: AsyncClient) -> None:
    author_id = await make_author(client)
    for title in ("a", "b", "c"):
        await client.post(f"/users/{author_id}/posts", json={"title": title})
    response = await client.get(f"/users/{author_id}/posts", params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [p["title"] for p in body["data"]] == ["a", "b"]
    assert (await client.get("/users/424242/posts")).status_code == 404


async def test_delete_user_deletes_their_posts(client: AsyncClient) -> None:
    author_id = await make_author(client)
    await client.post(f"/users/{author_id}/posts", json={"title": "Hello"})
    assert (await client.delete(f"/users/{author_id}")).status_code == 204
    assert (await client.get("/posts")).json()["data"] == []


async def test_read_posts_keyset_returns_every_row_once(
    client: AsyncClient, session: AsyncSession
) -> None:
    author = User(email="many@example.com", name="Many", hashed_password="x")
    session.add(author)
    await session.flush()
    # 25 posts in three groups sharing one timestamp each: only the id tie-breaker orders them
    stamps = [datetime(2024, 1, day, 12, tzinfo=UTC) for day in (1, 2, 3)]
    rows = [
        {"author_id": author.id, "title": f"p{i}", "content": "", "created_at": stamps[i % 3]}
        for i in range(25)
    ]
    await session.execute(insert(Post), rows)
    await session.commit()

    seen: list[tuple[str, int]] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/posts", params=params)
        assert response.status_code == 200
        page = response.json()
        seen += [(p["created_at"], p["id"]) for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25
    assert len(set(seen)) == 25
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("cursor", ["garbage", "MjAyNC0wMS0wMXwx", "", "!!!"])
async def test_read_posts_invalid_cursor(client: AsyncClient, cursor: str) -> None:
    response = await client.get("/posts", params={"cursor": cursor})
    assert response.status_code == (200 if cursor == "" else 422)


@pytest.mark.parametrize("limit", [0, 101, -1])
async def test_read_posts_limit_bounds(client: AsyncClient, limit: int) -> None:
    response = await client.get("/posts", params={"limit": limit})
    assert response.status_code == 422
