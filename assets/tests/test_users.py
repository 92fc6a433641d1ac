"""Example tests of the /users endpoints; each runs on SQLite and PostgreSQL."""

import asyncio
from datetime import datetime

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app import repository
from app.schemas import UserCreate

NEW_USER = {"email": "ada@example.com", "name": "Ada Lovelace", "password": "analytical-engine"}


async def create_user(client: AsyncClient, **fields: str) -> dict[str, object]:
    response = await client.post("/users", json=NEW_USER | fields)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_create_user_returns_public_fields(client: AsyncClient) -> None:
    user = await create_user(client, email="Ada@Example.com")
    assert user["email"] == "ada@example.com"
    assert user["is_active"] is True
    assert set(user) == {"id", "email", "name", "is_active", "created_at", "updated_at"}


async def test_create_user_duplicate_email(client: AsyncClient) -> None:
    await create_user(client)
    response = await client.post("/users", json=NEW_USER | {"email": "ADA@example.com"})
    assert response.status_code == 409
    assert response.json() == {"detail": "A user with this email already exists"}


@pytest.mark.parametrize(
    "body",
    [
        NEW_USER | {"is_active": False},
        NEW_USER | {"hashed_password": "x"},
        NEW_USER | {"email": "not-an-email"},
        NEW_USER | {"name": "x" * 101},
        NEW_USER | {"name": "nul\x00byte"},
        NEW_USER | {"password": "short"},
    ],
    ids=["is_active", "hashed_password", "email", "long_name", "nul", "short_password"],
)
async def test_create_user_invalid_body(client: AsyncClient, body: dict[str, object]) -> None:
    response = await client.post("/users", json=body)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ('"\\ud800"', "unable to parse raw data as a unicode string"),
        ("NaN", "Input should be a valid string"),
        ("Infinity", "Input should be a valid string"),
    ],
    ids=["lone_surrogate", "nan", "infinity"],
)
async def test_create_user_unrenderable_input_is_422(
    client: AsyncClient, name: str, reason: str
) -> None:
    # Python's json module accepts these; FastAPI's own 422 echoes them and fails to render
    body = '{"email": "ada@example.com", "name": ' + name + ', "password": "analytical-engine"}'
    response = await client.post(
        "/users", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "name"]
    assert reason in error["msg"]


async def test_create_user_duplicate_email_under_concurrency(
    committing_client: AsyncClient,
) -> None:
    # return_exceptions: every request has finished before the asserts and the table cleanup
    outcomes = await asyncio.gather(
        *(committing_client.post("/users", json=NEW_USER) for _ in range(10)),
        return_exceptions=True,
    )
    responses = [r for r in outcomes if not isinstance(r, BaseException)]
    assert len(responses) == 10, outcomes
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    listed = await committing_client.get("/users")
    assert listed.json()["count"] == 1


async def test_read_user(client: AsyncClient) -> None:
    user = await create_user(client)
    response = await client.get(f"/users/{user['id']}")
    assert response.status_code == 200
    assert response.json() == user


@pytest.mark.parametrize("user_id", ["0", "2147483648", "99999999999999999999", "abc"])
async def test_read_user_id_out_of_range(client: AsyncClient, user_id: str) -> None:
    response = await client.get(f"/users/{user_id}")
    assert response.status_code == 422


async def test_read_user_missing(client: AsyncClient) -> None:
    response = await client.get("/users/2147483647")
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


async def test_read_users_pages_and_counts(client: AsyncClient) -> None:
    for i in range(5):
        await create_user(client, email=f"user{i}@example.com")
    response = await client.get("/users", params={"limit": 2, "offset": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    assert [u["email"] for u in body["data"]] == ["user3@example.com", "user4@example.com"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 2**31}, {"q": "x" * 101}]
)
async def test_read_users_bounds(client: AsyncClient, params: dict[str, object]) -> None:
    response = await client.get("/users", params=params)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("url", "status"),
    [("/users?q=%ED%A0%80", 200), ("/users/%ED%A0%80", 422), ("/users?limit=NaN", 422)],
    ids=["surrogate_in_query", "surrogate_in_path", "nan_limit"],
)
async def test_read_users_undecodable_url_is_not_500(
    client: AsyncClient, url: str, status: int
) -> None:
    # %ED%A0%80 is "\ud800" as UTF-8 would write it: the server decodes it to U+FFFD
    response = await client.get(url)
    assert response.status_code == status, response.text


@pytest.mark.parametrize("q", ["%", "_", "\\", "50%_off\\"])
async def test_read_users_search_matches_literally(client: AsyncClient, q: str) -> None:
    await create_user(client, email="plain@example.com", name="Plain Name")
    await create_user(client, email="odd@example.com", name="50%_off\\ sale")
    response = await client.get("/users", params={"q": q})
    assert response.status_code == 200
    assert [u["email"] for u in response.json()["data"]] == ["odd@example.com"]
    assert response.json()["count"] == 1


async def test_update_user_changes_name_and_updated_at(client: AsyncClient) -> None:
    user = await create_user(client)
    response = await client.patch(f"/users/{user['id']}", json={"name": "Countess"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Countess"
    before = datetime.fromisoformat(str(user["updated_at"]))
    after = datetime.fromisoformat(updated["updated_at"])
    assert after.tzinfo is not None and after.utcoffset() is not None
    assert after > before
    assert updated["created_at"] == user["created_at"]
    assert (await client.get(f"/users/{user['id']}")).json() == updated


@pytest.mark.parametrize(
    "body", [{"is_active": False}, {"hashed_password": "x"}, {"name": None}, {"email": None}]
)
async def test_update_user_refuses_other_fields(
    client: AsyncClient, body: dict[str, object]
) -> None:
    user = await create_user(client)
    response = await client.patch(f"/users/{user['id']}", json=body)
    assert response.status_code == 422
    assert (await client.get(f"/users/{user['id']}")).json() == user


async def test_update_user_duplicate_email(client: AsyncClient) -> None:
    await create_user(client, email="first@example.com")
    second = await create_user(client, email="second@example.com")
    response = await client.patch(f"/users/{second['id']}", json={"email": "first@example.com"})
    assert response.status_code == 409


async def test_update_user_missing(client: AsyncClient) -> None:
    response = await client.patch("/users/12345", json={"name": "x"})
    assert response.status_code == 404


async def test_delete_user(client: AsyncClient) -> None:
    user = await create_user(client)
    response = await client.delete(f"/users/{user['id']}")
    assert response.status_code == 204
    assert (await client.get(f"/users/{user['id']}")).status_code == 404
    assert (await client.delete(f"/users/{user['id']}")).status_code == 404


async def test_authenticate_user(session: AsyncSession) -> None:
    user = await repository.create_user(session, UserCreate.model_validate(NEW_USER))
    password = NEW_USER["password"]
    assert await repository.authenticate_user(session, "ADA@example.com", password) is user
    assert await repository.authenticate_user(session, "ada@example.com", "wrong-password") is None
    assert await repository.authenticate_user(session, "nobody@example.com", password) is None
