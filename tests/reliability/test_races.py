"""Races: concurrent requests race on one unique key, one row, one author."""

import asyncio

from httpx import AsyncClient

CONCURRENCY = 50
SAME = "same@example.com"
NEW_USER = {"email": "race@example.com", "name": "Racer", "password": "long-enough"}


async def test_create_user_same_email_50_times_concurrently(
    committing_client: AsyncClient,
) -> None:
    async with asyncio.timeout(60):
        responses = await asyncio.gather(
            *(committing_client.post("/users", json=NEW_USER) for _ in range(CONCURRENCY))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (CONCURRENCY - 1)
    listed = (await committing_client.get("/users", params={"q": "race@"})).json()
    assert listed["count"] == 1


async def test_update_user_concurrently_keeps_one_consistent_row(
    committing_client: AsyncClient,
) -> None:
    user = (await committing_client.post("/users", json=NEW_USER)).json()
    names = [f"Name {i}" for i in range(CONCURRENCY)]
    async with asyncio.timeout(60):
        responses = await asyncio.gather(
            *(committing_client.patch(f"/users/{user['id']}", json={"name": n}) for n in names)
        )
    assert [r.status_code for r in responses] == [200] * CONCURRENCY
    final = (await committing_client.get(f"/users/{user['id']}")).json()
    # the row is one whole write (its name with its own updated_at), never a mix; which
    # write commits last is not ordered by updated_at, set in Python at flush time
    assert final in [r.json() for r in responses]
    assert (await committing_client.get("/users")).json()["count"] == 1


async def test_update_users_to_same_email_concurrently(committing_client: AsyncClient) -> None:
    ids = []
    for i in range(10):
        body = NEW_USER | {"email": f"user{i}@example.com"}
        ids.append((await committing_client.post("/users", json=body)).json()["id"])
    async with asyncio.timeout(60):
        responses = await asyncio.gather(
            *(
                committing_client.patch(f"/users/{i}", json={"email": "same@example.com"})
                for i in ids
            )
        )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    listed = (await committing_client.get("/users", params={"q": "same@"})).json()
    assert listed["count"] == 1


async def test_create_posts_concurrently_counts_every_post(committing_client: AsyncClient) -> None:
    user = (await committing_client.post("/users", json=NEW_USER)).json()
    async with asyncio.timeout(60):
        responses = await asyncio.gather(
            *(
                committing_client.post(f"/users/{user['id']}/posts", json={"title": f"Post {i}"})
                for i in range(CONCURRENCY)
            )
        )
    assert [r.status_code for r in responses] == [201] * CONCURRENCY
    assert len({r.json()["id"] for r in responses}) == CONCURRENCY
    posts = await committing_client.get(f"/users/{user['id']}/posts", params={"limit": 100})
    assert posts.json()["count"] == CONCURRENCY


async def test_create_posts_while_author_deleted_leaves_no_orphans(
    committing_client: AsyncClient,
) -> None:
    user = (await committing_client.post("/users", json=NEW_USER)).json()
    creates = [
        committing_client.post(f"/users/{user['id']}/posts", json={"title": f"Post {i}"})
        for i in range(CONCURRENCY)
    ]
    # the delete races the creates from the middle of the batch
    creates.insert(CONCURRENCY // 2, committing_client.delete(f"/users/{user['id']}"))
    async with asyncio.timeout(60):
        responses = await asyncio.gather(*creates)
    deleted = responses.pop(CONCURRENCY // 2)
    assert deleted.status_code == 204
    assert {r.status_code for r in responses} <= {201, 404}
    # every post that was created before the delete went with its author (ON DELETE CASCADE)
    feed = await committing_client.get("/posts", params={"limit": 100})
    assert feed.json()["data"] == []
    assert (await committing_client.get(f"/users/{user['id']}")).status_code == 404
