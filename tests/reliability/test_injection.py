"""Injection and limits: SQL meta-characters are data; every limit is a 422 before the database."""

import pytest
from httpx import AsyncClient

# quotes, statement and comment markers, LIKE wildcards, the escape characters of LIKE
# (backslash, and "/" which SQLAlchemy's autoescape uses)
META = "a'b\"c;d--e/*f*/g\\h%i_j/k"
INJECTION = "x'); DROP TABLE users; --"
USER = {"email": "meta@example.com", "name": "Meta", "password": "long-enough"}


async def create_user(client: AsyncClient, **fields: str) -> dict[str, object]:
    response = await client.post("/users", json=USER | fields)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("text", [META, INJECTION])
async def test_create_user_stores_sql_text_literally(client: AsyncClient, text: str) -> None:
    email = text.replace(" ", "").lower() + "@example.com"
    user = await create_user(client, name=text, email=email, password=text + "12345678")
    assert (user["name"], user["email"]) == (text, email)
    assert (await client.get(f"/users/{user['id']}")).json() == user
    # the table is still there, and holds exactly this row
    assert (await client.get("/users")).json()["count"] == 1


@pytest.mark.parametrize("text", [META, INJECTION])
async def test_update_user_stores_sql_text_literally(client: AsyncClient, text: str) -> None:
    user = await create_user(client)
    response = await client.patch(f"/users/{user['id']}", json={"name": text})
    assert response.status_code == 200
    assert (await client.get(f"/users/{user['id']}")).json()["name"] == text


@pytest.mark.parametrize("text", [META, INJECTION])
async def test_create_post_stores_sql_text_literally(client: AsyncClient, text: str) -> None:
    user = await create_user(client)
    response = await client.post(
        f"/users/{user['id']}/posts", json={"title": text, "content": text}
    )
    assert response.status_code == 201
    [post] = (await client.get(f"/users/{user['id']}/posts")).json()["data"]
    assert (post["title"], post["content"]) == (text, text)


NUL = "nul\x00byte"
REFUSED_BODIES = [
    ("post", "/users", USER | {"name": NUL}),
    ("post", "/users", USER | {"email": "nul\x00@example.com"}),
    ("post", "/users", USER | {"password": NUL + "12345678"}),
    ("post", "/users", USER | {"name": "x" * 101}),
    ("post", "/users", USER | {"email": "x" * 309 + "@example.com"}),
    ("post", "/users", USER | {"password": "x" * 129}),
    ("post", "/users", USER | {"name": 12}),
    ("patch", "/users/{id}", {"name": NUL}),
    ("patch", "/users/{id}", {"name": "x" * 101}),
    ("post", "/users/{id}/posts", {"title": NUL}),
    ("post", "/users/{id}/posts", {"title": "t", "content": NUL}),
    ("post", "/users/{id}/posts", {"title": "x" * 201}),
    ("post", "/users/{id}/posts", {"title": "t", "content": "x" * 10_001}),
]


@pytest.mark.parametrize(("method", "path", "body"), REFUSED_BODIES)
async def test_write_refuses_nul_and_overlong_text(
    client: AsyncClient, method: str, path: str, body: dict[str, object]
) -> None:
    user = await create_user(client)
    response = await client.request(method, path.format(id=user["id"]), json=body)
    assert response.status_code == 422, response.text
    assert (await client.get("/users")).json()["count"] == 1
    assert (await client.get(f"/users/{user['id']}")).json() == user


REFUSED_QUERIES = [
    "/users?q=nul%00byte",
    "/users?q=" + "x" * 101,
    "/posts?cursor=nul%00byte",
    "/posts?cursor=" + "x" * 201,
    "/posts?cursor=%27%3B--",
    "/users?limit=0",
    "/users?limit=101",
    "/users?limit=9223372036854775808",
    "/users?offset=-1",
    "/users?offset=2147483648",
    "/users/0",
    "/users/-1",
    "/users/2147483648",
    "/users/18446744073709551616",
    "/users/1%27%20OR%201=1",
    "/users/2147483648/posts",
    "/posts?limit=-9223372036854775809",
]


@pytest.mark.parametrize("url", REFUSED_QUERIES)
async def test_read_refuses_out_of_range_parameters(client: AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 422, response.text
