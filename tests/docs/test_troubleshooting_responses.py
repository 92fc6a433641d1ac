"""The response-model section of references/troubleshooting.md, reproduced.

The wrong pattern: a response model that inherits the input model's rules, on a row written
by raw SQL; the fix is assets/app/schemas.py's UserPublic, typed as stored.
"""

import traceback
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import ConfigDict, ValidationError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.schemas import UserBase, UserPublic
from tests.troubleshooting_doc import assert_quoted


class NaiveUserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: int


async def test_stored_row_fails_response_model_with_input_rules(session: AsyncSession) -> None:
    await session.execute(
        text(
            "INSERT INTO users (email, name, hashed_password) VALUES ('admin@localhost', 'A', 'x')"
        )
    )
    user = await session.scalar(select(User.id))
    row = await session.get(User, user)
    app = FastAPI()

    @app.get("/users/{user_id}", response_model=NaiveUserPublic)
    async def read_user(user_id: int) -> User:
        assert row is not None
        return row

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        with pytest.raises(Exception) as caught:
            await client.get(f"/users/{user}")
    shown = "".join(traceback.format_exception_only(caught.value))
    assert_quoted("string-should-match-pattern-in-a-response", shown)
    # a handler that validates the rows itself, as read_users does, fails the same way
    with pytest.raises(ValidationError) as refused:
        NaiveUserPublic.model_validate(row)
    shown = "".join(traceback.format_exception_only(refused.value))
    assert_quoted("string-should-match-pattern-in-a-response", shown, index=1)
    assert UserPublic.model_validate(row).email == "admin@localhost"


REPRODUCED: dict[str, list[Callable[..., object]]] = {
    "string-should-match-pattern-in-a-response": [
        test_stored_row_fails_response_model_with_input_rules
    ],
}
