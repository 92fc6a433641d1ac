"""Fuzzing: schemathesis fuzzes every operation of the app's OpenAPI schema, on both backends."""

from functools import cache
from typing import Any

import pytest
import schemathesis
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from app.main import app
from app.models import Post, User

SCHEMA = schemathesis.openapi.from_dict(app.openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]
# an operation without parameters or body (GET /health) has no invalid request to generate
CASES = [
    pytest.param(op, mode, id=f"{op.label.replace(' ', '')}-{mode}")
    for op in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or op.path_parameters or op.query or op.body
]
# text that must never reach a client: the password hash, SQL, driver names
LEAKS = ["hashed_password", "scrypt$", "SELECT ", "INSERT ", "UPDATE ", "sqlalchemy", "asyncpg"]
LEAKS += ["sqlite3", "Traceback"]


@cache
def strategy(operation: schemathesis.APIOperation, mode: GenerationMode) -> Any:
    return operation.as_strategy(mode)


async def seed(connection: AsyncConnection) -> None:
    """One user and one post, so that some generated ids find a row."""
    user_id = (
        await connection.execute(
            insert(User)
            .values(email="seed@example.com", name="Seed", hashed_password="scrypt$seed")
            .returning(User.id)
        )
    ).scalar_one()
    await connection.execute(insert(Post).values(title="Seed", content="", author_id=user_id))


def request_kwargs(kwargs: dict[str, object]) -> dict[str, object]:
    """schemathesis serialises a case for requests; httpx names the raw body content."""
    kwargs = dict(kwargs)
    kwargs.pop("cookies", None)
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    return kwargs


@pytest.mark.parametrize(("operation", "mode"), CASES)
@settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fuzz_operation_gives_no_server_error_or_leak(
    client: AsyncClient,
    connection: AsyncConnection,
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    data: st.DataObject,
) -> None:
    # the client fixture is shared by every example: a savepoint per example undoes its rows
    example = await connection.begin_nested()
    try:
        await seed(connection)
        case = data.draw(strategy(operation, mode))
        kwargs = request_kwargs(case.as_transport_kwargs(base_url="http://test"))
        response = await client.request(**kwargs)  # type: ignore[arg-type]
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
        sent = str(response.request.url) + response.request.content.decode(errors="replace")
        url = connection.engine.url
        for secret in [*LEAKS, url.render_as_string(hide_password=False), str(url.database)]:
            if secret not in sent:
                assert secret not in response.text, (secret, response.text)
    finally:
        await example.rollback()
